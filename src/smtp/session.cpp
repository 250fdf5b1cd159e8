// ServerSession: the core of the sans-IO SMTP server: the action loop, input framing,
// output batching, state changes and the events the driver reports back.
//
// Trust: every byte from feed() is untrusted (see session.hpp and session_impl.hpp
// for the bounds). Driver calls out of sequence are bugs and throw std::logic_error.
//
// RFCs: 5321 4.1.4 (command order), 4.2 (replies), 4.5.3.2 (timeouts, 421 4.4.2),
// 2920 (PIPELINING: every complete command in the input is answered, in order, and
// the answers go out together before the next read), 3207 (STARTTLS), 4954 (AUTH).
#include "smtp/session_impl.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "smtp/command.hpp"
#include "smtp/replies.hpp"

namespace cartero::smtp {

SessionCore::SessionCore(SessionSettings settings_, PeerInfo peer_, const SessionPolicy& policy_,
                          std::optional<TlsInfo> already_tls, SessionObserver* observer_,
                          TransactionLimits* limits_)
    : settings(std::move(settings_)), peer(std::move(peer_)), policy(policy_), observer(observer_), limits(limits_),
      tls(std::move(already_tls)) {
    // The local submission socket: the kernel vouches for the user (see PeerInfo).
    if (settings.role == Role::local) auth_user = peer.local_user;
}

// --- the action loop ---------------------------------------------------------

Action SessionCore::next() {
    for (;;) {
        if (!actions.empty()) {
            Action action = std::move(actions.front());
            actions.pop_front();
            return action;
        }
        if (state == State::quit) return Close{};
        if (pending != Pending::nothing) throw std::logic_error("ServerSession::next() while waiting for the driver");
        if (!step()) return wait_for_input();
    }
}

// Pipelined replies are sent together, just before the session needs more input
// (RFC 2920 3.1: the server may batch; it must not wait for input with replies held).
Action SessionCore::wait_for_input() {
    if (output.empty()) return Read{};
    return Write{std::exchange(output, {}), false};
}

InputMode SessionCore::input_mode() const {
    if (octets_to_discard > 0) return InputMode::discard;
    if (reading_chunk) return InputMode::chunk;
    if (state == State::data) return InputMode::data;
    if (state == State::auth) return InputMode::sasl_response;
    return InputMode::commands;
}

// One unit of work: the greeting, one command line, one SASL line, or one slice of
// message data. False when nothing can be done without more input.
bool SessionCore::step() {
    if (state == State::connect) {
        enter(State::initial);
        reply(replies::greeting(settings.hostname));
        return true;
    }
    switch (input_mode()) {
        case InputMode::discard: return step_discard();
        case InputMode::chunk: return step_chunk();
        case InputMode::data: return step_data();
        case InputMode::sasl_response: return step_sasl_response();
        case InputMode::commands: break;
    }
    if (shutdown_requested) {
        begin_event("SHUTDOWN");
        close(replies::shutting_down(settings.hostname));
        return true;
    }
    return step_command();
}

bool SessionCore::step_command() {
    const LineResult line = lines.next(unread(), settings.command_line_length);
    input_used += line.consumed;
    switch (line.status) {
        case LineStatus::need_more: return false;
        case LineStatus::too_long:
            begin_event("UNKNOWN");
            counting_errors = true;
            reply(replies::line_too_long());
            return true;
        case LineStatus::complete: dispatch(line.line); return true;
    }
    return false;
}

// RFC 3030 2: the octets of a refused BDAT chunk are read and dropped, never parsed
// as commands.
bool SessionCore::step_discard() {
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(octets_to_discard, unread().size()));
    input_used += take;
    octets_to_discard -= take;
    return take > 0;
}

// --- commands ------------------------------------------------------------------

// The dispatcher: look up, check the table flags, run the handler. No per-command logic.
void SessionCore::dispatch(std::string_view line) {
    if (contains_nul(line)) {
        begin_event("UNKNOWN");
        counting_errors = true;
        return reply(replies::nul_in_command());
    }
    const Command command = parse_command(line);
    const CommandSpec& spec = find_command(command.verb);
    current_verb = spec.verb;
    counting_errors = (spec.flags & counts_errors) != 0;
    if (auto refusal = check_allowed(spec)) {
        if (spec.on_refused) (this->*spec.on_refused)(command.argument);
        return reply(*refusal);
    }
    (this->*spec.handler)(command.argument);
}

