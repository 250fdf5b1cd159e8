// diagnose: see diagnosis.hpp. One table, read top to bottom: the first rule
// whose test holds gives the cause, the class, the exit code and the
// paragraph. Specific rules (a provider's own hint) stand before general ones
// (any refused AUTH), so the order is the logic; each test is one line.
#include "diagnose/diagnosis.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include <fmt/args.h>
#include <fmt/format.h>

#include "base/translation.hpp"

namespace cartero::diagnose {
namespace {

// --- reading the facts ----------------------------------------------------------

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool says(const Facts& f, std::string_view token) {
    return f.reply && lower(f.reply->text).find(lower(token)) != std::string::npos;
}
bool enhanced(const Facts& f, std::string_view code) { return f.reply && f.reply->enhanced == code; }
bool code(const Facts& f, int value) { return f.reply && f.reply->code == value; }
bool transient(const Facts& f) { return f.reply && f.reply->transient(); }
bool failed(const Facts& f, smtp::ClientFailureKind kind) { return f.failure == kind; }
bool host_has(const Facts& f, std::string_view part) { return lower(f.host).find(part) != std::string::npos; }
bool has_problem(const Facts& f, CertificateProblem p) {
    return std::find(f.certificate_problems.begin(), f.certificate_problems.end(), p) !=
           f.certificate_problems.end();
}
bool auth_refused(const Facts& f) { return f.layer == Layer::auth && f.reply && f.reply->code >= 500; }

// The port to suggest: the first other port that answers in a way a client
// can log in on (465 with TLS, 587 with STARTTLS), else any that answers.
const PortAnswer* port_to_use(const Facts& f) {
    const PortAnswer* any = nullptr;
    for (const auto& p : f.other_ports) {
        if (p.port == f.port || p.speaks == PortSpeaks::nothing) continue;
        if (p.speaks == PortSpeaks::tls || p.speaks == PortSpeaks::starttls) return &p;
        if (!any) any = &p;
    }
    return any;
}
bool other_port_answers(const Facts& f) { return port_to_use(f) != nullptr; }

bool only_oauth_offered(const Facts& f) {
    if (f.auth_mechanisms.empty()) return false;
    return std::all_of(f.auth_mechanisms.begin(), f.auth_mechanisms.end(), [](const std::string& m) {
        const auto l = lower(m);
        return l == "xoauth2" || l == "oauthbearer" || l == "xoauth";
    });
}

bool limit_wording(const Facts& f) {
    return says(f, "limit") || says(f, "quota") || says(f, "too many messages") || says(f, "exceeded");
}
bool sending_limit(const Facts& f) {
    if (!f.reply || f.layer == Layer::auth) return false;
    if (enhanced(f, "5.4.5") || enhanced(f, "4.4.5") || enhanced(f, "5.1.90")) return true;
    const int c = f.reply->code;
    const bool limit_code = c == 421 || c == 450 || c == 451 || c == 452 || c == 550 || c == 554;
    return limit_code && limit_wording(f);
}

bool relay_denied(const Facts& f) {
    return f.layer == Layer::rcpt && f.reply && f.reply->code >= 500 && says(f, "relay");
}

bool sender_not_allowed(const Facts& f) {
    if (f.layer != Layer::mail && f.layer != Layer::data) return false;
    return enhanced(f, "5.7.60") || says(f, "sendas") || says(f, "send as") || says(f, "not owned by") ||
           (f.layer == Layer::mail && f.reply && f.reply->code >= 500 && says(f, "sender address rejected"));
}

bool too_large(const Facts& f) {
    if (f.layer == Layer::auth) return false;
    return enhanced(f, "5.3.4") || enhanced(f, "5.2.3") || enhanced(f, "4.3.4") || code(f, 552) ||
           says(f, "size exceeds") || says(f, "too large") || says(f, "too big");
}

bool login_required(const Facts& f) {
    if (f.layer != Layer::mail && f.layer != Layer::rcpt) return false;
    return code(f, 530) || enhanced(f, "5.7.57") || says(f, "authentication required") ||
           says(f, "not authenticated");
}

bool plaintext_port(const Facts& f) {
    return f.port_speaks_plaintext || lower(f.error).find("wrong version number") != std::string::npos;
}

bool no_greeting(const Facts& f) {
    return f.layer == Layer::greeting &&
           (failed(f, smtp::ClientFailureKind::timed_out) || failed(f, smtp::ClientFailureKind::connection_lost));
}

// --- the table --------------------------------------------------------------------

// Exit codes (sysexits.h): see diagnosis.hpp and docs/client.md.
constexpr int by_layer = 0;
constexpr int ex_dataerr = 65, ex_nouser = 67, ex_nohost = 68, ex_unavailable = 69, ex_ioerr = 74,
              ex_tempfail = 75, ex_protocol = 76, ex_noperm = 77, ex_config = 78;

struct Rule {
    Cause cause;
    Class klass;
    bool (*applies)(const Facts&);
    const char* text;   // English, named placeholders; translated through base::tr
    int exit_code;      // by_layer: from the layer that failed
};

// The table keeps the English: translating at static initialisation would fix
// the language before --lang is read. This tr() only marks the texts for
// xgettext (docs/translations.md); fill() translates them with base::tr when
// diagnose() runs.
constexpr const char* tr(const char* english) { return english; }

const std::array rules{
    Rule{Cause::host_not_found, Class::connection, [](const Facts& f) { return f.layer == Layer::dns && f.host_not_found; },
         tr("The server name {host} does not exist: check it for typing mistakes.{suggestion}"), by_layer},
    Rule{Cause::dns_failed, Class::connection, [](const Facts& f) { return f.layer == Layer::dns; },
         tr("The server name {host} could not be looked up ({error}). Check your network connection and try "
            "again."), by_layer},
    Rule{Cause::port_blocked, Class::connection,
         [](const Facts& f) { return f.connect == ConnectError::timed_out && other_port_answers(f); },
         tr("Port {port} of {host} does not answer: the connection timed out, while port {use_port} answers. "
            "A firewall, an antivirus or your Internet provider is blocking port {port} (many block port 25). "
            "Use port {use_port} instead: --port {use_port} --tls {use_tls}."), by_layer},
    Rule{Cause::connect_failed, Class::connection, [](const Facts& f) { return f.connect == ConnectError::timed_out; },
         tr("{host} does not answer on port {port}, nor on ports 465, 587 or 25. The server is down, its name "
            "points to the wrong machine, or a firewall on your side blocks outgoing mail. Try from another "
            "network to tell which."), by_layer},
    Rule{Cause::connection_refused, Class::connection, [](const Facts& f) { return f.connect == ConnectError::refused; },
         tr("{host} refused the connection on port {port}: no mail server listens there. Check the port: 465 "
            "for SSL/TLS, 587 for STARTTLS.{use_instead}"), by_layer},
    Rule{Cause::host_unreachable, Class::connection,
         [](const Facts& f) { return f.connect == ConnectError::unreachable; },
         tr("There is no route to {host} ({error}). Check your network connection."), by_layer},
    Rule{Cause::connect_failed, Class::connection, [](const Facts& f) { return f.connect == ConnectError::other; },
         tr("Could not connect to {host} on port {port} ({error}). Check the server name, the port and your "
            "network connection."), by_layer},
    Rule{Cause::tls_to_plaintext_port, Class::protocol,
         [](const Facts& f) { return f.layer == Layer::tls && f.tls == TlsSetting::ssl && plaintext_port(f); },
         tr("You chose SSL/TLS from the first byte, but port {port} of {host} starts in plaintext and expects "
            "STARTTLS. Use --tls starttls on this port, or port 465 with --tls ssl."), ex_protocol},
    Rule{Cause::plaintext_to_tls_port, Class::protocol,
         [](const Facts& f) { return f.tls != TlsSetting::ssl && f.port_speaks_tls && no_greeting(f); },
         tr("Port {port} of {host} expects SSL/TLS from the first byte: it waited for encryption while cartero "
            "waited for its greeting. Use --tls ssl on this port, or port 587 with --tls starttls."), ex_protocol},
    Rule{Cause::certificate_expired, Class::protocol,
         [](const Facts& f) { return f.layer == Layer::tls && has_problem(f, CertificateProblem::expired); },
         tr("The server's certificate has expired (valid until {expiry}). Its administrator must renew it. "
            "Until then you can only go on with --insecure, which is not safe on a public network."), by_layer},
    Rule{Cause::certificate_wrong_name, Class::protocol,
         [](const Facts& f) { return f.layer == Layer::tls && has_problem(f, CertificateProblem::wrong_name); },
         tr("The server's certificate is not valid for {host}; it is valid for: {names}. Use one of those names "
            "as the server (--server), or ask the administrator for a certificate that names {host}."), by_layer},
    Rule{Cause::certificate_untrusted, Class::protocol,
         [](const Facts& f) { return f.layer == Layer::tls && has_problem(f, CertificateProblem::untrusted); },
         tr("The server's certificate is not signed by an authority this computer trusts (it is self-signed or "
            "from a private authority). If the server is your own, give its authority with --ca-file FILE; "
            "otherwise stop here: someone may be intercepting the connection."), by_layer},
    Rule{Cause::tls_failed, Class::protocol, [](const Facts& f) { return f.layer == Layer::tls; },
         tr("The encrypted connection with {host} could not be set up ({error}). Check the encryption setting: "
            "port 465 uses SSL/TLS, port 587 uses STARTTLS."), by_layer},
    Rule{Cause::plaintext_to_tls_port, Class::protocol,
         [](const Facts& f) { return f.tls != TlsSetting::ssl && f.port == 465 && no_greeting(f); },
         tr("Port {port} of {host} expects SSL/TLS from the first byte: it waited for encryption while cartero "
            "waited for its greeting. Use --tls ssl on this port, or port 587 with --tls starttls."), ex_protocol},
    Rule{Cause::greeting_refused, Class::rejected,
         [](const Facts& f) { return failed(f, smtp::ClientFailureKind::greeting_refused); },
         tr("The server refused the connection at once: {reply}. It may block your address or network, or be "
            "overloaded. Try again later or from another network; if it lasts, ask your provider."), ex_config},
    Rule{Cause::starttls_not_offered, Class::missing_feature,
         [](const Facts& f) { return failed(f, smtp::ClientFailureKind::tls_not_offered); },
         tr("The server on port {port} does not offer STARTTLS, so cartero did not send your password: it would "
            "have travelled unencrypted. Use port 465 with --tls ssl, or port 587 with --tls starttls, as your "
            "provider says."), ex_config},
    Rule{Cause::password_in_clear, Class::missing_feature,
         [](const Facts& f) { return failed(f, smtp::ClientFailureKind::auth_needs_tls); },
         tr("cartero does not send a password over an unencrypted connection, and --tls none gives none. Use "
            "--tls starttls (port 587) or --tls ssl (port 465)."), ex_config},
    Rule{Cause::oauth2_only, Class::missing_feature,
         [](const Facts& f) {
             return (failed(f, smtp::ClientFailureKind::auth_unsupported) && only_oauth_offered(f)) ||
                    enhanced(f, "5.7.30") || says(f, "basic authentication is disabled") ||
                    says(f, "basic authentication is not supported");
         },
         tr("This server accepts only OAuth2 sign-in (XOAUTH2, OAUTHBEARER), not a password: {reply}. Microsoft "
            "turned passwords off for Outlook.com, Hotmail and Live accounts in September 2024. Use a mail "
            "program that signs in with OAuth2, or a provider that allows app passwords."), ex_noperm},
    Rule{Cause::auth_not_offered, Class::missing_feature,
         [](const Facts& f) { return failed(f, smtp::ClientFailureKind::auth_unsupported); },
         tr("The server on port {port} does not offer login (AUTH). Port 25 is for servers passing mail to each "
            "other, and some servers offer login only after encryption. To send as a user, use port 587 with "
            "--tls starttls or port 465 with --tls ssl."), ex_config},
    Rule{Cause::gmail_app_password, Class::rejected,
         [](const Facts& f) { return says(f, "InvalidSecondFactor"); },
         tr("Gmail refuses your normal password because 2-Step Verification is on: {reply}. Create an app password "
            "at https://myaccount.google.com/apppasswords and use it instead of your password."), by_layer},
    Rule{Cause::gmail_bad_credentials, Class::rejected,
         [](const Facts& f) { return enhanced(f, "5.7.8") && says(f, "BadCredentials"); },
         tr("Gmail refused the username or password (535 5.7.8). Use your full address as the username. Gmail "
            "accepts no normal password from mail programs: turn on 2-Step Verification and use an app password "
            "from https://myaccount.google.com/apppasswords."), by_layer},
    Rule{Cause::microsoft_auth_disabled, Class::rejected,
         [](const Facts& f) { return enhanced(f, "5.7.139") && says(f, "SmtpClientAuthentication"); },
         tr("SMTP AUTH is turned off for this Microsoft 365 organisation or mailbox (5.7.139). The administrator "
            "must turn on Authenticated SMTP for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled "
            "$false); see https://aka.ms/smtp_auth_disabled."), by_layer},
    Rule{Cause::microsoft_auth_failed, Class::rejected,
         [](const Facts& f) { return auth_refused(f) && (enhanced(f, "5.7.3") || enhanced(f, "5.7.139")); },
         tr("Microsoft 365 refused the sign-in ({reply}): the password is wrong, multi-factor authentication "
            "blocks it, or SMTP AUTH is not allowed for the mailbox. Check the password; with multi-factor "
            "authentication use an app password if your organisation allows them."), by_layer},
    Rule{Cause::yahoo_app_password, Class::rejected,
         [](const Facts& f) { return says(f, "#AUTH005") || (auth_refused(f) && (host_has(f, "yahoo") || host_has(f, "aol."))); },
         tr("Yahoo and AOL answer like this ({reply}) also when the password is right but an app password is "
            "needed. Create an app password in your account's security settings and use it."), by_layer},
    Rule{Cause::icloud_app_password, Class::rejected,
         [](const Facts& f) { return auth_refused(f) && (host_has(f, "mail.me.com") || host_has(f, "icloud")); },
         tr("iCloud Mail accepts only an app-specific password from mail programs: {reply}. Create one at "
            "https://account.apple.com (Sign-In and Security, App-Specific Passwords) and use your full iCloud "
            "address as the username."), by_layer},
    Rule{Cause::app_password_required, Class::rejected,
         [](const Facts& f) { return auth_refused(f) && (enhanced(f, "5.7.9") || says(f, "application-specific password")); },
         tr("The server requires an app password for this account: {reply}. Your normal password is not accepted "
            "here. Create an app password (with cartero: cartero user app-password add ADDRESS LABEL) and use it "
            "instead."), by_layer},
    Rule{Cause::message_too_large, Class::rejected, too_large,
         tr("The message ({size} octets) is larger than the server accepts{limit}: {reply}. Send a smaller message: "
            "put big files behind a link instead of attaching them."), ex_dataerr},
    Rule{Cause::sending_limit, Class::rejected, sending_limit,
         tr("Your account has reached its sending limit: {reply}. Wait until it resets{reset} and try again. "
            "Providers count messages and recipients per day; send fewer, or ask for a higher limit."), by_layer},
    Rule{Cause::connection_dropped, Class::connection,
         [](const Facts& f) { return failed(f, smtp::ClientFailureKind::connection_lost); },
         tr("The connection to {host} was cut in the middle of the session ({error}). An unstable network, a VPN, "
            "or an antivirus or firewall that inspects mail can do this. Try again or from another network; if it "
            "always stops at the same step, turn off mail scanning in the antivirus."), ex_ioerr},
    Rule{Cause::timed_out, Class::connection,
         [](const Facts& f) { return failed(f, smtp::ClientFailureKind::timed_out); },
         tr("The server stopped answering in the middle of the session ({error}). An unstable network, or an "
            "antivirus or firewall that inspects mail, can do this. Try again or from another network."), ex_ioerr},
    Rule{Cause::temporary, Class::rejected, transient,
         tr("The server refused for now with a temporary error: {reply}. Try again later; if it keeps happening, "
            "ask the server's administrator."), ex_tempfail},
    Rule{Cause::auth_failed, Class::rejected, auth_refused,
         tr("The server refused the username or password: {reply}. Check both; the username is usually the full "
            "address. If the account has two-step verification, use an app password."), by_layer},
    Rule{Cause::login_required, Class::rejected, login_required,
         tr("The server wants you to log in before it takes mail from you: {reply}. Give your username with "
            "--user (and its password)."), by_layer},
    Rule{Cause::relay_denied, Class::rejected,
         [](const Facts& f) { return relay_denied(f) && !f.authenticated; },
         tr("Relay access denied: the server passes mail on to other domains only for users who log in. Give your "
            "username with --user (and its password), and check that this is your provider's outgoing server."),
         by_layer},
    Rule{Cause::relay_denied, Class::rejected, relay_denied,
         tr("Relay access denied although you logged in: this server does not send mail for your address. Use the "
            "outgoing server of the provider that hosts your address."), by_layer},
    Rule{Cause::sender_not_allowed, Class::rejected, sender_not_allowed,
         tr("The server does not let this account send as {sender}: {reply}. Use your own address or one of your "
            "aliases as the sender (--from), or ask the administrator for the right to send as it."), by_layer},
    Rule{Cause::rejected, Class::rejected, [](const Facts& f) { return f.reply.has_value(); },
         tr("The server refused: {reply}. {meaning} {advice}"), by_layer},
    Rule{Cause::internal, Class::internal, [](const Facts&) { return true; },
         tr("cartero check failed: {error}"), 70},
};

int exit_for(Layer layer) {
    switch (layer) {
        case Layer::dns: return ex_nohost;
        case Layer::connect: return ex_unavailable;
        case Layer::tls: return ex_protocol;
        case Layer::greeting:
        case Layer::hello: return ex_config;
        case Layer::auth: return ex_noperm;
        case Layer::mail:
        case Layer::rcpt: return ex_nouser;
        case Layer::data: return ex_dataerr;
    }
    return 70;
}

// The server's reply on one line: "535 5.7.8 Error: authentication failed".
std::string one_line(const smtp::Reply& r) {
    std::string text = r.text;
    std::replace(text.begin(), text.end(), '\n', ' ');
    return std::to_string(r.code) + (r.enhanced.empty() ? "" : " " + r.enhanced) + " " + text;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::string fill(const char* english, const Facts& f) {
    fmt::dynamic_format_arg_store<fmt::format_context> args;
    const PortAnswer* use = port_to_use(f);
    const std::string use_port = use ? std::to_string(use->port) : "587";
    const std::string use_tls = use && use->speaks == PortSpeaks::tls ? "ssl" : "starttls";
    std::string suggestion;
    if (!f.similar_hosts.empty())
        suggestion = " " + fmt::format(fmt::runtime(base::tr("Did you mean {}?")), f.similar_hosts.front());
    std::string use_instead;
    if (use) {
        use_instead = " " + fmt::format(fmt::runtime(base::tr("Port {} answers: use --port {} --tls {}.")), use->port,
                                        use->port, use_tls);
    }
    std::string reset;
    if (const auto when = f.reply ? reset_time(f.reply->text) : std::nullopt)
        reset = fmt::format(fmt::runtime(base::tr(" (the server says: {})")), *when);
    std::string limit;
    if (f.size_limit) limit = fmt::format(fmt::runtime(base::tr(" (at most {} octets, its SIZE)")), *f.size_limit);
    args.push_back(fmt::arg("host", f.host));
    args.push_back(fmt::arg("port", f.port));
    args.push_back(fmt::arg("use_port", use_port));
    args.push_back(fmt::arg("use_tls", use_tls));
    args.push_back(fmt::arg("error", f.error));
    args.push_back(fmt::arg("reply", f.reply ? one_line(*f.reply) : f.error));
    args.push_back(fmt::arg("names", f.certificate_names.empty() ? std::string("-") : joined(f.certificate_names)));
    args.push_back(fmt::arg("expiry", f.certificate_expiry));
    args.push_back(fmt::arg("suggestion", suggestion));
    args.push_back(fmt::arg("use_instead", use_instead));
    args.push_back(fmt::arg("reset", reset));
    args.push_back(fmt::arg("limit", limit));
    args.push_back(fmt::arg("size", f.message_size));
    args.push_back(fmt::arg("sender", f.sender));
    args.push_back(fmt::arg("meaning", f.code_meaning));
    args.push_back(fmt::arg("advice", f.code_advice));
    std::string out = fmt::vformat(base::tr(english), args);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

std::optional<std::string> reset_time(std::string_view text) {
    static const std::regex patterns[] = {
        std::regex(R"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?( ?(UTC|GMT|Z|[+-]\d{2}:?\d{2}))?)"),
        std::regex(R"(\bin \d+ (seconds?|minutes?|hours?|days?)\b)", std::regex::icase),
        std::regex(R"(\b(after|at|until) \d{1,2}:\d{2}( ?(UTC|GMT))?)", std::regex::icase),
    };
    const std::string subject(text);
    for (const auto& pattern : patterns) {
        std::smatch m;
        if (std::regex_search(subject, m, pattern)) return m.str(0);
    }
    return std::nullopt;
}

std::optional<std::string> reference(std::string_view text) {
    static const std::regex pattern(R"(\[ref ([A-Za-z0-9]{4,32})\])");
    const std::string subject(text);
    std::smatch m;
    if (std::regex_search(subject, m, pattern)) return m.str(1);
    return std::nullopt;
}

Diagnosis diagnose(const Facts& facts) {
    for (const Rule& rule : rules) {
        if (!rule.applies(facts)) continue;
        Diagnosis d;
        d.cause = rule.cause;
        d.klass = rule.klass;
        d.exit_code = rule.exit_code == by_layer ? exit_for(facts.layer) : rule.exit_code;
        if (transient(facts) && rule.klass == Class::rejected) d.exit_code = ex_tempfail;
        d.paragraph = fill(rule.text, facts);
        if (facts.reply) d.reference = reference(facts.reply->text).value_or("");
        return d;
    }
    return {};  // unreachable: the last rule applies to everything
}

std::string_view to_string(Cause cause) {
    switch (cause) {
        case Cause::host_not_found: return "host_not_found";
        case Cause::dns_failed: return "dns_failed";
        case Cause::port_blocked: return "port_blocked";
        case Cause::connection_refused: return "connection_refused";
        case Cause::host_unreachable: return "host_unreachable";
        case Cause::connect_failed: return "connect_failed";
        case Cause::tls_to_plaintext_port: return "tls_to_plaintext_port";
        case Cause::plaintext_to_tls_port: return "plaintext_to_tls_port";
        case Cause::certificate_expired: return "certificate_expired";
        case Cause::certificate_wrong_name: return "certificate_wrong_name";
        case Cause::certificate_untrusted: return "certificate_untrusted";
        case Cause::tls_failed: return "tls_failed";
        case Cause::greeting_refused: return "greeting_refused";
        case Cause::starttls_not_offered: return "starttls_not_offered";
        case Cause::auth_not_offered: return "auth_not_offered";
        case Cause::password_in_clear: return "password_in_clear";
        case Cause::gmail_app_password: return "gmail_app_password";
        case Cause::gmail_bad_credentials: return "gmail_bad_credentials";
        case Cause::microsoft_auth_disabled: return "microsoft_auth_disabled";
        case Cause::microsoft_auth_failed: return "microsoft_auth_failed";
        case Cause::yahoo_app_password: return "yahoo_app_password";
        case Cause::icloud_app_password: return "icloud_app_password";
        case Cause::app_password_required: return "app_password_required";
        case Cause::oauth2_only: return "oauth2_only";
        case Cause::auth_failed: return "auth_failed";
        case Cause::sending_limit: return "sending_limit";
        case Cause::login_required: return "login_required";
        case Cause::relay_denied: return "relay_denied";
        case Cause::sender_not_allowed: return "sender_not_allowed";
        case Cause::message_too_large: return "message_too_large";
        case Cause::connection_dropped: return "connection_dropped";
        case Cause::timed_out: return "timed_out";
        case Cause::temporary: return "temporary";
        case Cause::rejected: return "rejected";
        case Cause::internal: return "internal";
    }
    return "?";
}

std::string_view to_string(Class klass) {
    switch (klass) {
        case Class::connection: return "connection";
        case Class::protocol: return "protocol";
        case Class::missing_feature: return "missing feature";
        case Class::rejected: return "rejected";
        case Class::internal: return "internal";
    }
    return "?";
}

}  // namespace cartero::diagnose
