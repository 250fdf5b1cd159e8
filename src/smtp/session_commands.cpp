// ServerSession commands: the command table and the handlers for the session and
// envelope commands (EHLO, HELO, MAIL, RCPT, RSET, NOOP, QUIT, VRFY, EXPN, HELP).
// Each handler is check -> policy -> apply, and replies last.
//
// Trust: arguments are untrusted; each is checked against its grammar before use.
//
// RFCs: 5321 4.1.1.1-4.1.1.10 (commands), 4.1.4 (order), 4.5.3.1.8 (recipients),
// 1870 (SIZE), 6152 (8BITMIME), 6531 3.4 (SMTPUTF8), 4954 5 (MAIL AUTH=),
// 3461 4.1-4.4 (DSN: RET, ENVID, NOTIFY, ORCPT).
#include <algorithm>
#include <array>

#include "smtp/ascii.hpp"
#include "smtp/command.hpp"
#include "smtp/dsn_params.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace cartero::smtp {

// The command table (STYLE rule 3). DATA, BDAT, STARTTLS and AUTH live in their own files.
const CommandSpec& find_command(std::string_view verb) {
    static const std::array<CommandSpec, 14> table{{
        {"EHLO", &SessionCore::cmd_ehlo, pre_tls | counts_errors},
        {"HELO", &SessionCore::cmd_helo, pre_tls | counts_errors},
        {"STARTTLS", &SessionCore::cmd_starttls, pre_tls | counts_errors},
        {"AUTH", &SessionCore::cmd_auth, needs_helo | pre_tls},  // failures are auth/'s throttling
        {"MAIL", &SessionCore::cmd_mail, needs_helo | counts_errors},
        {"RCPT", &SessionCore::cmd_rcpt, needs_helo | counts_errors},
        {"DATA", &SessionCore::cmd_data, needs_helo | counts_errors},
        {"BDAT", &SessionCore::cmd_bdat, needs_helo | counts_errors, &SessionCore::discard_chunk},
        {"RSET", &SessionCore::cmd_rset, pre_tls | counts_errors},
        {"NOOP", &SessionCore::cmd_noop, pre_tls},
        {"QUIT", &SessionCore::cmd_quit, pre_tls},
        {"VRFY", &SessionCore::cmd_vrfy, counts_errors},
        {"EXPN", &SessionCore::cmd_expn, counts_errors},
        {"HELP", &SessionCore::cmd_help, pre_tls},
    }};
    static const CommandSpec unknown{"UNKNOWN", &SessionCore::cmd_unknown, pre_tls | counts_errors};
    const auto found =
        std::find_if(table.begin(), table.end(), [&](const CommandSpec& spec) { return spec.verb == verb; });
    return found == table.end() ? unknown : *found;
}

// --- EHLO / HELO (RFC 5321 4.1.1.1) ----------------------------------------------

namespace {

// The domain or address literal a client names itself with is only logged and put in
// the Received header; it is not verified, but it must be one printable word.
std::optional<Reply> check_hello_argument(std::string_view argument, std::string_view usage) {
    const auto printable = [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; };
    if (argument.empty() || !std::all_of(argument.begin(), argument.end(), printable)) return replies::syntax(usage);
    return std::nullopt;
}

}  // namespace

void SessionCore::cmd_ehlo(std::string_view argument) { hello(argument, true); }
void SessionCore::cmd_helo(std::string_view argument) { hello(argument, false); }

void SessionCore::hello(std::string_view argument, bool extended) {
    if (auto refusal = check_hello_argument(argument, extended ? "EHLO hostname" : "HELO hostname")) {
        return reply(*refusal);
    }
    reset_transaction();  // RFC 5321 4.1.4: EHLO/HELO mid-transaction acts as RSET
    helo = std::string(argument);
    esmtp = extended;
    enter(State::ready);
    reply(extended ? replies::ehlo(settings.hostname, extensions()) : replies::helo(settings.hostname));
}

