// ClientSession: the client side of SMTP (RFC 5321) and LMTP (RFC 2033) as a
// sans-IO state machine, for remote delivery, smarthost relay, LMTP to Dovecot,
// `cartero send/check` and `cartero sendmail`.
//
// The driver asks next() what to do and does it: send bytes, read and feed()
// what arrived, run the TLS handshake and report it, or (at ClientReady) start a
// transaction with begin() or end with quit(). The driver owns the socket and the
// clock: phase() names the step being waited for so it can apply the RFC 5321
// 4.5.3.2 timeout of that step, and calls timed_out() when it passes.
//
// Extensions used: PIPELINING (RFC 2920), SIZE (1870), 8BITMIME (6152), SMTPUTF8
// (6531), STARTTLS (3207), AUTH PLAIN/LOGIN (4954, 4616), AUTH OAUTHBEARER
// (7628) and XOAUTH2 with a bearer token, DSN (3461),
// ENHANCEDSTATUSCODES (2034, 3463). CHUNKING (3030) is recognised but not used:
// DATA works everywhere and BDAT gains little for messages already in memory.
//
// Trust: every byte fed in is untrusted (a hostile MX, or an active attacker
// before TLS). Replies are bounded (ClientSettings); anything malformed ends the
// session with a protocol failure, never a crash. Data arriving together with the
// 220 to STARTTLS is refused (CVE-2011-0411 class, client side). Credentials are
// sent only inside TLS. Addresses are checked for line breaks before they are
// written into commands (client_envelope.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smtp/client_envelope.hpp"
#include "smtp/extensions.hpp"
#include "smtp/reply.hpp"

