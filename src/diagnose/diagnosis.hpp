// diagnose: from the facts of a failed client connection to one short
// paragraph — the cause and the fix in plain words — for `cartero check`
// (docs/client.md). Pure and table-driven (STYLE rules 2 and 7): the caller
// gathers the facts (which layer failed, the error, the server's reply, the TLS
// report, what the other submission ports answered); diagnose() finds the
// first rule of the table that matches and fills its paragraph in.
//
// Classes (STYLE rule 7): connection (DNS, TCP, a dropped session), protocol
// (TLS mode or certificate), missing feature (STARTTLS, AUTH), rejected (the
// server said no: credentials, relay, sender, size, limits), internal.
//
// Exit codes, one per failing layer (sysexits.h where one fits), documented in
// docs/client.md: 68 DNS, 69 TCP, 76 TLS, 78 greeting/EHLO (the server lacks
// what the settings need), 77 AUTH, 67 MAIL FROM/RCPT TO, 65 DATA, 74 the
// connection dropped or timed out mid-session, 75 any temporary refusal
// (4xx: try again later).
//
// Text: English in the code through base::tr, Spanish in po/es/check.po; the
// language is chosen by the caller (base::choose_language) before this runs.
// Paragraphs use named placeholders ({host}, {port}, ...) so a translation may
// put them where its grammar wants. Provider hints are matched on the enhanced
// code plus a stable token (client-config.md 7), never on whole texts; RFC 3463
// meanings come from bounce/'s explanations where a rule has none of its own.
//
// Trust: the reply texts are the server's (untrusted): they are only searched
// and shown as received (the caller sanitises them for the terminal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/client_session.hpp"
#include "smtp/reply.hpp"

namespace cartero::diagnose {

// Where it failed, in the order `cartero check` walks the layers.
enum class Layer { dns, connect, tls, greeting, hello, auth, mail, rcpt, data };

enum class ConnectError { none, timed_out, refused, unreachable, other };

enum class CertificateProblem { expired, wrong_name, untrusted, other };

// What another port answered when `check` probed it (465, 587, 25).
enum class PortSpeaks { nothing, tls, starttls, plaintext };
struct PortAnswer {
    std::uint16_t port = 0;
    PortSpeaks speaks = PortSpeaks::nothing;
    bool offers_auth = false;  // AUTH in the EHLO reply (after TLS where there was TLS)
};

// The --tls setting the person used.
enum class TlsSetting { ssl, starttls, none };

struct Facts {
    Layer layer = Layer::connect;
    std::string host;              // as the person gave it
    // Known providers' SMTP hosts close to `host`, nearest first, for "did you
    // mean smtp.gmail.com?" (the caller asks discovery::nearest_smtp_hosts).
    std::vector<std::string> similar_hosts;
    std::uint16_t port = 0;
    TlsSetting tls = TlsSetting::starttls;
    bool credentials = false;      // a --user was given
    bool authenticated = false;    // AUTH succeeded before the failure

    bool host_not_found = false;   // DNS: the name does not exist (not a temporary failure)
    ConnectError connect = ConnectError::none;
    std::string error;             // our own words or the TLS library's ("wrong version number")

    // TLS: the certificate's problems, the names it is valid for, its expiry.
    std::vector<CertificateProblem> certificate_problems;
    std::vector<std::string> certificate_names;
    std::string certificate_expiry;
    // The port answered the other way: a TLS handshake (implicit TLS), or a
    // plaintext 220 greeting (STARTTLS or plain). Found by `check` re-trying.
    bool port_speaks_tls = false;
    bool port_speaks_plaintext = false;

    std::optional<smtp::ClientFailureKind> failure;  // the session's own account
    std::optional<smtp::Reply> reply;                // the server's reply, when there was one
    bool reply_from_server = true;                   // false: made up by the client (SIZE check)
    std::vector<std::string> auth_mechanisms;        // offered in the EHLO reply
    std::optional<std::uint64_t> size_limit;         // the server's SIZE, when it gave one
    std::uint64_t message_size = 0;

    std::vector<PortAnswer> other_ports;             // the probe of 465/587/25

    std::string sender;            // MAIL FROM
    std::string recipient;         // RCPT TO
    // RFC 3463's meaning of the reply's enhanced code and the advice for it,
    // translated (the caller takes them from bounce::explain): the last
    // resort for a refusal no rule knows.
    std::string code_meaning;
    std::string code_advice;
};

enum class Class { connection, protocol, missing_feature, rejected, internal };

// Every cause `check` tells apart (issue 9, section 2).
enum class Cause {
    host_not_found, dns_failed,
    port_blocked, connection_refused, host_unreachable, connect_failed,
    tls_to_plaintext_port, plaintext_to_tls_port,
    certificate_expired, certificate_wrong_name, certificate_untrusted, tls_failed,
    greeting_refused, starttls_not_offered, auth_not_offered, password_in_clear,
    gmail_app_password, gmail_bad_credentials, microsoft_auth_disabled, microsoft_auth_failed,
    yahoo_app_password, icloud_app_password, app_password_required, oauth2_only, auth_failed,
    sending_limit, login_required, relay_denied, sender_not_allowed, message_too_large,
    connection_dropped, timed_out, temporary, rejected, internal,
};

struct Diagnosis {
    Cause cause = Cause::internal;
    Class klass = Class::internal;
    int exit_code = 70;
    std::string paragraph;  // in the chosen language
    std::string reference;  // "K7Q2M9" from the server's "[ref K7Q2M9]", when it gave one
};

Diagnosis diagnose(const Facts& facts);

// The reset time in a limit reply ("try again after 2026-12-05 10:00 UTC",
// "resets in 23 minutes"), as the server wrote it; nullopt when none.
std::optional<std::string> reset_time(std::string_view text);

// The reference in "[ref K7Q2M9]", if the reply carries one.
std::optional<std::string> reference(std::string_view text);

std::string_view to_string(Cause cause);
std::string_view to_string(Class klass);

}  // namespace cartero::diagnose