std::vector<std::string> SessionCore::extensions() const {
    std::vector<std::string> list{"PIPELINING",          "SIZE " + std::to_string(settings.message_size),
                                  "8BITMIME",            "SMTPUTF8",
                                  "ENHANCEDSTATUSCODES", "CHUNKING",
                                  "DSN"};
    if (starttls_offered()) list.emplace_back("STARTTLS");
    if (auth_offered()) list.emplace_back("AUTH PLAIN LOGIN");
    return list;
}

// --- MAIL (RFC 5321 4.1.1.2) -------------------------------------------------------

namespace {

using ParamApplier = std::optional<Reply> (*)(const EsmtpParam&, const SessionSettings&, Envelope&);

// RFC 1870 4: a declared size over the limit is refused at MAIL.
std::optional<Reply> apply_size(const EsmtpParam& param, const SessionSettings& settings, Envelope&) {
    const auto size = parse_decimal(param.value);
    if (!size) return replies::unsupported_parameter(param.keyword);
    if (*size > settings.message_size) return replies::size_over_limit();
    return std::nullopt;
}

// RFC 6152 2: BODY=7BIT / BODY=8BITMIME (BINARYMIME is not offered).
std::optional<Reply> apply_body(const EsmtpParam& param, const SessionSettings&, Envelope& draft) {
    if (!iequals(param.value, "7BIT") && !iequals(param.value, "8BITMIME")) {
        return replies::unsupported_parameter(param.keyword);
    }
    draft.eight_bit = iequals(param.value, "8BITMIME");
    return std::nullopt;
}

// RFC 6531 3.4: SMTPUTF8 takes no value.
std::optional<Reply> apply_smtputf8(const EsmtpParam& param, const SessionSettings&, Envelope& draft) {
    if (!param.value.empty()) return replies::unsupported_parameter(param.keyword);
    draft.smtputf8 = true;
    return std::nullopt;
}

// RFC 4954 5: AUTH=<mailbox> from another trusted MTA; cartero does not relay that
// trust, so it is accepted and ignored, as the RFC allows.
std::optional<Reply> ignore_param(const EsmtpParam&, const SessionSettings&, Envelope&) { return std::nullopt; }

// RFC 3461 4.3: RET=FULL|HDRS, what a DSN returns of the message.
std::optional<Reply> apply_ret(const EsmtpParam& param, const SessionSettings&, Envelope& draft) {
    const auto ret = parse_ret(param.value);
    if (!ret) return replies::bad_ret();
    draft.ret = *ret;
    return std::nullopt;
}

// RFC 3461 4.4: ENVID=<xtext>, echoed in every DSN as Original-Envelope-Id.
std::optional<Reply> apply_envid(const EsmtpParam& param, const SessionSettings&, Envelope& draft) {
    auto envid = parse_envid(param.value);
    if (!envid) return replies::bad_envid();
    draft.envid = std::move(*envid);
    return std::nullopt;
}

struct MailParamSpec {
    std::string_view keyword;
    ParamApplier apply;
};

constexpr std::array<MailParamSpec, 6> mail_params{{
    {"SIZE", apply_size},
    {"BODY", apply_body},
    {"SMTPUTF8", apply_smtputf8},
    {"AUTH", ignore_param},
    {"RET", apply_ret},
    {"ENVID", apply_envid},
}};

// RFC 3461 4.1-4.4 say each DSN parameter "MUST NOT appear more than once"; RFC 5321
// gives no meaning to a repeated parameter either, so any repeat is refused alike
// rather than letting the last one silently win.
std::optional<Reply> check_no_repeats(const std::vector<EsmtpParam>& params) {
    for (auto it = params.begin(); it != params.end(); ++it) {
        const auto same = [&](const EsmtpParam& other) { return other.keyword == it->keyword; };
        if (std::any_of(params.begin(), it, same)) return replies::duplicate_parameter(it->keyword);
    }
    return std::nullopt;
}

std::optional<Reply> apply_mail_params(const std::vector<EsmtpParam>& params, const SessionSettings& settings,
                                       Envelope& draft) {
    if (auto refusal = check_no_repeats(params)) return refusal;
    for (const auto& param : params) {
        const auto spec = std::find_if(mail_params.begin(), mail_params.end(),
                                       [&](const MailParamSpec& s) { return s.keyword == param.keyword; });
        if (spec == mail_params.end()) return replies::unsupported_parameter(param.keyword);
        if (auto refusal = spec->apply(param, settings, draft)) return refusal;
    }
    return std::nullopt;
}

// --- RCPT parameters (RFC 3461 4.1, 4.2) ------------------------------------------

using RcptParamApplier = std::optional<Reply> (*)(const EsmtpParam&, RecipientDsn&);

// RFC 3461 4.1: NOTIFY=NEVER | SUCCESS,FAILURE,DELAY (any non-empty combination).
std::optional<Reply> apply_notify(const EsmtpParam& param, RecipientDsn& dsn) {
    const auto notify = parse_notify(param.value);
    if (!notify) return replies::bad_notify();
    dsn.notify = *notify;
    return std::nullopt;
}

// RFC 3461 4.2: ORCPT=addr-type;xtext, the address the sender first gave.
std::optional<Reply> apply_orcpt(const EsmtpParam& param, RecipientDsn& dsn) {
    auto orcpt = parse_orcpt(param.value);
    if (!orcpt) return replies::bad_orcpt();
    dsn.orcpt_type = std::move(orcpt->type);
    dsn.orcpt = std::move(orcpt->address);
    return std::nullopt;
}

struct RcptParamSpec {
    std::string_view keyword;
    RcptParamApplier apply;
};

constexpr std::array<RcptParamSpec, 2> rcpt_params{{
    {"NOTIFY", apply_notify},
    {"ORCPT", apply_orcpt},
}};

std::optional<Reply> apply_rcpt_params(const std::vector<EsmtpParam>& params, RecipientDsn& dsn) {
    if (auto refusal = check_no_repeats(params)) return refusal;
    for (const auto& param : params) {
        const auto spec = std::find_if(rcpt_params.begin(), rcpt_params.end(),
                                       [&](const RcptParamSpec& s) { return s.keyword == param.keyword; });
        if (spec == rcpt_params.end()) return replies::unsupported_parameter(param.keyword);
        if (auto refusal = spec->apply(param, dsn)) return refusal;
    }
    return std::nullopt;
}

// The reply for a path that failed to parse.
Reply path_refusal(PathError error, const Reply& bad_address, std::string_view usage) {
    return error == PathError::parameter_syntax ? replies::syntax(usage) : bad_address;
}

}  // namespace

