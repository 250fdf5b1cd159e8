// Shared by the bounce tests: a message, its envelope and report inputs.
#pragma once

#include <string>
#include <vector>

#include "bounce/dsn.hpp"

namespace cartero::bounce::testing {

inline const std::string original_message =
    "Received: from client.example (client.example [192.0.2.1]) by mx.example.org\r\n"
    "From: Sender <s@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: quarterly figures\r\n"
    "Message-ID: <orig-1@example.org>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "the figures are attached.\r\n";

inline spool::Envelope envelope() {
    spool::Envelope e;
    e.sender = "s@example.org";
    e.recipients = {"bob@example.net", "carol@example.net", "dave@example.com"};
    e.received_at = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000
    return e;
}

inline ReportInput input(ReportKind kind) {
    ReportInput in;
    in.kind = kind;
    in.hostname = "mx.example.org";
    in.message_id = "<dsn-1@mx.example.org>";
    in.date = 1700003600;
    in.queue_id = "QID123";
    in.boundary_seed = "QID999";
    return in;
}

inline RecipientStatus bob_unknown() {
    RecipientStatus r;
    r.index = 0;
    r.outcome = Outcome::failed;
    r.status = "5.1.1";
    r.remote_mta = "mx1.example.net";
    r.diagnostic = "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown";
    r.last_attempt = 1700000100;
    return r;
}

inline RecipientStatus carol_delayed() {
    RecipientStatus r;
    r.index = 1;
    r.outcome = Outcome::delayed;
    r.status = "4.2.2";
    r.remote_mta = "mx1.example.net";
    r.diagnostic = "452 4.2.2 Mailbox full\nplease try later";
    r.last_attempt = 1700014400;
    r.retry_until = 1700432000;
    return r;
}

}  // namespace cartero::bounce::testing
