// Replies: every reply text the server core sends, in one place, exactly as in the
// contract .notes/replies.md (integration tests assert these strings).
//
// Trust: the texts are cartero's own; the only peer-derived parts are a validated
// ESMTP keyword and a queue ID, neither of which can hold CR or LF.
//
// RFCs: 5321 4.2 (reply codes), 3463 and 2034 (enhanced codes; none on the greeting,
// EHLO/HELO and 334/354 replies), 4954 6 (AUTH codes), 3207 (STARTTLS), 3030 (BDAT).
#pragma once

#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

#include "smtp/reply.hpp"

namespace cartero::smtp::replies {

// Connection and session
Reply greeting(std::string_view hostname);
Reply ehlo(std::string_view hostname, const std::vector<std::string>& extensions);
Reply helo(std::string_view hostname);
Reply ok();
Reply bye();
Reply too_many_errors(std::string_view hostname);
Reply timeout(std::string_view hostname);
Reply shutting_down(std::string_view hostname);

// Command grammar and sequence
Reply syntax(std::string_view usage);  // 501 5.5.4 Syntax: <usage>
Reply need_helo();
Reply unknown_command();
Reply line_too_long();
Reply nul_in_command();
Reply transaction_in_progress();
Reply bdat_in_progress();
Reply vrfy();
Reply expn_disabled();
Reply help();

// STARTTLS
Reply tls_ready();
Reply tls_already_active();
Reply tls_unavailable();
Reply starttls_first();

// AUTH
Reply auth_required();
Reply auth_not_enabled();
Reply auth_needs_tls();
Reply already_authenticated();
Reply unknown_mechanism();
Reply auth_challenge(std::string_view base64_prompt);
Reply auth_aborted();
Reply auth_ok();
Reply auth_failed();
Reply app_password_required();
Reply auth_malformed();
Reply auth_temporary();
Reply auth_throttled(std::string_view hostname);

// MAIL, RCPT
Reply bad_sender();
Reply nested_mail();
Reply size_over_limit();
Reply unsupported_parameter(std::string_view keyword);
Reply duplicate_parameter(std::string_view keyword);
Reply bad_ret();
Reply bad_envid();
Reply bad_notify();
Reply bad_orcpt();
Reply smtputf8_required();
Reply too_many_messages();
Reply sender_ok();
Reply need_mail();
Reply bad_recipient();
Reply too_many_recipients();
Reply recipient_ok();

// DATA, BDAT
Reply need_rcpt();
Reply start_data();
Reply queued(std::string_view queue_id);
// The other way round, on the client side: the queue ID in a server's 250 to
// the end of DATA, where its text says "queued as ID" (cartero, Postfix,
// Exim's "id=ID"), or Gmail's "OK <time> <ID> - gsmtp". Empty when the text
// carries none that can be told apart. The ID is printable ASCII only.
std::string queue_id_in(const Reply& reply);
Reply message_too_big();
Reply bare_line_ending();
Reply nul_in_message();
Reply too_many_hops();
Reply chunk_received(std::uint64_t octets);

}  // namespace cartero::smtp::replies