std::optional<Reply> SessionCore::check_mail_allowed() const {
    if (settings.role != Role::mx && auth_user.empty()) return replies::auth_required();
    if (in_transaction()) return replies::nested_mail();
    if (messages >= settings.messages_per_session) return replies::too_many_messages();
    return std::nullopt;
}

std::optional<Reply> SessionCore::check_sender(const Envelope& draft) const {
    // Who may use which sender (the null sender on submission included) is policy/'s call.
    if (!draft.sender.ascii() && !draft.smtputf8) return replies::smtputf8_required();
    return std::nullopt;
}

void SessionCore::cmd_mail(std::string_view argument) {
    static constexpr std::string_view usage = "MAIL FROM:<address>";
    if (auto refusal = check_mail_allowed()) return reply(*refusal);
    const auto path_text = after_prefix(argument, "FROM:");
    if (!path_text) return reply(replies::syntax(usage));
    auto parsed = parse_path(*path_text, true);
    if (!parsed.path) return reply(path_refusal(*parsed.error, replies::bad_sender(), usage));
    Envelope draft;
    draft.sender = parsed.path->address;
    if (auto refusal = apply_mail_params(parsed.path->params, settings, draft)) return reply(*refusal);
    if (auto refusal = check_sender(draft)) return reply(*refusal);
    if (auto refusal = policy.check_mail(facts(), draft.sender)) return reply(*refusal);
    if (limits != nullptr) {
        if (auto refusal = limits->admit_message(facts(), draft.sender)) return refuse(*refusal);
    }
    envelope = std::move(draft);
    enter(State::mail);
    reply(replies::sender_ok());
}

