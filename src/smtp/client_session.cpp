// ClientSession: see client_session.hpp for the driver contract.
//
// Shape: the session keeps a queue of the replies it waits for (one per command
// sent; several when PIPELINING groups MAIL, RCPTs and DATA, RFC 2920 3.1). Each
// reply is matched to the front of the queue and handled by a small function per
// command. Everything else (the outgoing bytes, the message being sent) is data
// in Impl, so next() is a plain dispatch loop.
#include "smtp/client_session.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <utility>

#include "smtp/base64.hpp"
#include "smtp/dot_stuffer.hpp"
#include "smtp/reply_parser.hpp"
#include "smtp/sasl_client.hpp"

namespace cartero::smtp {
namespace {

// What a reply in the queue answers.
enum class Await {
    greeting, ehlo, helo, starttls,
    auth_plain, auth_login, auth_login_user, auth_login_password, auth_cancel,
    auth_oauth, auth_oauth_error,
    rset, mail, rcpt, data, end_of_data, lmtp_end_of_data, empty_data_end, quit,
};

struct Pending {
    Await what;
    std::size_t recipient = 0;  // for rcpt and lmtp_end_of_data
};

// The command names used in results and logs ("in reply to RCPT TO").
std::string_view command_name(Await what) {
    switch (what) {
        case Await::greeting: return "greeting";
        case Await::ehlo: return "EHLO";
        case Await::helo: return "HELO";
        case Await::starttls: return "STARTTLS";
        case Await::auth_plain:
        case Await::auth_login:
        case Await::auth_login_user:
        case Await::auth_login_password:
        case Await::auth_cancel:
        case Await::auth_oauth:
        case Await::auth_oauth_error: return "AUTH";
        case Await::rset: return "RSET";
        case Await::mail: return "MAIL FROM";
        case Await::rcpt: return "RCPT TO";
        case Await::data: return "DATA";
        case Await::end_of_data:
        case Await::lmtp_end_of_data:
        case Await::empty_data_end: return "end of DATA";
        case Await::quit: return "QUIT";
    }
    return "?";
}

ClientPhase phase_of(Await what) {
    switch (what) {
        case Await::greeting: return ClientPhase::greeting;
        case Await::ehlo:
        case Await::helo: return ClientPhase::hello;
        case Await::starttls: return ClientPhase::starttls;
        case Await::auth_plain:
        case Await::auth_login:
        case Await::auth_login_user:
        case Await::auth_login_password:
        case Await::auth_cancel:
        case Await::auth_oauth:
        case Await::auth_oauth_error: return ClientPhase::auth;
        case Await::rset: return ClientPhase::rset;
        case Await::mail: return ClientPhase::mail;
        case Await::rcpt: return ClientPhase::rcpt;
        case Await::data: return ClientPhase::data_initiation;
        case Await::end_of_data:
        case Await::lmtp_end_of_data:
        case Await::empty_data_end: return ClientPhase::data_termination;
        case Await::quit: return ClientPhase::quit;
    }
    return ClientPhase::closed;
}

// The enhanced code of a reply the client makes up for a session-level failure;
// all are temporary: the message stays queued (RFC 3463 3.5 and 3.8).
std::string_view made_up_code(ClientFailureKind kind) {
    switch (kind) {
        case ClientFailureKind::connection_lost:
        case ClientFailureKind::timed_out: return "4.4.2";
        case ClientFailureKind::protocol: return "4.5.0";
        case ClientFailureKind::tls_not_offered:
        case ClientFailureKind::tls_refused:
        case ClientFailureKind::tls_failed: return "4.7.5";
        case ClientFailureKind::auth_needs_tls:
        case ClientFailureKind::auth_unsupported:
        case ClientFailureKind::auth_refused: return "4.7.8";
        default: return "4.4.0";
    }
}

// The server's decoded SASL error (RFC 7628 3.2.2 JSON) as one printable line
// for a failure reason: untrusted, so control octets become '?' and it is cut
// short.
std::string sanitize_challenge(std::string_view text) {
    constexpr std::size_t shown = 300;
    std::string out;
    for (const char c : text.substr(0, shown)) {
        const auto u = static_cast<unsigned char>(c);
        out += u >= 0x20 && u < 0x7f ? c : (c == '\n' || c == '\r' ? ' ' : '?');
    }
    if (text.size() > shown) out += "...";
    return out;
}

}  // namespace

struct ClientSession::Impl {
    ClientSettings settings;
    ClientObserver* observer;
    ReplyParser parser;