std::optional<Reply> SessionCore::check_allowed(const CommandSpec& spec) const {
    if ((spec.flags & needs_helo) && state == State::initial) return replies::need_helo();
    // RFC 3207 4: a server that requires TLS answers 530 to everything else first.
    const bool tls_required = settings.role == Role::submission && !tls;
    if (tls_required && !(spec.flags & pre_tls)) return replies::starttls_first();
    return std::nullopt;
}

// --- replies, states, actions ----------------------------------------------------

void SessionCore::begin_event(std::string_view verb) {
    current_verb = verb;
    counting_errors = false;
}

void SessionCore::enter(State to) {
    if (to == state) return;
    const State from = state;
    state = to;
    if (observer) observer->state_changed(from, to);
}

// Every reply goes through here: observer, output buffer, and the bad-command limit
// (Postfix smtpd_hard_error_limit: after the Nth counted 5xx reply, 421 and close).
void SessionCore::reply(const Reply& r) {
    if (observer) observer->replied(current_verb, r);
    output += r.wire();
    if (counting_errors && r.permanent() && ++bad_commands >= settings.bad_commands) {
        counting_errors = false;
        close(replies::too_many_errors(settings.hostname));
    }
}

// Actions keep wire order: replies written so far go out before the action.
void SessionCore::queue_action(Action action) {
    if (!output.empty()) actions.push_back(Write{std::exchange(output, {}), false});
    actions.push_back(std::move(action));
}

void SessionCore::close(const Reply& r) {
    if (message_open) queue_action(MessageAbort{});
    message_open = false;
    reply(r);
    enter(State::quit);
    actions.push_back(Write{std::exchange(output, {}), true});
    actions.emplace_back(std::in_place_type<Close>);
}

SessionFacts SessionCore::facts() const {
    return SessionFacts{settings.role, &peer, tls, helo, auth_user};
}

bool SessionCore::in_transaction() const {
    return state == State::mail || state == State::rcpt || state == State::bdat;
}

// --- events from the driver -----------------------------------------------------

void SessionCore::feed(std::string_view bytes) {
    input.erase(0, input_used);
    input_used = 0;
    input.append(bytes);
}

void SessionCore::peer_closed() {
    if (state == State::quit) return;
    if (message_open) actions.emplace_back(std::in_place_type<MessageAbort>);
    message_open = false;
    pending = Pending::nothing;
    output.clear();  // nobody left to read it
    enter(State::quit);
    actions.emplace_back(std::in_place_type<Close>);
}

void SessionCore::timed_out() {
    if (state == State::quit) return;
    pending = Pending::nothing;
    begin_event("TIMEOUT");
    close(replies::timeout(settings.hostname));
}

}  // namespace cartero::smtp

// --- the public face: forwards to Impl -------------------------------------------

namespace cartero::smtp {

struct ServerSession::Impl : SessionCore {
    using SessionCore::SessionCore;
};

ServerSession::ServerSession(SessionSettings settings, PeerInfo peer, const SessionPolicy& policy,
                             std::optional<TlsInfo> already_tls, SessionObserver* observer,
                             TransactionLimits* limits)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(peer), policy, std::move(already_tls), observer,
                                   limits)) {}
ServerSession::~ServerSession() = default;

Action ServerSession::next() { return impl_->next(); }
void ServerSession::feed(std::string_view bytes) { impl_->feed(bytes); }
void ServerSession::peer_closed() { impl_->peer_closed(); }
void ServerSession::timed_out() { impl_->timed_out(); }
void ServerSession::shutting_down() { impl_->shutdown_requested = true; }
void ServerSession::tls_started(TlsInfo info) { impl_->tls_started(std::move(info)); }
void ServerSession::tls_failed() { impl_->tls_failed(); }
void ServerSession::auth_finished(const AuthResult& result) { impl_->auth_finished(result); }
void ServerSession::message_committed(std::string_view queue_id) { impl_->message_committed(queue_id); }
void ServerSession::message_failed(const Reply& reply) { impl_->message_failed(reply); }
State ServerSession::state() const { return impl_->state; }
const std::string& ServerSession::auth_user() const { return impl_->auth_user; }
bool ServerSession::tls_active() const { return impl_->tls.has_value(); }

std::string_view to_string(State state) {
    switch (state) {
        case State::connect: return "connect";
        case State::initial: return "initial";
        case State::ready: return "ready";
        case State::mail: return "mail";
        case State::rcpt: return "rcpt";
        case State::data: return "data";
        case State::bdat: return "bdat";
        case State::auth: return "auth";
        case State::starttls: return "starttls";
        case State::quit: return "quit";
    }
    return "unknown";
}

}  // namespace cartero::smtp
