// ServerSession STARTTLS and AUTH: the TLS switch and the SASL exchange. Credentials
// are never looked at here: the raw base64 responses go to the driver (Authenticate),
// auth/ decodes and verifies them off the I/O thread.
//
// Trust: SASL responses are untrusted and kept undecoded; each line is bounded.
//
// RFCs: 3207 (STARTTLS; 4.2: after the handshake the session starts over, knowing
// nothing from before), 4954 (AUTH; 4: "*" cancels, "=" is an empty initial response,
// lines of at least 12288 octets; 6: reply codes), 4616 (PLAIN), LOGIN
// (draft-murchison-sasl-login: the prompts "Username:" and "Password:").
#include <algorithm>
#include <array>
#include <stdexcept>

#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace cartero::smtp {

// --- STARTTLS (RFC 3207) ---------------------------------------------------------

bool SessionCore::starttls_offered() const {
    return settings.tls_available && !tls && settings.role != Role::submissions;
}

std::optional<Reply> SessionCore::check_starttls(std::string_view argument) const {
    if (!argument.empty()) return replies::syntax("STARTTLS");
    if (tls) return replies::tls_already_active();
    if (!settings.tls_available) return replies::tls_unavailable();
    if (in_transaction()) return replies::transaction_in_progress();
    return std::nullopt;
}

void SessionCore::cmd_starttls(std::string_view argument) {
    if (auto refusal = check_starttls(argument)) return reply(*refusal);
    enter(State::starttls);
    reply(replies::tls_ready());
    // CVE-2011-0411: anything the client pipelined after STARTTLS arrived in plaintext
    // and must not be executed as if it had come through TLS. Drop it all.
    input_used = input.size();
    pending = Pending::tls_handshake;
    queue_action(StartTls{});
}

void SessionCore::tls_started(TlsInfo info) {
    if (state == State::quit) return;  // the session ended (timeout) meanwhile
    if (pending != Pending::tls_handshake) throw std::logic_error("tls_started() without StartTls");
    pending = Pending::nothing;
    input_used = input.size();  // nothing may survive the switch (see cmd_starttls)
    tls = std::move(info);
    helo.clear();
    esmtp = false;
    auth_user.clear();
    enter(State::initial);  // RFC 3207 4.2: the client must send EHLO again
}

void SessionCore::tls_failed() {
    if (state == State::quit) return;  // the session ended (timeout) meanwhile
    if (pending != Pending::tls_handshake) throw std::logic_error("tls_failed() without StartTls");
    pending = Pending::nothing;
    enter(State::quit);  // the stream is in an unknown TLS state: nothing more can be said
    actions.emplace_back(std::in_place_type<Close>);
}

// --- AUTH (RFC 4954) ----------------------------------------------------------------

namespace {

struct MechanismSpec {
    std::string_view name;
    std::vector<std::string_view> prompts;  // the 334 challenge before each response
};

// RFC 4616: PLAIN has one response after an empty challenge; LOGIN asks for the user
// name and the password, base64 of "Username:" and "Password:".
const MechanismSpec* find_mechanism(std::string_view name) {
    static const std::array<MechanismSpec, 2> mechanisms{{
        {"PLAIN", {""}},
        {"LOGIN", {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}},
    }};
    const auto found = std::find_if(mechanisms.begin(), mechanisms.end(),
                                    [&](const MechanismSpec& m) { return iequals(m.name, name); });
    return found == mechanisms.end() ? nullptr : &*found;
}

}  // namespace

bool SessionCore::auth_offered() const { return settings.role != Role::mx && tls && auth_user.empty(); }

std::optional<Reply> SessionCore::check_auth_allowed() const {
    if (settings.role == Role::mx) return replies::auth_not_enabled();
    if (!tls) return replies::auth_needs_tls();
    if (!auth_user.empty()) return replies::already_authenticated();
    if (in_transaction()) return replies::transaction_in_progress();
    return std::nullopt;
}

void SessionCore::cmd_auth(std::string_view argument) {
    if (auto refusal = check_auth_allowed()) return reply(*refusal);
    const std::size_t space = std::min(argument.find(' '), argument.size());
    const std::string_view mechanism_name = argument.substr(0, space);
    const std::string_view initial_response = argument.substr(std::min(space + 1, argument.size()));
    if (mechanism_name.empty()) return reply(replies::syntax("AUTH mechanism"));
    const MechanismSpec* mechanism = find_mechanism(mechanism_name);
    if (!mechanism) return reply(replies::unknown_mechanism());
    sasl = SaslExchange{mechanism->name, &mechanism->prompts, {}};
    // RFC 4954 4: "=" stands for an empty initial response.
    if (!initial_response.empty()) sasl.responses.emplace_back(initial_response == "=" ? "" : initial_response);
    enter(State::auth);
    continue_sasl();
}

// Ask for the next response, or hand the responses to the driver: once all are
// there, or at once when the latest is not base64. RFC 4954 4: such a response is
// refused with 501 5.5.2 and the exchange ends (LOGIN must not go on to ask for
// the password). auth/ answers it `malformed` and counts it as a failed attempt,
// so malformed exchanges are throttled like wrong passwords.
void SessionCore::continue_sasl() {
    const std::size_t answered = sasl.responses.size();
    const bool malformed = answered > 0 && !is_base64(sasl.responses.back());
    if (!malformed && answered < sasl.prompts->size())
        return reply(replies::auth_challenge((*sasl.prompts)[answered]));
    pending = Pending::credential_check;
    queue_action(Authenticate{std::string(sasl.mechanism), std::move(sasl.responses)});
    sasl = {};
}

bool SessionCore::step_sasl_response() {
    const LineResult line = lines.next(unread(), std::max(settings.command_line_length, min_sasl_line_length));
    input_used += line.consumed;
    switch (line.status) {
        case LineStatus::need_more: return false;
        case LineStatus::too_long: end_sasl(replies::line_too_long()); return true;
        case LineStatus::complete: break;
    }
    if (line.line == "*") {
        end_sasl(replies::auth_aborted());  // RFC 4954 4: the client cancelled
        return true;
    }
    sasl.responses.emplace_back(line.line);
    continue_sasl();
    return true;
}

void SessionCore::end_sasl(const Reply& r) {
    sasl = {};
    enter(State::ready);
    reply(r);
}

void SessionCore::auth_finished(const AuthResult& result) {
    if (state == State::quit) return;  // the session ended (timeout) meanwhile
    if (pending != Pending::credential_check) throw std::logic_error("auth_finished() without Authenticate");
    pending = Pending::nothing;
    begin_event("AUTH");
    switch (result.status) {
        case AuthStatus::ok:
            auth_user = result.user;
            return end_sasl(replies::auth_ok());
        case AuthStatus::bad_credentials: return end_sasl(replies::auth_failed());
        case AuthStatus::app_password_required: return end_sasl(replies::app_password_required());
        case AuthStatus::malformed: return end_sasl(replies::auth_malformed());
        case AuthStatus::temporary: return end_sasl(replies::auth_temporary());
        case AuthStatus::throttled: return close(replies::auth_throttled(settings.hostname));
    }
}

}  // namespace cartero::smtp
