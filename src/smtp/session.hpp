// ServerSession: the SMTP server state machine of RFC 5321 with the extensions
// PIPELINING (RFC 2920), SIZE (1870), 8BITMIME (6152), SMTPUTF8 (6531),
// ENHANCEDSTATUSCODES (2034/3463), CHUNKING (3030), STARTTLS (3207), AUTH (4954),
// DSN (3461: the parameters are accepted and kept in the Envelope; bounce/ acts on them).
//
// Sans-IO: bytes go in with feed(), the driver asks next() what to do and
// performs it (write, read, TLS handshake, credential check, spool commit),
// then reports the result back. No sockets, threads, clocks or logging here, so
// the whole protocol is unit-tested and fuzzed directly.
//
// Trust: every byte fed in is untrusted. Input is bounded by SessionSettings;
// the session never grows a buffer past command_line_length (commands) or keeps
// message data (it is handed out as MessageData and forgotten).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "smtp/address.hpp"
#include "smtp/dsn_params.hpp"
#include "smtp/origin.hpp"
#include "smtp/reply.hpp"

namespace cartero::smtp {

using Role = config::ListenerRole;

struct SessionSettings {
    Role role = Role::mx;
    std::string hostname;                  // in the greeting and EHLO reply
    bool tls_available = false;            // a certificate is loaded: STARTTLS may be offered
    std::size_t message_size = 10 * 1024 * 1024;
    std::size_t recipients_per_message = 1000;
    std::size_t command_line_length = 2048;
    std::size_t bad_commands = 20;
    std::size_t messages_per_session = 1000;
    std::size_t received_headers = 100;    // limits.received_headers: more is a loop (RFC 5321 6.3)
};

struct PeerInfo {
    std::string ip;          // textual, "127.0.0.1" or "::1"
    std::uint16_t port = 0;
    bool trusted = false;    // inside trusted_networks: may relay without AUTH
    // Role local only (the submission socket): who connected, as the kernel
    // says (SO_PEERCRED), never as the client claims. The session treats
    // local_user as authenticated: RFC 6409 submission by a local login.
    // (`= {}`: braced PeerInfo{ip, port, trusted} stays free of -Wmissing-field-initializers.)
    std::optional<std::uint32_t> local_uid = {};
    std::string local_user = {};  // login name of local_uid, or the number when it has none
    // The load balancer that named this client in a PROXY header (for the
    // logs); empty when the client connected directly.
    std::string via_proxy = {};
};

struct TlsInfo {
    std::string version;     // "TLSv1.3"
    std::string cipher;      // "TLS_AES_256_GCM_SHA384"
    int bits = 0;
};

// Facts about the session a policy check may use. Read-only for the policy.
struct SessionFacts {
    Role role = Role::mx;
    const PeerInfo* peer = nullptr;
    std::optional<TlsInfo> tls;
    std::string helo;        // as given by the client
    std::string auth_user;   // canonical account address; empty if not authenticated
};

// Policy decisions the session asks for, synchronously. nullopt = accept;
// a Reply = refuse with it (4xx temporary, 5xx permanent). Implemented in
// policy/ on an in-memory account snapshot: no I/O happens inside.
class SessionPolicy {
public:
    virtual ~SessionPolicy() = default;
    virtual std::optional<Reply> check_mail(const SessionFacts&, const Address& sender) const = 0;
    virtual std::optional<Reply> check_rcpt(const SessionFacts&, const Address& sender,
                                            const Address& recipient) const = 0;
    // The end-of-message phase (end of DATA, BDAT LAST), before the commit:
    // `header_block` is the message's header section (RFC 5322 2.1), as far as
    // limits.message_size let it be kept.
    virtual std::optional<Reply> check_message(const SessionFacts&, std::string_view /*header_block*/) const {
        return std::nullopt;
    }
};

// Everything the Received header (RFC 5321 4.4) and the spool need about one message.
struct Envelope {
    Address sender;                     // null() for "<>"
    std::vector<Address> recipients;    // in RCPT order, as accepted
    bool smtputf8 = false;              // MAIL ... SMTPUTF8
    bool eight_bit = false;             // BODY=8BITMIME
    DsnReturn ret = DsnReturn::unset;   // MAIL ... RET= (RFC 3461 4.3)
    std::string envid = {};             // MAIL ... ENVID=, xtext-decoded; "" = none (RFC 3461 4.4)
    std::vector<RecipientDsn> recipient_dsn = {};  // one per recipient, same order (NOTIFY=, ORCPT=)
    Origin origin = Origin::internet;   // set at the end of DATA/BDAT (smtp/origin.hpp)
};

struct Trace {
    std::string helo;
    PeerInfo peer;
    std::optional<TlsInfo> tls;
    std::string auth_user;
    bool esmtp = true;                  // EHLO (true) or HELO (false)
    bool smtputf8 = false;
};

// --- Actions: what the driver must do next ----------------------------------

// Write these bytes (one or more replies). If close_after, close the connection
// once they are written (221 after QUIT, 421 on limits and timeouts).
struct Write { std::string bytes; bool close_after = false; };
// Read more bytes and feed() them; on EOF call peer_closed(), on timeout timed_out().
struct Read {};
// The 220 for STARTTLS has been written already (as a preceding Write). Run the
// TLS server handshake, then call tls_started() or tls_failed().
struct StartTls {};
// Check credentials off the I/O thread, then call auth_finished().
// `responses` are the client's base64 SASL responses, undecoded (auth/ decodes).
// The last one may not be base64 (RFC 4954 4): the session stopped there, and
// auth/ answers `malformed`, counted as a failure like a wrong password.
struct Authenticate {
    std::string mechanism;              // "PLAIN" or "LOGIN"
    std::vector<std::string> responses; // PLAIN: 1, LOGIN: 2 (username, password), fewer if malformed
};
// A message starts (DATA accepted, or first BDAT). Open a spool message and
// write the Received header built from `trace` (see smtp/received.hpp).
struct MessageBegin { Trace trace; };
// Message octets, already dot-unstuffed (DATA) or raw (BDAT). The view is valid
// only until the next call into the session.
struct MessageData { std::string_view bytes; };
// The message is complete and acceptable. Make it durable with this envelope,
// then call message_committed() with the queue ID, or message_failed().
struct MessageEnd { Envelope envelope; };
// Throw away the open message (too big, bare LF, RSET in BDAT, connection lost).
struct MessageAbort {};
// Close the connection now (after a Write with close_after, or on EOF).
struct Close {};

using Action = std::variant<Write, Read, StartTls, Authenticate, MessageBegin, MessageData,
                            MessageEnd, MessageAbort, Close>;

// --- Results the driver reports back ------------------------------------------

enum class AuthStatus {
    ok,
    bad_credentials,        // 535 5.7.8
    app_password_required,  // 534 5.7.9 Application-specific password required (as Gmail does)
    malformed,              // 501 5.5.2 (bad base64 or SASL encoding)
    temporary,              // 454 4.7.0 (store or pool unavailable)
    throttled,              // 421 4.7.0 then close (too many failures)
};

struct AuthResult {
    AuthStatus status = AuthStatus::bad_credentials;
    std::string user;       // canonical account address when ok
};

enum class State {
    connect,      // greeting not yet sent
    initial,      // after 220, before EHLO/HELO (RFC 5321 4.1.4)
    ready,        // after EHLO/HELO, no transaction
    mail,         // MAIL accepted
    rcpt,         // at least one RCPT accepted
    data,         // receiving DATA text
    bdat,         // receiving BDAT chunks
    auth,         // inside a SASL exchange
    starttls,     // waiting for the TLS handshake
    quit,         // closing
};

// Optional hooks for logs and counters (STYLE rule 5): the session reports every
// state change and every reply code; the driver turns them into log lines.
class SessionObserver {
public:
    virtual ~SessionObserver() = default;
    virtual void state_changed(State from, State to) = 0;
    virtual void replied(std::string_view verb, const Reply& reply) = 0;
};

class ServerSession {
public:
    // `already_tls` for the implicit-TLS role (RFC 8314): the handshake happened
    // before the greeting.
    ServerSession(SessionSettings settings, PeerInfo peer, const SessionPolicy& policy,
                  std::optional<TlsInfo> already_tls = std::nullopt,
                  SessionObserver* observer = nullptr);
    ~ServerSession();
    ServerSession(const ServerSession&) = delete;
    ServerSession& operator=(const ServerSession&) = delete;

    Action next();                          // the first call yields the 220 greeting

    void feed(std::string_view bytes);      // after Read
    void peer_closed();                     // after Read hit EOF or a reset
    void timed_out();                       // the command/data/session deadline passed
    void shutting_down();                   // server stopping: 421 4.3.2 at the next command boundary
    void tls_started(TlsInfo info);         // after StartTls succeeded
    void tls_failed();                      // after StartTls failed: the session just closes
    void auth_finished(const AuthResult&);  // after Authenticate
    void message_committed(std::string_view queue_id);  // after MessageEnd: 250 2.0.0 Ok: queued as ID
    void message_failed(const Reply& reply);            // after MessageEnd: 451 4.3.0 or given

    State state() const;
    const std::string& auth_user() const;
    bool tls_active() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string_view to_string(State);

}  // namespace cartero::smtp