    ClientState state = ClientState::connect;
    std::deque<Pending> pending{{Await::greeting}};
    std::string in;    // received, not yet parsed (at most one unfinished line)
    std::string out;   // to send at the next next()
    std::optional<ClientFailure> failure;
    bool handshake_due = false;

    Extensions ext;
    bool esmtp = false;
    bool tls_active = false;
    bool tls_declined = false;  // opportunistic STARTTLS refused by the server: go on in plaintext
    bool authenticated = false;
    std::string oauth_mechanism;  // "OAUTHBEARER" or "XOAUTH2" when a token was sent
    std::string oauth_error;      // RFC 7628 3.2.2: the server's JSON error, decoded
    std::vector<TranscriptLine> transcript;

    // The transaction.
    std::optional<ClientMessage> message;
    std::vector<std::optional<RecipientResult>> final;  // per recipient, once known
    std::vector<RecipientResult> results;
    std::vector<std::size_t> accepted;  // RCPT accepted, in order
    bool mail_accepted = false;
    bool rset_due = false;              // the last transaction stopped after MAIL was accepted
    bool sending_data = false;
    std::size_t data_offset = 0;
    DotStuffer stuffer;

    Impl(ClientSettings s, ClientObserver* o)
        : settings(std::move(s)), observer(o), parser(settings.reply_line_length, settings.reply_lines),
          tls_active(settings.implicit_tls) {}

    // --- the loop -------------------------------------------------------------
    ClientAction next();
    bool handle_one_reply();
    void dispatch(const Pending& p, const Reply& r);
    void send(std::string_view command, Await what, std::size_t recipient = 0);
    void record(TranscriptSource source, std::string_view text);
    void record_command(std::string_view command, Await what);
    void record_reply(const Reply& r);
    void enter(ClientState to);
    ClientPhase phase() const;

    // --- failures -------------------------------------------------------------
    void fail(ClientFailureKind kind, std::string reason, std::optional<Reply> reply, bool send_quit);
    void close_transaction_with(const Reply& reply, bool from_peer, std::string_view in_reply_to);

    // --- connection setup -----------------------------------------------------
    void on_greeting(const Reply& r);
    void send_hello();
    void on_ehlo(const Reply& r);
    void on_helo(const Reply& r);
    void after_hello();
    void on_starttls(const Reply& r);
    void start_auth();
    void start_oauth();
    void on_auth(const Pending& p, const Reply& r);
    void auth_refused(const Reply& r);

