// SmtpConnection: one client connection to another mail server — a remote MX, a
// smarthost, or an LMTP server such as Dovecot (TCP or a Unix socket) — driving
// smtp::ClientSession over Asio and OpenSSL.
//
// Blocking API for delivery worker threads (.notes/outbound.md): each call runs
// the connection's own io_context until the step is done, and every socket
// operation has a deadline (STYLE rule 9): connect, then one per reply as RFC
// 5321 4.5.3.2 gives them (greeting 5 min, MAIL 5, RCPT 5, DATA initiation 2),
// and one for the DATA phase as a whole (the message text and the reply to its
// final dot). Deadlines are absolute: a peer that sends one octet every few
// seconds, or an endless "220-" continuation, cannot stretch them (issue 8:
// RFC 5321 4.5.3.2's per-block timers reset on every read would let it hold a
// delivery slot for ever).
//
// Shutdown: with ConnectionOptions::abandon set, an operation in progress ends
// within a fraction of a second as a temporary failure ("abandoned") and no new
// one starts, so a stopping server need not wait for a slow peer.
//
// Outcomes are values (STYLE rule 7): open() returns a connection or a failure
// outcome with a plain-words reason; send() returns one DeliveryOutcome per
// recipient: 2xx delivered, 4xx temporary, 5xx permanent, and anything that went
// wrong on the way (lost connection, timeout, TLS) temporary.
//
// TLS: opportunistic STARTTLS (RFC 3207; certificate checked and reported, not
// required), required STARTTLS, or implicit TLS (RFC 8314). With
// verify_certificate the chain must lead to the system store or ca_file and the
// certificate must name the peer's host (RFC 6125 via X509_VERIFY_PARAM_set1_host);
// the failure reason says which check failed. TLS 1.2 is the minimum version.
// With `tlsa` records (DANE, RFC 7672, decided by the caller from DNSSEC-secure
// answers: delivery/remote/dane.hpp) TLS is required and the certificate must
// match one of them, through OpenSSL's DANE support (SSL_dane_enable,
// SSL_dane_tlsa_add): DANE-EE(3) without name checks (RFC 7672 3.1.1), DANE-TA(2)
// with the MX host name as reference identifier (3.1.2); the failure is
// "DANE: no TLSA record matches the certificate".
//
// Trust: the peer is untrusted; everything it sends goes through the sans-IO
// session (bounded, fuzzed). Credentials are sent only inside TLS (the session
// refuses otherwise). Needs no privileges beyond outbound sockets and reading
// ca_file.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delivery/courier.hpp"
#include "dns/resolver.hpp"
#include "smtp/client_session.hpp"

namespace cartero::delivery {

// Where to connect. For TCP, `address` is the IP literal (resolved by the caller)
// and `host` the name used for SNI and certificate checks (an MX host name; for a
// literal address, the same literal). For a Unix socket, only `unix_socket`.
struct Peer {
    std::string host;
    std::string address;
    std::uint16_t port = 25;
    std::filesystem::path unix_socket;  // non-empty: connect here instead (LMTP)
};

enum class TlsMode {
    none,           // plaintext only (loopback smarthosts, LMTP on a Unix socket)
    opportunistic,  // STARTTLS when offered (MX default)
    required,       // STARTTLS or no delivery
    implicit,       // TLS from the first byte (port 465, RFC 8314)
};

// RFC 5321 4.5.3.2 defaults; the names match smtp::ClientPhase.
struct ConnectionTimeouts {
    std::chrono::milliseconds connect{std::chrono::seconds(30)};  // Postfix smtp_connect_timeout
    std::chrono::milliseconds greeting{std::chrono::minutes(5)};
    std::chrono::milliseconds hello{std::chrono::minutes(5)};
    std::chrono::milliseconds starttls{std::chrono::minutes(5)};
    std::chrono::milliseconds tls_handshake{std::chrono::minutes(1)};
    std::chrono::milliseconds auth{std::chrono::minutes(5)};
    std::chrono::milliseconds mail{std::chrono::minutes(5)};
    std::chrono::milliseconds rcpt{std::chrono::minutes(5)};
    std::chrono::milliseconds data_initiation{std::chrono::minutes(2)};
    // The DATA phase as a whole: every block of the message text and the reply
    // (LMTP: the replies) to its final dot, from the 354 on. RFC 5321 4.5.3.2.5-6
    // give 3 minutes per block and 10 for the final reply; one total bound is
    // what keeps a peer that reads slowly from holding the slot (Postfix
    // smtp_data_done_timeout is 10 minutes).
    std::chrono::milliseconds data{std::chrono::minutes(10)};
    std::chrono::milliseconds rset{std::chrono::seconds(20)};     // Postfix smtp_rset_timeout
    std::chrono::milliseconds quit{std::chrono::minutes(5)};

