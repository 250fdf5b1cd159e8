// Replies: the texts of .notes/replies.md; see replies.hpp.
#include "smtp/replies.hpp"

#include <string>

#include "smtp/dsn_params.hpp"

namespace cartero::smtp::replies {

namespace {

std::string with_host(std::string_view hostname, std::string_view text) {
    return std::string(hostname) + " " + std::string(text);
}

}  // namespace

Reply greeting(std::string_view hostname) { return make_reply(220, "", with_host(hostname, "ESMTP cartero")); }

Reply ehlo(std::string_view hostname, const std::vector<std::string>& extensions) {
    std::string text(hostname);
    for (const auto& extension : extensions) text += "\n" + extension;
    return make_reply(250, "", text);
}

Reply helo(std::string_view hostname) { return make_reply(250, "", hostname); }
Reply ok() { return make_reply(250, "2.0.0", "Ok"); }
Reply bye() { return make_reply(221, "2.0.0", "Bye"); }
Reply too_many_errors(std::string_view h) { return make_reply(421, "4.7.0", with_host(h, "Error: too many errors")); }
Reply timeout(std::string_view h) { return make_reply(421, "4.4.2", with_host(h, "Error: timeout exceeded")); }
Reply shutting_down(std::string_view h) { return make_reply(421, "4.3.2", with_host(h, "Service shutting down")); }

Reply syntax(std::string_view usage) { return make_reply(501, "5.5.4", "Syntax: " + std::string(usage)); }
Reply need_helo() { return make_reply(503, "5.5.1", "Error: send HELO/EHLO first"); }
Reply unknown_command() { return make_reply(502, "5.5.2", "Error: command not recognized"); }
Reply line_too_long() { return make_reply(500, "5.5.2", "Error: line too long"); }
Reply nul_in_command() { return make_reply(500, "5.5.2", "Error: NUL character in command"); }
Reply transaction_in_progress() { return make_reply(503, "5.5.1", "Error: MAIL transaction in progress"); }
// RFC 3030 2: DATA (or MAIL/RCPT) inside a BDAT transaction is a bad sequence.
Reply bdat_in_progress() { return make_reply(503, "5.5.1", "Error: BDAT transaction in progress, send RSET"); }
Reply vrfy() { return make_reply(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery"); }
Reply expn_disabled() { return make_reply(502, "5.5.1", "Error: EXPN not supported"); }
Reply help() { return make_reply(214, "2.0.0", "See RFC 5321 and https://cartero/docs"); }

Reply tls_ready() { return make_reply(220, "2.0.0", "Ready to start TLS"); }
Reply tls_already_active() { return make_reply(503, "5.5.1", "Error: TLS already active"); }
Reply tls_unavailable() { return make_reply(454, "4.7.0", "TLS not available"); }
Reply starttls_first() { return make_reply(530, "5.7.0", "Must issue a STARTTLS command first"); }

Reply auth_required() { return make_reply(530, "5.7.0", "Authentication required"); }
Reply auth_not_enabled() { return make_reply(503, "5.5.1", "Error: authentication not enabled"); }
Reply auth_needs_tls() {
    return make_reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
}
Reply already_authenticated() { return make_reply(503, "5.5.1", "Error: already authenticated"); }
Reply unknown_mechanism() { return make_reply(504, "5.5.4", "Unrecognized authentication type"); }
Reply auth_challenge(std::string_view base64_prompt) { return make_reply(334, "", base64_prompt); }
Reply auth_aborted() { return make_reply(501, "5.7.0", "Authentication aborted"); }
Reply auth_ok() { return make_reply(235, "2.7.0", "Authentication successful"); }
Reply auth_failed() { return make_reply(535, "5.7.8", "Error: authentication failed"); }
Reply app_password_required() { return make_reply(534, "5.7.9", "Application-specific password required"); }
Reply auth_malformed() { return make_reply(501, "5.5.2", "Error: invalid authentication data"); }
Reply auth_temporary() { return make_reply(454, "4.7.0", "Temporary authentication failure"); }
Reply auth_throttled(std::string_view h) {
    return make_reply(421, "4.7.0", with_host(h, "Error: too many authentication failures"));
}

Reply bad_sender() { return make_reply(501, "5.1.7", "Bad sender address syntax"); }
Reply nested_mail() { return make_reply(503, "5.5.1", "Error: nested MAIL command"); }
Reply size_over_limit() { return make_reply(552, "5.3.4", "Message size exceeds fixed limit"); }
Reply unsupported_parameter(std::string_view keyword) {
    return make_reply(555, "5.5.4", "Unsupported parameter: " + std::string(keyword));
}
Reply duplicate_parameter(std::string_view keyword) {
    return make_reply(501, "5.5.4", "Duplicate parameter: " + std::string(keyword));
}
// RFC 3461 4.1-4.4: the DSN parameters' grammar, named in the reply so a client
// author can see which value was wrong and what is expected.
Reply bad_ret() { return make_reply(501, "5.5.4", "Bad RET parameter: use RET=FULL or RET=HDRS"); }
Reply bad_envid() {
    return make_reply(501, "5.5.4", "Bad ENVID parameter: xtext of printable ASCII, at most " +
                                        std::to_string(max_envid_length) + " characters");
}
Reply bad_notify() {
    return make_reply(501, "5.5.4", "Bad NOTIFY parameter: use NEVER or a list of SUCCESS, FAILURE, DELAY");
}
Reply bad_orcpt() {
    return make_reply(501, "5.5.4", "Bad ORCPT parameter: use ORCPT=rfc822;address in xtext, at most " +
                                        std::to_string(max_orcpt_length) + " characters");
}
Reply smtputf8_required() { return make_reply(553, "5.6.7", "SMTPUTF8 is required for a non-ASCII address"); }
Reply too_many_messages() { return make_reply(452, "4.5.3", "Error: too many messages in this session"); }
Reply sender_ok() { return make_reply(250, "2.1.0", "Ok"); }
Reply need_mail() { return make_reply(503, "5.5.1", "Error: need MAIL command"); }
Reply bad_recipient() { return make_reply(501, "5.1.3", "Bad recipient address syntax"); }
Reply too_many_recipients() { return make_reply(452, "4.5.3", "Error: too many recipients"); }
Reply recipient_ok() { return make_reply(250, "2.1.5", "Ok"); }

Reply need_rcpt() { return make_reply(503, "5.5.1", "Error: need RCPT command"); }
Reply start_data() { return make_reply(354, "", "End data with <CR><LF>.<CR><LF>"); }
namespace {

bool id_char(char c) { return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '(' && c != ')' && c != ','; }

// The run of ID characters at `at` (stopping at a space or a final '.').
std::string id_at(std::string_view text, std::size_t at) {
    std::size_t end = at;
    while (end < text.size() && id_char(text[end])) ++end;
    while (end > at && text[end - 1] == '.') --end;
    return std::string(text.substr(at, end - at));
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::string queue_id_in(const Reply& reply) {
    if (!reply.positive()) return {};
    const std::string text = reply.text.substr(0, reply.text.find('\n'));
    const std::string low = lower(text);
    for (const std::string_view marker : {"queued as ", "id="}) {
        const auto at = low.find(marker);
        if (at != std::string::npos) return id_at(text, at + marker.size());
    }
    // Gmail: "OK  1733390000 a640c23a62f3a-aa5f3c1fb4esi123456766b.123 - gsmtp"
    if (low.ends_with(" - gsmtp")) {
        const std::string_view head = std::string_view(text).substr(0, text.size() - 8);
        const auto space = head.rfind(' ');
        return id_at(head, space == std::string_view::npos ? 0 : space + 1);
    }
    return {};
}

Reply queued(std::string_view queue_id) { return make_reply(250, "2.0.0", "Ok: queued as " + std::string(queue_id)); }
Reply message_too_big() { return make_reply(552, "5.3.4", "Message size exceeds fixed maximum message size"); }
Reply bare_line_ending() {
    return make_reply(550, "5.6.0",
                      "Message contains a bare CR or LF: lines must end with CRLF (RFC 5321 2.3.8)");
}
Reply nul_in_message() { return make_reply(550, "5.6.0", "Message contains NUL characters"); }
// RFC 5321 6.3 and RFC 3463 X.4.6 "routing loop detected"; the text is Postfix's.
Reply too_many_hops() { return make_reply(554, "5.4.6", "Error: too many hops"); }
Reply chunk_received(std::uint64_t octets) {
    return make_reply(250, "2.0.0", std::to_string(octets) + " octets received");
}

}  // namespace cartero::smtp::replies