    // --- the transaction ------------------------------------------------------
    void begin(ClientMessage m);
    bool refuse_before_sending();
    void send_envelope();
    std::optional<std::size_t> next_recipient(std::size_t after) const;
    void on_rset(const Reply& r);
    void on_mail(const Reply& r);
    void on_rcpt(std::size_t i, const Reply& r);
    void after_last_rcpt();
    void on_data(const Reply& r);
    void send_data_block();
    void on_end_of_data(const Reply& r);
    void on_lmtp_end_of_data(std::size_t i, const Reply& r);
    void finish_transaction();
    void set_final(std::size_t i, const Reply& r, std::string_view in_reply_to);
};

// --- the loop -----------------------------------------------------------------

ClientAction ClientSession::Impl::next() {
    for (;;) {
        if (!out.empty()) return ClientSend{std::exchange(out, {})};
        if (state == ClientState::closed) return ClientClose{};
        if (handshake_due) return ClientStartTls{};
        if (!pending.empty()) {
            if (!handle_one_reply()) return ClientReceive{};
            continue;
        }
        // Nothing was asked, so the server has nothing to say (RFC 5321 4.2: replies
        // answer commands). Extra octets here would be taken as the answer to the
        // next command: a desynchronised or hostile peer.
        if (!in.empty()) {
            fail(ClientFailureKind::protocol, "the server sent a reply to no command", std::nullopt, false);
            continue;
        }
        if (sending_data) {
            send_data_block();
            continue;
        }
        if (state == ClientState::ready) return ClientReady{};
        throw std::logic_error("ClientSession: no next action in state " + std::string(to_string(state)));
    }
}

// Parses and handles one reply; false when more input is needed.
bool ClientSession::Impl::handle_one_reply() {
    ReplyResult result = parser.next(in);
    in.erase(0, result.consumed);
    if (result.status == ReplyStatus::need_more) return false;
    if (result.status == ReplyStatus::malformed) {
        fail(ClientFailureKind::protocol, "malformed reply: " + result.error, std::nullopt, false);
        return true;
    }
    const Pending p = pending.front();
    pending.pop_front();
    const bool was_last = pending.empty();
    record_reply(result.reply);
    if (observer) observer->replied(command_name(p.what), result.reply);
    // RFC 5321 3.8: 421 means the server is closing; whatever was still to come
    // will not. (A 421 to QUIT is as good as a 221.)
    if (result.reply.code == 421 && p.what != Await::quit && p.what != Await::greeting) {
        failure = ClientFailure{ClientFailureKind::service_closing,
                                "the server closed the session: " + one_line(result.reply), result.reply,
                                phase_of(p.what)};
        close_transaction_with(result.reply, true, command_name(p.what));
        fail(ClientFailureKind::service_closing, "the server closed the session: " + one_line(result.reply),
             result.reply, false);
        return true;
    }
    dispatch(p, result.reply);
    // More octets after the last awaited reply would be read as the answer to
    // the next command (a desynchronised or hostile peer, RFC 2920 3.2). Checked
    // after the reply is handled, so a 250 to end of DATA still counts.
    if (was_last && !in.empty() && state != ClientState::closed && state != ClientState::quit) {
        fail(ClientFailureKind::protocol,
             "the server sent more than one reply to " + std::string(command_name(p.what)), std::nullopt, false);
    }
    return true;
}

void ClientSession::Impl::dispatch(const Pending& p, const Reply& r) {
    switch (p.what) {
        case Await::greeting: return on_greeting(r);
        case Await::ehlo: return on_ehlo(r);
        case Await::helo: return on_helo(r);
        case Await::starttls: return on_starttls(r);
        case Await::auth_plain:
        case Await::auth_login:
        case Await::auth_login_user:
        case Await::auth_login_password:
        case Await::auth_cancel:
        case Await::auth_oauth:
        case Await::auth_oauth_error: return on_auth(p, r);
        case Await::rset: return on_rset(r);
        case Await::mail: return on_mail(r);
        case Await::rcpt: return on_rcpt(p.recipient, r);
        case Await::data: return on_data(r);
        case Await::end_of_data: return on_end_of_data(r);
        case Await::lmtp_end_of_data: return on_lmtp_end_of_data(p.recipient, r);
        case Await::empty_data_end: return finish_transaction();
        case Await::quit: return enter(ClientState::closed);
    }
}

void ClientSession::Impl::send(std::string_view command, Await what, std::size_t recipient) {
    out += command;
    pending.push_back(Pending{what, recipient});
    record_command(command, what);
}

// --- the transcript ---------------------------------------------------------------

void ClientSession::Impl::record(TranscriptSource source, std::string_view text) {
    if (settings.keep_transcript) transcript.push_back(TranscriptLine{source, std::string(text)});
}

// Credentials never reach the transcript: the initial response of AUTH PLAIN
// and the base64 lines of AUTH LOGIN are replaced (RFC 4954 4).
void ClientSession::Impl::record_command(std::string_view command, Await what) {
    if (!settings.keep_transcript || command.empty()) return;
    if (command.ends_with("\r\n")) command.remove_suffix(2);
    if (what == Await::auth_plain) return record(TranscriptSource::client, "AUTH PLAIN ****");
    if (what == Await::auth_login_user || what == Await::auth_login_password)
        return record(TranscriptSource::client, "****");
    record(TranscriptSource::client, command);
}

void ClientSession::Impl::record_reply(const Reply& r) {
    if (!settings.keep_transcript) return;
    const std::string text = r.wire();
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = text.find("\r\n", at);
        record(TranscriptSource::server, std::string_view(text).substr(at, end - at));
        if (end == std::string::npos) break;
        at = end + 2;
    }
}

void ClientSession::Impl::enter(ClientState to) {
    if (to == state) return;
    if (observer) observer->state_changed(state, to);
    state = to;
}

ClientPhase ClientSession::Impl::phase() const {
    if (state == ClientState::closed) return ClientPhase::closed;
    if (handshake_due) return ClientPhase::tls_handshake;
    if (sending_data) return ClientPhase::data_block;
    if (!pending.empty()) return phase_of(pending.front().what);
    return ClientPhase::idle;
}

