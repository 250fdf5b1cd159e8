// Client envelope: the MAIL FROM and RCPT TO command lines a client sends for one
// message, with the ESMTP parameters the server's extensions allow, and the checks
// that keep a message from being sent where it cannot arrive intact.
//
// Trust: addresses and DSN values come from the spool, i.e. from whoever submitted
// the message. They are written into command lines, so anything that could end or
// extend a line (CR, LF, other controls, '<' and '>') makes the address unusable
// rather than being sent (command injection into the next server).
//
// RFC 5321 4.1.1.2-3 (MAIL, RCPT); 1870 (SIZE=); 6152 (BODY=8BITMIME); 6531 3.4
// (SMTPUTF8 parameter) and 3.5 (no SMTPUTF8 at the server: do not send); 3461 4
// (RET, ENVID, NOTIFY, ORCPT; ENVID and ORCPT xtext-encoded by smtp/dsn_params.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/extensions.hpp"
#include "smtp/reply.hpp"

namespace cartero::smtp {

struct ClientRecipient {
    std::string address;  // without angle brackets
    std::string notify;   // RFC 3461 NOTIFY value ("SUCCESS,FAILURE", "NEVER") or empty
    std::string orcpt;    // decoded "rfc822;bob@example.org" (or just the address), or empty
};

struct ClientMessage {
    std::string sender;                    // without angle brackets; empty for the null sender
    std::vector<ClientRecipient> recipients;
    std::string ret;                       // "FULL", "HDRS" or empty
    std::string envid;                     // decoded; xtext-encoded on the wire
    std::shared_ptr<const std::string> data;  // the message as queued (header + body)
    bool eight_bit = false;                // the submitter gave BODY=8BITMIME (the content is not scanned)
    bool smtputf8 = false;                 // the envelope or header needs SMTPUTF8
    // Stop after RCPT TO: no DATA, the transaction reset (RFC 5321 4.1.1.5).
    // `cartero check` asks whether the server would take the message without
    // sending it; accepted recipients get their RCPT reply as result.
    bool envelope_only = false;
};

// A message-wide reason not to send at all, as a permanent reply made up by the
// client: too big for the peer's SIZE (552 5.3.4), needs SMTPUTF8 (553 5.6.7) or
// 8BITMIME (554 5.6.3) the peer lacks, or an unusable sender (501 5.1.7).
// Checked before anything is sent, so nothing half-sent needs undoing.
std::optional<Reply> message_refusal(const ClientMessage& message, const Extensions& ext);

// A reason not to send one recipient: an unusable address (553 5.1.3).
std::optional<Reply> recipient_refusal(const ClientRecipient& recipient);

// The message needs SMTPUTF8: the flag says so, or an address is not ASCII.
bool needs_smtputf8(const ClientMessage& message);

// "MAIL FROM:<a@b> SIZE=123 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x\r\n"
std::string mail_command(const ClientMessage& message, const Extensions& ext);
// "RCPT TO:<c@d> NOTIFY=FAILURE ORCPT=rfc822;c@d\r\n"
std::string rcpt_command(const ClientRecipient& recipient, const Extensions& ext);

}  // namespace cartero::smtp