    std::chrono::milliseconds for_phase(smtp::ClientPhase phase) const;
    friend bool operator==(const ConnectionTimeouts&, const ConnectionTimeouts&) = default;
};

struct ConnectionOptions {
    std::string helo_name;
    TlsMode tls = TlsMode::opportunistic;
    bool verify_certificate = false;                     // chain and host name must check out
    std::optional<std::filesystem::path> ca_file;        // trusted besides the system store (client_tls.hpp)
    std::optional<smtp::ClientCredentials> credentials;  // AUTH PLAIN/LOGIN, inside TLS only
    // DANE (RFC 7672): when not empty, the certificate is checked against these
    // usable TLSA records instead of ca_file and verification is mandatory.
    std::vector<dns::TlsaRecord> tlsa;
    bool lmtp = false;
    ConnectionTimeouts timeouts;
    std::size_t reply_line_length = 2048;                // see smtp::ClientSettings
    std::size_t reply_lines = 100;
    // Keep the dialogue's transcript (Dialogue::transcript) for `cartero check
    // --transcript`; the steps and their times are always kept.
    bool keep_transcript = false;
    // Set by the courier when the server stops (Courier::abandon): the
    // operation in progress ends as a temporary failure. Must outlive the
    // connection; null: never abandoned.
    const std::atomic<bool>* abandon = nullptr;
};

// What was wrong with the certificate, in the classes a person can act on.
enum class CertificateProblem {
    expired,        // or not yet valid: the dates do not include now
    wrong_name,     // valid, but not for the host name connected to
    untrusted,      // self-signed, or from a CA not in the trust store (--ca-file)
    other,          // anything else OpenSSL reports (verify_error says what)
};

// One certificate of the chain the server sent, leaf first.
struct CertificateSummary {
    std::string subject;      // "CN=mail.example.com" (RFC 2253 form)
    std::string issuer;
    std::string not_after;    // "2027-03-01 12:00:00 UTC"
    std::int64_t not_after_unix = 0;
};

// For the delivery log line: "TLSv1.3 TLS_AES_256_GCM_SHA384, certificate verified";
// and for `cartero check`'s TLS step: the chain, the names, the problems.
// Filled after any handshake that got as far as the server's certificate,
// also when the handshake then failed on it.
struct TlsReport {
    bool active = false;
    std::string version;
    std::string cipher;
    bool verified = false;      // chain and host name checked out (whether or not required)
    std::string verify_error;   // why not, e.g. "self-signed certificate"
    std::string dane;           // with TLSA records: which matched, e.g. "DANE-EE(3) TLSA record matched"
    std::vector<CertificateSummary> chain;
    std::vector<std::string> names;            // the leaf's DNS names (subjectAltName, else its CN)
    std::vector<CertificateProblem> problems;  // each class once, in the order found
};

// The dialogue as `cartero check` reports it: one step per reply (what it
// answered, how long it took from the command), plus the connection and the
// TLS handshake; and, with keep_transcript, every line with its time.
struct DialogueStep {
    std::string what;                 // "connect", "TLS", "greeting", "EHLO", "AUTH", "MAIL FROM", ...
    std::optional<smtp::Reply> reply; // none for connect and TLS
    std::chrono::milliseconds took{0};
};
struct TimedLine {
    std::chrono::milliseconds at{0};  // since the connection was started
    smtp::TranscriptLine line;
};
struct Dialogue {
    std::vector<DialogueStep> steps;
    std::vector<TimedLine> transcript;
};

using Transaction = smtp::ClientMessage;

class SmtpConnection;

// Where open() failed, for callers that explain it (`cartero check`).
enum class OpenFailure { none, connect_timed_out, connect_refused, unreachable, connect_other, tls, dialogue };

struct OpenResult {
    std::unique_ptr<SmtpConnection> connection;    // null on failure
    OpenFailure failed_at = OpenFailure::none;
    DeliveryOutcome failure;                       // when connection is null
    std::optional<smtp::ClientFailure> session_failure;  // the dialogue's own account, if it got that far
    // On failure, what happened up to it (on success, the connection has them).
    Dialogue dialogue;
    TlsReport tls;
};

class SmtpConnection {
public:
    // Connects, reads the greeting, says EHLO/LHLO, runs STARTTLS and AUTH as the
    // options ask. Never throws for network or peer trouble.
    static OpenResult open(const Peer& peer, const ConnectionOptions& options);

    ~SmtpConnection();  // closes the socket (without QUIT: call quit() to be polite)
    SmtpConnection(const SmtpConnection&) = delete;
    SmtpConnection& operator=(const SmtpConnection&) = delete;

    // One message, several recipients; one outcome per recipient, in order.
    std::vector<DeliveryOutcome> send(const Transaction& transaction);
    bool reusable() const;
    void quit();
    // Why the last transaction or the session failed, if it did.
    const std::optional<smtp::ClientFailure>& failure() const;
    // The last transaction failed because the connection was lost, timed out or
    // closed (421) before any of the message was sent. On a connection kept idle
    // for reuse that is no verdict on the message: a fresh connection may be
    // tried. A failure later (the body sent, the reply to the final dot lost) is
    // not: the server may have taken the message, and sending it again would
    // deliver it twice (RFC 5321 6.1); the queue retries it later.
    bool failed_before_the_message() const;

    // Per recipient of the last send(), as the session decided it (which
    // command the reply answered, whether the server or the client made it).
    const std::vector<smtp::RecipientResult>& results() const;
    const Dialogue& dialogue() const;
    const TlsReport& tls() const;
    const smtp::Extensions& extensions() const;
    // "mx.example.com[192.0.2.1]:25" or the socket path, for log lines and details.
    const std::string& peer_name() const;

    struct Impl;

private:
    explicit SmtpConnection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

std::string describe(const TlsReport& tls);

}  // namespace cartero::delivery