// --- failures -------------------------------------------------------------------

// Records the failure and ends the session. `send_quit` when the connection is
// still in step (the server answered something we did not like): RFC 5321 4.1.1.10
// asks for a QUIT; after a protocol error, EOF or timeout the stream is not
// trustworthy, and the driver just closes.
void ClientSession::Impl::fail(ClientFailureKind kind, std::string reason, std::optional<Reply> reply,
                               bool send_quit) {
    const ClientPhase where = phase();
    if (!failure) failure = ClientFailure{kind, reason, std::move(reply), where};
    pending.clear();
    handshake_due = false;
    sending_data = false;
    in.clear();
    out.clear();
    enter(send_quit ? ClientState::quit : ClientState::closed);
    close_transaction_with(make_reply(451, made_up_code(kind), reason), false, {});
    if (send_quit) send("QUIT\r\n", Await::quit);
}

// Every recipient of the open transaction without a final result gets `reply`.
void ClientSession::Impl::close_transaction_with(const Reply& reply, bool from_peer, std::string_view in_reply_to) {
    if (!message) return;
    for (auto& f : final) {
        if (!f) f = RecipientResult{reply, from_peer, std::string(in_reply_to)};
    }
    finish_transaction();
}

// --- connection setup -------------------------------------------------------------

void ClientSession::Impl::on_greeting(const Reply& r) {
    if (r.code == 220) return send_hello();
    if (r.code >= 400) {
        // RFC 5321 3.1: after a 554 greeting the client should send QUIT; a 421
        // greeting means the server closes at once.
        return fail(ClientFailureKind::greeting_refused, "the server refused the connection: " + one_line(r), r,
                    r.code != 421);
    }
    fail(ClientFailureKind::protocol, "unexpected greeting: " + one_line(r), r, false);
}

void ClientSession::Impl::send_hello() {
    enter(ClientState::hello);
    send((settings.lmtp ? "LHLO " : "EHLO ") + settings.helo_name + "\r\n", Await::ehlo);
}

void ClientSession::Impl::on_ehlo(const Reply& r) {
    if (r.code == 250) {
        ext = parse_extensions(r);
        esmtp = true;
        return after_hello();
    }
    // RFC 5321 3.2: a server that does not know EHLO answers 5xx; fall back to
    // HELO. LMTP has no HELO (RFC 2033 4.1).
    if (r.permanent() && !settings.lmtp) return send("HELO " + settings.helo_name + "\r\n", Await::helo);
    fail(ClientFailureKind::hello_refused,
         std::string(settings.lmtp ? "the server refused LHLO: " : "the server refused EHLO: ") + one_line(r), r,
         true);
}

void ClientSession::Impl::on_helo(const Reply& r) {
    if (r.code != 250) {
        return fail(ClientFailureKind::hello_refused, "the server refused EHLO and HELO: " + one_line(r), r, true);
    }
    ext = Extensions{};
    esmtp = false;
    after_hello();
}

void ClientSession::Impl::after_hello() {
    const bool try_tls = !tls_active && !tls_declined && settings.tls != ClientTls::none;
    if (try_tls && ext.starttls) {
        enter(ClientState::starttls);
        return send("STARTTLS\r\n", Await::starttls);
    }
    if (!tls_active && settings.tls == ClientTls::required) {
        return fail(ClientFailureKind::tls_not_offered, "the server does not offer STARTTLS", std::nullopt, true);
    }
    if (settings.credentials && !authenticated) return start_auth();
    enter(ClientState::ready);
}

void ClientSession::Impl::on_starttls(const Reply& r) {
    if (r.code == 220) {
        // Octets after the 220 were written before the handshake: in plaintext, by
        // whoever is on the path. They must not be read as TLS-protected replies.
        if (!in.empty()) {
            return fail(ClientFailureKind::protocol,
                        "the server sent data after its reply to STARTTLS (possible injection)", r, false);
        }
        handshake_due = true;
        return;
    }
    if (settings.tls == ClientTls::required) {
        return fail(ClientFailureKind::tls_refused, "the server refused STARTTLS: " + one_line(r), r, true);
    }
    tls_declined = true;  // RFC 3207 4: the client may go on without TLS
    after_hello();
}

