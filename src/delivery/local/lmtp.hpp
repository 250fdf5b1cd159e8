// LmtpCourier: local delivery into a mail store (Dovecot) over LMTP, RFC 2033,
// on a Unix socket or a loopback/LAN TCP address ([[lmtp]], delivery.lmtp).
//
// One call delivers one copy to one mailbox: LHLO (once per connection), MAIL
// FROM:<envelope sender>, RCPT TO:<mailbox>, DATA, and the reply for that
// recipient after the final dot (RFC 2033 4.2: LMTP answers once per accepted
// recipient there, so the mail store says per mailbox whether the copy is
// stored). The outcome (STYLE rule 7):
//   2xx after the dot          delivered: the mail store owns the copy
//   4xx at RCPT or after dot   temporary (quota over, store locked...): retried
//   5xx at RCPT or after dot   permanent (no such user there, 5.2.2 full...): bounced
//   cannot connect, lost connection, timeout, LHLO refused even with 5xx:
//                              temporary — the mail store is ours, so its
//                              being down or misconfigured is an operator's
//                              problem, never a reason to return mail (Postfix
//                              lmtp does the same with a 5xx greeting by
//                              default, smtp_skip_5xx_greeting).
// The dialogue is smtp::ClientSession (bounded, fuzzed) driven by
// SmtpConnection with lmtp = true and no TLS: the connection never leaves the
// host or the operator's network (the address is an IP literal or a socket).
//
// The message is sent as queued: no Return-Path or Delivered-To is prepended
// (MaildirCourier prepends both because it is the final delivery agent).
// Dovecot's LMTP is the final delivery agent here and adds Return-Path from
// MAIL FROM and its own Delivered-To / Received lines from the envelope; a
// second copy of each would be wrong (RFC 5321 4.4: Return-Path is added once,
// at final delivery).
//
// Connections: an idle connection is kept for delivery.connection_reuse_time
// (at most `idle_connections` of them, one per concurrent local delivery is
// all that is ever useful) and reused for the next copy (the client session
// sends RSET first when a transaction stopped half-way). A kept connection
// the server closed meanwhile (Dovecot: "421 4.4.2 Disconnected for
// inactivity") fails before any of the message is sent; that delivery is
// tried once more on a fresh connection. Idle connections past their time are
// closed without QUIT, so a stalled server cannot hold a delivery worker.
//
// Trust: the LMTP server is the operator's own but its replies still go through
// the bounded sans-IO client. Message data is untrusted and passed verbatim.
// Privileges: connect to the socket (Dovecot's default is mode 0666 on
// /run/dovecot/lmtp) or outbound TCP; nothing else.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/listen_address.hpp"
#include "delivery/courier.hpp"
#include "delivery/remote/smtp_connection.hpp"

namespace cartero::delivery {

struct LmtpOptions {
    std::string lhlo_name = "localhost";               // hostname
    ConnectionTimeouts timeouts;                        // delivery.connect/command/data_timeout
    std::chrono::milliseconds reuse_time{std::chrono::seconds(5)};  // delivery.connection_reuse_time; 0 = never
    std::size_t idle_connections = 4;                   // delivery.local_concurrency
    friend bool operator==(const LmtpOptions&, const LmtpOptions&) = default;
};

// The options for an LMTP server from the [delivery] keys.
LmtpOptions lmtp_options(const config::Config& config);

// Where to connect for an address of lmtp.address / delivery.lmtp.
Peer lmtp_peer(const config::LmtpAddress& address);

class LmtpCourier final : public Courier {
public:
    LmtpCourier(Peer peer, LmtpOptions options);
    ~LmtpCourier() override;  // closes the idle connections
    LmtpCourier(const LmtpCourier&) = delete;
    LmtpCourier& operator=(const LmtpCourier&) = delete;

    // Thread-safe: each call uses a connection of its own.
    DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override;
    void abandon() override { abandoned_ = true; }

    // Idle connections kept now (tests).
    std::size_t idle() const;

private:
    struct Idle {
        std::unique_ptr<SmtpConnection> connection;
        std::chrono::steady_clock::time_point since;
    };

    std::unique_ptr<SmtpConnection> take_idle();
    void keep_idle(std::unique_ptr<SmtpConnection> connection);
    void close_expired(bool all);

    Peer peer_;
    ConnectionOptions connection_options_;
    LmtpOptions options_;
    mutable std::mutex mutex_;
    std::vector<Idle> idle_;  // most recently used last
    std::atomic<bool> abandoned_{false};  // connection_options_.abandon points here
};

}  // namespace cartero::delivery