// --- RCPT (RFC 5321 4.1.1.3) -------------------------------------------------------

std::optional<Reply> SessionCore::check_rcpt_allowed() const {
    if (state == State::bdat) return replies::bdat_in_progress();
    if (state != State::mail && state != State::rcpt) return replies::need_mail();
    // RFC 5321 4.5.3.1.8: 452 for "too many recipients", and the client goes on.
    if (envelope.recipients.size() >= settings.recipients_per_message) return replies::too_many_recipients();
    return std::nullopt;
}

void SessionCore::cmd_rcpt(std::string_view argument) {
    static constexpr std::string_view usage = "RCPT TO:<address>";
    if (auto refusal = check_rcpt_allowed()) return reply(*refusal);
    const auto path_text = after_prefix(argument, "TO:");
    if (!path_text) return reply(replies::syntax(usage));
    auto parsed = parse_path(*path_text, false);
    if (!parsed.path) return reply(path_refusal(*parsed.error, replies::bad_recipient(), usage));
    RecipientDsn dsn;
    if (auto refusal = apply_rcpt_params(parsed.path->params, dsn)) return reply(*refusal);
    const Address& recipient = parsed.path->address;
    if (!recipient.ascii() && !envelope.smtputf8) return reply(replies::smtputf8_required());
    if (auto refusal = policy.check_rcpt(facts(), envelope.sender, recipient)) return reply(*refusal);
    if (limits != nullptr) {
        if (auto refusal = limits->admit_recipient(facts(), recipient)) return refuse(*refusal);
    }
    envelope.recipients.push_back(recipient);
    envelope.recipient_dsn.push_back(std::move(dsn));
    enter(State::rcpt);
    reply(replies::recipient_ok());
}

// --- RSET, NOOP, QUIT, VRFY, EXPN, HELP ------------------------------------------

// RFC 5321 4.1.1.5: RSET aborts the transaction (an open BDAT message included) but
// keeps the EHLO, TLS and AUTH state.
void SessionCore::reset_transaction() {
    if (limits != nullptr && state != State::initial && state != State::connect) limits->transaction_ended();
    if (message_open) queue_action(MessageAbort{});
    message_open = false;
    envelope = {};
    data_reader.reset();
    chunk_reader.reset();
    reading_chunk = false;
    if (state != State::initial) enter(State::ready);
}

// A 421 from the limits (too many messages from this client address) ends the
// session (RFC 5321 3.8); any other refusal is the command's reply.
void SessionCore::refuse(const Reply& refusal) {
    if (refusal.code == 421) return close(refusal);
    reply(refusal);
}

void SessionCore::cmd_rset(std::string_view argument) {
    if (!argument.empty()) return reply(replies::syntax("RSET"));
    reset_transaction();
    reply(replies::ok());
}

// RFC 5321 4.1.1.9: NOOP may carry a string, which is ignored.
void SessionCore::cmd_noop(std::string_view) { reply(replies::ok()); }

void SessionCore::cmd_quit(std::string_view) {
    reset_transaction();
    close(replies::bye());
}

// RFC 5321 3.5.3 and 7.3: 252 instead of revealing which users exist.
void SessionCore::cmd_vrfy(std::string_view argument) {
    if (argument.empty()) return reply(replies::syntax("VRFY address"));
    reply(replies::vrfy());
}

// RFC 5321 7.3: EXPN would disclose list members.
void SessionCore::cmd_expn(std::string_view) { reply(replies::expn_disabled()); }
void SessionCore::cmd_help(std::string_view) { reply(replies::help()); }
void SessionCore::cmd_unknown(std::string_view) { reply(replies::unknown_command()); }

}  // namespace cartero::smtp