void ClientSession::Impl::start_auth() {
    if (!tls_active) {
        return fail(ClientFailureKind::auth_needs_tls,
                    "refusing to send the password over a connection without TLS", std::nullopt, true);
    }
    enter(ClientState::auth);
    const ClientCredentials& c = *settings.credentials;
    if (c.mechanism != ClientMechanism::password) return start_oauth();
    // PLAIN first: one round trip with an initial response (RFC 4954 4).
    if (ext.offers_auth("PLAIN")) return send("AUTH PLAIN " + plain_response(c.username, c.password) + "\r\n", Await::auth_plain);
    if (ext.offers_auth("LOGIN")) return send("AUTH LOGIN\r\n", Await::auth_login);
    fail(ClientFailureKind::auth_unsupported,
         ext.auth.empty() ? "the server does not offer AUTH" : "the server offers neither AUTH PLAIN nor LOGIN",
         std::nullopt, true);
}

// The token goes as the initial response (RFC 4954 4), one round trip.
void ClientSession::Impl::start_oauth() {
    const ClientCredentials& c = *settings.credentials;
    const bool bearer = ext.offers_auth("OAUTHBEARER");
    const bool xoauth2 = ext.offers_auth("XOAUTH2");
    const bool use_bearer = bearer && (c.mechanism == ClientMechanism::oauthbearer || c.mechanism == ClientMechanism::oauth2);
    const bool use_xoauth2 = !use_bearer && xoauth2 &&
                             (c.mechanism == ClientMechanism::xoauth2 || c.mechanism == ClientMechanism::oauth2);
    if (use_bearer) {
        oauth_mechanism = "OAUTHBEARER";
        return send("AUTH OAUTHBEARER " + oauthbearer_response(c.username, c.host, c.port, c.password) + "\r\n",
                    Await::auth_oauth);
    }
    if (use_xoauth2) {
        oauth_mechanism = "XOAUTH2";
        return send("AUTH XOAUTH2 " + xoauth2_response(c.username, c.password) + "\r\n", Await::auth_oauth);
    }
    const std::string wanted = c.mechanism == ClientMechanism::oauthbearer ? "AUTH OAUTHBEARER"
                               : c.mechanism == ClientMechanism::xoauth2   ? "AUTH XOAUTH2"
                                                                           : "AUTH OAUTHBEARER or XOAUTH2";
    fail(ClientFailureKind::auth_unsupported,
         ext.auth.empty() ? "the server does not offer AUTH" : "the server does not offer " + wanted + " (OAuth2)",
         std::nullopt, true);
}

void ClientSession::Impl::on_auth(const Pending& p, const Reply& r) {
    if (r.code == 235 && p.what != Await::auth_cancel) {
        authenticated = true;
        return enter(ClientState::ready);
    }
    const ClientCredentials& c = *settings.credentials;
    // RFC 7628 3.2.2: a token refused comes as a 334 challenge carrying a
    // base64 JSON error; the client answers ^A (OAUTHBEARER, 3.2.3) or an empty
    // line (XOAUTH2) and the server sends the final failure reply.
    if (r.code == 334 && p.what == Await::auth_oauth) {
        const std::string challenge = r.text.substr(0, r.text.find('\n'));
        oauth_error = decode_base64(challenge).value_or(challenge);
        return send(oauth_mechanism == "OAUTHBEARER" ? std::string(oauthbearer_error_ack) + "\r\n" : "\r\n",
                    Await::auth_oauth_error);
    }
    if (r.code == 334 && p.what == Await::auth_login) return send(encode_base64(c.username) + "\r\n", Await::auth_login_user);
    if (r.code == 334 && p.what == Await::auth_login_user) {
        return send(encode_base64(c.password) + "\r\n", Await::auth_login_password);
    }
    // A challenge PLAIN and LOGIN do not have: cancel the exchange (RFC 4954 4).
    if (r.code == 334 && p.what != Await::auth_cancel) return send("*\r\n", Await::auth_cancel);
    auth_refused(r);
}

// RFC 4954 6 codes; the texts are what `cartero check` shows a user.
void ClientSession::Impl::auth_refused(const Reply& r) {
    std::string reason;
    if (!oauth_mechanism.empty() && r.permanent()) {
        reason = "the server refused the OAuth2 token (AUTH " + oauth_mechanism + ")";
        if (!oauth_error.empty()) reason += ", saying " + sanitize_challenge(oauth_error);
    } else if (r.code == 535) reason = "the server refused the username or password";
    else if (r.code == 534) reason = "the server requires a stronger mechanism or an application-specific password";
    else if (r.code == 454 || r.transient()) reason = "temporary authentication failure at the server";
    else if (r.code == 530) reason = "the server requires authentication the client cannot do";
    else reason = "authentication failed";
    fail(ClientFailureKind::auth_refused, reason + ": " + one_line(r), r, true);
}