namespace cartero::smtp {

// STARTTLS policy. Implicit TLS (RFC 8314) is the driver's business: it passes
// ClientSettings::implicit_tls and the session never sends STARTTLS.
enum class ClientTls {
    none,           // never STARTTLS (loopback smarthosts, LMTP on a Unix socket)
    opportunistic,  // STARTTLS when offered; plaintext when not offered or refused with 4xx/5xx
    required,       // no TLS, no mail: "the server does not offer STARTTLS"
};

// How the credentials are presented. An OAuth2 access token comes from the
// user's own token helper (`cartero send --oauth-token-command`).
enum class ClientMechanism {
    password,     // AUTH PLAIN, else LOGIN
    oauth2,       // OAUTHBEARER when offered, else XOAUTH2
    oauthbearer,  // RFC 7628
    xoauth2,      // Google's and Microsoft's format (reference/client-config.md 6.1)
};

struct ClientCredentials {
    std::string username;
    std::string password;  // with an OAuth2 mechanism: the access token
    ClientMechanism mechanism = ClientMechanism::password;
    // RFC 7628 3.1: the host and port the client connected to, sent inside
    // OAUTHBEARER (SmtpConnection fills them in from the peer when empty).
    std::string host = {};
    unsigned port = 0;
};

struct ClientSettings {
    std::string helo_name;                         // our name in EHLO/LHLO/HELO
    bool lmtp = false;                             // LHLO, one reply per recipient after the dot
    ClientTls tls = ClientTls::opportunistic;
    bool implicit_tls = false;                     // TLS already runs: no STARTTLS, AUTH allowed
    std::optional<ClientCredentials> credentials;  // AUTH after EHLO (and after TLS)
    // Bounds on what the server may send (the defaults are generous: RFC 5321
    // 4.5.3.1.5 asks for 512-octet reply lines; Gmail's EHLO reply has 9 lines).
    std::size_t reply_line_length = 2048;
    std::size_t reply_lines = 100;
    // Octets of the message turned into one ClientSend during DATA; the driver's
    // data-block timeout (RFC 5321 4.5.3.2.5, 3 minutes) applies to each.
    std::size_t data_block_size = 64 * 1024;
    // Keep a transcript of the dialogue (transcript()): `cartero check
    // --transcript`, and the steps it reports.
    bool keep_transcript = false;
};

// One line of the dialogue as `cartero check --transcript` shows it. What the
// client sent is shown with AUTH payloads (the base64 credentials, RFC 4954 4)
// replaced by "****", and the message text by a note of its size; what the
// server sent is shown as received (each reply line without CRLF).
enum class TranscriptSource { client, server, note };
struct TranscriptLine {
    TranscriptSource source = TranscriptSource::note;
    std::string text;
};

// The steps a reply is waited for; the driver applies one timeout per phase.
enum class ClientPhase {
    greeting,          // 4.5.3.2.1: 5 minutes
    hello,             // EHLO/LHLO/HELO (Postfix smtp_helo_timeout: 5 minutes)
    starttls,          // the 220 to STARTTLS
    tls_handshake,     // the driver runs the handshake
    auth,              // the AUTH exchange
    mail,              // 4.5.3.2.2: 5 minutes
    rcpt,              // 4.5.3.2.3: 5 minutes
    data_initiation,   // 4.5.3.2.4: 2 minutes
    data_block,        // 4.5.3.2.5: 3 minutes per block sent
    data_termination,  // 4.5.3.2.6: 10 minutes
    rset,
    quit,
    idle,              // ClientReady: nothing outstanding
    closed,
};

// States named after RFC 5321 3 and 4.1.4; every change goes through enter().
enum class ClientState {
    connect,   // waiting for the greeting
    hello,     // EHLO/LHLO/HELO sent
    starttls,  // STARTTLS sent, or the handshake running
    auth,      // inside the AUTH exchange
    ready,     // no transaction: begin() or quit()
    mail,      // MAIL sent (and, pipelined, RCPT and DATA)
    rcpt,      // RCPTs being answered
    data,      // message text being sent or its end awaited
    quit,      // QUIT sent
    closed,    // the driver closes the connection
};

// --- Actions -----------------------------------------------------------------
struct ClientSend { std::string bytes; };  // write all of it, then call next()
struct ClientReceive {};                   // read; feed(), peer_closed() or timed_out()
struct ClientStartTls {};                  // handshake; tls_started() or tls_failed()
struct ClientReady {};                     // idle: begin(message) or quit()
struct ClientClose {};                     // close the connection; failure() says why, if it failed
using ClientAction = std::variant<ClientSend, ClientReceive, ClientStartTls, ClientReady, ClientClose>;

// --- Results -----------------------------------------------------------------

// The final word on one recipient of the last transaction. A reply the client
// made up itself (a check before sending, a lost connection) has from_peer false.
struct RecipientResult {
    Reply reply;              // 2xx delivered, 4xx try again later, 5xx permanent
    bool from_peer = false;
    std::string in_reply_to;  // "MAIL FROM", "RCPT TO", "DATA", "end of DATA"; empty if made up
};

enum class ClientFailureKind {
    connection_lost,   // EOF or reset where a reply was due
    timed_out,         // the driver's deadline for phase() passed
    protocol,          // malformed or unexpected reply
    greeting_refused,  // 4xx/5xx greeting
    hello_refused,     // EHLO and HELO (or LHLO) refused
    tls_not_offered,   // required, and no STARTTLS in the EHLO reply
    tls_refused,       // required, and STARTTLS answered with other than 220
    tls_failed,        // the handshake failed (the driver's reason)
    auth_needs_tls,    // credentials given but the channel is not encrypted
    auth_unsupported,  // no AUTH PLAIN or LOGIN offered (or no OAuth2 mechanism, with a token)
    auth_refused,      // the server refused the credentials (or failed AUTH)
    service_closing,   // a 421 reply: the server is closing the connection
};

struct ClientFailure {
    ClientFailureKind kind = ClientFailureKind::protocol;
    std::string reason;           // plain words: "the server does not offer STARTTLS"
    std::optional<Reply> reply;   // the server's reply, when there was one
    ClientPhase phase = ClientPhase::closed;  // where it happened
};

// Hooks for logs and counters (STYLE rule 5).
class ClientObserver {
public:
    virtual ~ClientObserver() = default;
    virtual void state_changed(ClientState from, ClientState to) = 0;
    virtual void replied(std::string_view command, const Reply& reply) = 0;
};

class ClientSession {
public:
    explicit ClientSession(ClientSettings settings, ClientObserver* observer = nullptr);
    ~ClientSession();
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

    ClientAction next();

    void feed(std::string_view bytes);  // after ClientReceive
    void peer_closed();                 // after ClientReceive hit EOF or a reset
    void timed_out();                   // the deadline of phase() passed
    void tls_started();                 // after ClientStartTls succeeded
    void tls_failed(std::string_view reason);

    // After ClientReady only (otherwise std::logic_error: a driver bug). A message
    // that cannot be sent at all (too big, needs a missing extension) gets its
    // results at once and the session stays ready.
    void begin(ClientMessage message);
    void quit();

    ClientState state() const;
    ClientPhase phase() const;
    const Extensions& extensions() const;
    bool esmtp() const;           // EHLO/LHLO accepted (false after the HELO fallback)
    bool tls_active() const;
    bool authenticated() const;
    // Per recipient of the last begin(), in order; complete once next() says
    // ClientReady or ClientClose.
    const std::vector<RecipientResult>& results() const;
    const std::optional<ClientFailure>& failure() const;
    // With ClientSettings::keep_transcript, every line so far (else empty).
    const std::vector<TranscriptLine>& transcript() const;
    // Another transaction may run on this connection.
    bool reusable() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string_view to_string(ClientState);
std::string_view to_string(ClientPhase);
std::string_view to_string(ClientFailureKind);

}  // namespace cartero::smtp