// --- the transaction ----------------------------------------------------------------

void ClientSession::Impl::begin(ClientMessage m) {
    if (state != ClientState::ready || !pending.empty()) throw std::logic_error("ClientSession::begin outside ready");
    if (m.recipients.empty() || !m.data) throw std::logic_error("ClientSession::begin without recipients or data");
    final.assign(m.recipients.size(), std::nullopt);
    results.clear();
    accepted.clear();
    mail_accepted = false;
    message = std::move(m);
    if (refuse_before_sending()) return;
    enter(ClientState::mail);
    // RFC 5321 4.1.1.5: the last transaction stopped halfway; start clean.
    if (rset_due) return send("RSET\r\n", Await::rset);
    send_envelope();
}

// Checks that need nothing from the server beyond its EHLO reply.
bool ClientSession::Impl::refuse_before_sending() {
    if (const auto refusal = message_refusal(*message, ext)) {
        close_transaction_with(*refusal, false, {});
        return true;
    }
    for (std::size_t i = 0; i < final.size(); ++i) {
        if (const auto refusal = recipient_refusal(message->recipients[i])) {
            final[i] = RecipientResult{*refusal, false, {}};
        }
    }
    if (!next_recipient(0)) {
        finish_transaction();
        return true;
    }
    return false;
}

// The first recipient at or after `from` that is still to be sent.
std::optional<std::size_t> ClientSession::Impl::next_recipient(std::size_t from) const {
    for (std::size_t i = from; i < final.size(); ++i) {
        if (!final[i]) return i;
    }
    return std::nullopt;
}

// Without PIPELINING one command at a time; with it, MAIL, every RCPT and DATA
// in one write, replies taken in order (RFC 2920 3.1: DATA ends the group).
void ClientSession::Impl::send_envelope() {
    send(mail_command(*message, ext), Await::mail);
    if (!ext.pipelining) return;
    for (auto i = next_recipient(0); i; i = next_recipient(*i + 1)) {
        send(rcpt_command(message->recipients[*i], ext), Await::rcpt, *i);
    }
    if (!message->envelope_only) send("DATA\r\n", Await::data);
}

void ClientSession::Impl::on_rset(const Reply& r) {
    if (!r.positive()) {
        return fail(ClientFailureKind::protocol, "the server refused RSET: " + one_line(r), r, true);
    }
    rset_due = false;
    send_envelope();
}

void ClientSession::Impl::on_mail(const Reply& r) {
    mail_accepted = r.code / 100 == 2;
    if (!mail_accepted) {
        // The whole transaction fails with the server's reply. Pipelined RCPT and
        // DATA replies (503s) still come and are read past.
        for (auto& f : final) {
            if (!f) f = RecipientResult{r, true, "MAIL FROM"};
        }
        if (!ext.pipelining) finish_transaction();
        return;
    }
    enter(ClientState::rcpt);
    if (!ext.pipelining) {
        const auto first = next_recipient(0);
        send(rcpt_command(message->recipients[*first], ext), Await::rcpt, *first);
    }
}

void ClientSession::Impl::on_rcpt(std::size_t i, const Reply& r) {
    // Pipelined after a refused MAIL: already decided.
    if (mail_accepted && r.code / 100 == 2) accepted.push_back(i);
    // Envelope only: an accepted recipient's final word is its RCPT reply.
    if (mail_accepted && (r.code / 100 != 2 || message->envelope_only)) set_final(i, r, "RCPT TO");
    if (ext.pipelining) {
        // Without DATA in the group, the last RCPT reply ends it.
        if (message->envelope_only && pending.empty()) after_last_rcpt();
        return;
    }
    if (const auto after = next_recipient(i + 1)) {
        return send(rcpt_command(message->recipients[*after], ext), Await::rcpt, *after);
    }
    after_last_rcpt();
}

void ClientSession::Impl::after_last_rcpt() {
    if (message->envelope_only) {
        rset_due = mail_accepted;  // the server holds a transaction: RSET before the next
        return finish_transaction();
    }
    if (!accepted.empty()) return send("DATA\r\n", Await::data);
    rset_due = true;  // MAIL was accepted: the server holds a transaction
    finish_transaction();
}

void ClientSession::Impl::on_data(const Reply& r) {
    const bool ready_for_text = mail_accepted && !accepted.empty();
    if (r.code == 354 && ready_for_text) {
        enter(ClientState::data);
        sending_data = true;
        data_offset = 0;
        stuffer = DotStuffer{};
        return;
    }
    if (r.code == 354) {
        // RFC 2920 3.1: DATA accepted with no valid recipient (pipelined): send
        // an empty message end; its reply changes nothing.
        enter(ClientState::data);
        return send(".\r\n", Await::empty_data_end);
    }
    if (r.code / 100 != 4 && r.code / 100 != 5) {
        // RFC 5321 4.3.2: DATA is answered 354, or refused with 4xx/5xx. A 250
        // here promises nothing about a message not yet sent: a broken or
        // hostile server must not get it marked delivered.
        return fail(ClientFailureKind::protocol,
                    "the server answered DATA with " + std::to_string(r.code) + " instead of 354", r, true);
    }
    if (ready_for_text) {
        for (const std::size_t i : accepted) set_final(i, r, "DATA");
    }
    rset_due = mail_accepted;
    finish_transaction();
}

void ClientSession::Impl::send_data_block() {
    const std::string& data = *message->data;
    const std::size_t size = std::min(settings.data_block_size ? settings.data_block_size : data.size(),
                                      data.size() - data_offset);
    stuffer.add(std::string_view(data).substr(data_offset, size), out);
    data_offset += size;
    if (data_offset < data.size()) return;
    stuffer.finish(out);
    sending_data = false;
    record(TranscriptSource::note, "(" + std::to_string(data.size()) + " octets of message text)");
    record(TranscriptSource::client, ".");
    if (!settings.lmtp) return send({}, Await::end_of_data);
    // RFC 2033 4.2: one reply per accepted recipient, in RCPT order.
    for (const std::size_t i : accepted) send({}, Await::lmtp_end_of_data, i);
}

void ClientSession::Impl::on_end_of_data(const Reply& r) {
    for (const std::size_t i : accepted) set_final(i, r, "end of DATA");
    finish_transaction();
}

void ClientSession::Impl::on_lmtp_end_of_data(std::size_t i, const Reply& r) {
    set_final(i, r, "end of DATA");
    if (pending.empty()) finish_transaction();
}

void ClientSession::Impl::set_final(std::size_t i, const Reply& r, std::string_view in_reply_to) {
    if (!final[i]) final[i] = RecipientResult{r, true, std::string(in_reply_to)};
}

void ClientSession::Impl::finish_transaction() {
    results.clear();
    for (auto& f : final) {
        // Cannot stay unset (every path above decides each recipient); kept safe:
        // an undecided recipient is retried, never reported delivered.
        results.push_back(f ? std::move(*f) : RecipientResult{make_reply(451, "4.3.0", "no result"), false, {}});
    }
    final.clear();
    accepted.clear();
    message.reset();
    sending_data = false;
    if (!failure) enter(ClientState::ready);
}

// --- public ----------------------------------------------------------------------

ClientSession::ClientSession(ClientSettings settings, ClientObserver* observer)
    : impl_(std::make_unique<Impl>(std::move(settings), observer)) {}
ClientSession::~ClientSession() = default;

ClientAction ClientSession::next() { return impl_->next(); }

void ClientSession::feed(std::string_view bytes) {
    if (impl_->state == ClientState::closed) return;
    impl_->in += bytes;
}

void ClientSession::peer_closed() {
    Impl& s = *impl_;
    if (s.state == ClientState::quit || s.state == ClientState::closed) return s.enter(ClientState::closed);
    const ClientPhase where = s.phase();
    s.fail(ClientFailureKind::connection_lost,
           "the connection was lost (" + std::string(to_string(where)) + ")", std::nullopt, false);
}

void ClientSession::timed_out() {
    Impl& s = *impl_;
    if (s.state == ClientState::quit || s.state == ClientState::closed) return s.enter(ClientState::closed);
    s.fail(ClientFailureKind::timed_out, "timed out (" + std::string(to_string(s.phase())) + ")", std::nullopt, false);
}

void ClientSession::tls_started() {
    Impl& s = *impl_;
    if (!s.handshake_due) throw std::logic_error("ClientSession::tls_started without a handshake");
    s.handshake_due = false;
    s.tls_active = true;
    s.record(TranscriptSource::note, "(TLS started)");
    // RFC 3207 4.2: forget everything learned before TLS and ask again.
    s.ext = Extensions{};
    s.esmtp = false;
    s.send_hello();
}

void ClientSession::tls_failed(std::string_view reason) {
    Impl& s = *impl_;
    if (!s.handshake_due) throw std::logic_error("ClientSession::tls_failed without a handshake");
    s.fail(ClientFailureKind::tls_failed, "TLS handshake failed: " + std::string(reason), std::nullopt, false);
}

void ClientSession::begin(ClientMessage message) { impl_->begin(std::move(message)); }

void ClientSession::quit() {
    Impl& s = *impl_;
    if (s.state != ClientState::ready || !s.pending.empty()) throw std::logic_error("ClientSession::quit outside ready");
    s.send("QUIT\r\n", Await::quit);
    s.enter(ClientState::quit);
}

ClientState ClientSession::state() const { return impl_->state; }
ClientPhase ClientSession::phase() const { return impl_->phase(); }
const Extensions& ClientSession::extensions() const { return impl_->ext; }
bool ClientSession::esmtp() const { return impl_->esmtp; }
bool ClientSession::tls_active() const { return impl_->tls_active; }
bool ClientSession::authenticated() const { return impl_->authenticated; }
const std::vector<RecipientResult>& ClientSession::results() const { return impl_->results; }
const std::optional<ClientFailure>& ClientSession::failure() const { return impl_->failure; }
const std::vector<TranscriptLine>& ClientSession::transcript() const { return impl_->transcript; }
bool ClientSession::reusable() const { return impl_->state == ClientState::ready && !impl_->failure; }

std::string_view to_string(ClientState s) {
    switch (s) {
        case ClientState::connect: return "connect";
        case ClientState::hello: return "hello";
        case ClientState::starttls: return "starttls";
        case ClientState::auth: return "auth";
        case ClientState::ready: return "ready";
        case ClientState::mail: return "mail";
        case ClientState::rcpt: return "rcpt";
        case ClientState::data: return "data";
        case ClientState::quit: return "quit";
        case ClientState::closed: return "closed";
    }
    return "?";
}

std::string_view to_string(ClientPhase p) {
    switch (p) {
        case ClientPhase::greeting: return "waiting for the greeting";
        case ClientPhase::hello: return "waiting for the reply to EHLO";
        case ClientPhase::starttls: return "waiting for the reply to STARTTLS";
        case ClientPhase::tls_handshake: return "during the TLS handshake";
        case ClientPhase::auth: return "waiting for the reply to AUTH";
        case ClientPhase::mail: return "waiting for the reply to MAIL FROM";
        case ClientPhase::rcpt: return "waiting for the reply to RCPT TO";
        case ClientPhase::data_initiation: return "waiting for the reply to DATA";
        case ClientPhase::data_block: return "while sending the message";
        case ClientPhase::data_termination: return "waiting for the reply to end of DATA";
        case ClientPhase::rset: return "waiting for the reply to RSET";
        case ClientPhase::quit: return "waiting for the reply to QUIT";
        case ClientPhase::idle: return "while idle";
        case ClientPhase::closed: return "after close";
    }
    return "?";
}

std::string_view to_string(ClientFailureKind k) {
    switch (k) {
        case ClientFailureKind::connection_lost: return "connection_lost";
        case ClientFailureKind::timed_out: return "timed_out";
        case ClientFailureKind::protocol: return "protocol";
        case ClientFailureKind::greeting_refused: return "greeting_refused";
        case ClientFailureKind::hello_refused: return "hello_refused";
        case ClientFailureKind::tls_not_offered: return "tls_not_offered";
        case ClientFailureKind::tls_refused: return "tls_refused";
        case ClientFailureKind::tls_failed: return "tls_failed";
        case ClientFailureKind::auth_needs_tls: return "auth_needs_tls";
        case ClientFailureKind::auth_unsupported: return "auth_unsupported";
        case ClientFailureKind::auth_refused: return "auth_refused";
        case ClientFailureKind::service_closing: return "service_closing";
    }
    return "?";
}

}  // namespace cartero::smtp
