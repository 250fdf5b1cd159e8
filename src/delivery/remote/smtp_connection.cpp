// SmtpConnection: see smtp_connection.hpp for the contract.
//
// How the blocking calls keep a deadline on every operation: each socket
// operation is started asynchronously on the connection's own io_context, which
// then runs until the operation completes or its deadline passes (in slices of
// abandon_poll, so a shutdown's abandon is seen soon). If the operation has not
// completed by then, the socket is cancelled and the context run until the
// cancelled handler has returned, so nothing outlives the call. One thread, no
// coroutines needed: the worker thread is the only one here.
//
// The deadline is an absolute time (ReplyDeadline below): set when a command is
// sent or a reply has been completed, never moved by octets arriving. Timers
// reset per read would let a peer that trickles hold the connection for ever.
#include "delivery/remote/smtp_connection.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "smtp/reply_parser.hpp"

namespace cartero::delivery {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using local_stream = asio::local::stream_protocol;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// How often a blocked operation looks at ConnectionOptions::abandon: a stopping
// server waits at most this long for the connection to give up.
constexpr auto abandon_poll = std::chrono::milliseconds(100);

// The completion of one operation, whatever its signature.
struct Completion {
    error_code* ec;
    std::size_t* transferred;
    bool* done;
    void operator()(error_code e, std::size_t n = 0) const {
        *ec = e;
        *transferred = n;
        *done = true;
    }
    template <class Endpoint>
    void operator()(error_code e, const Endpoint&) const { (*this)(e, 0); }
};

DeliveryStatus status_of(int code) {
    if (code >= 200 && code < 300) return DeliveryStatus::delivered;
    if (code >= 500 && code < 600) return DeliveryStatus::permanent;
    return DeliveryStatus::temporary;  // 4xx and anything unknown (STYLE rule 7)
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

smtp::ClientSettings session_settings(const ConnectionOptions& o, bool implicit) {
    smtp::ClientSettings s;
    s.helo_name = o.helo_name;
    s.lmtp = o.lmtp;
    s.implicit_tls = implicit;
    switch (o.tls) {
        case TlsMode::none:
        case TlsMode::implicit: s.tls = smtp::ClientTls::none; break;
        case TlsMode::opportunistic: s.tls = smtp::ClientTls::opportunistic; break;
        case TlsMode::required: s.tls = smtp::ClientTls::required; break;
    }
    s.credentials = o.credentials;
    s.reply_line_length = o.reply_line_length;
    s.reply_lines = o.reply_lines;
    return s;
}

std::string peer_name_of(const Peer& peer) {
    if (!peer.unix_socket.empty()) return peer.unix_socket.string();
    return peer.host + "[" + peer.address + "]:" + std::to_string(peer.port);
}

}  // namespace

std::chrono::milliseconds ConnectionTimeouts::for_phase(smtp::ClientPhase phase) const {
    using P = smtp::ClientPhase;
    switch (phase) {
        case P::greeting: return greeting;
        case P::hello: return hello;
        case P::starttls: return starttls;
        case P::tls_handshake: return tls_handshake;
        case P::auth: return auth;
        case P::mail: return mail;
        case P::rcpt: return rcpt;
        case P::data_initiation: return data_initiation;
        case P::data_block:
        case P::data_termination: return data;
        case P::rset: return rset;
        case P::quit:
        case P::idle:
        case P::closed: return quit;
    }
    return quit;
}

namespace {

// When the reply being waited for is due: a fresh deadline per reply (for the
// greeting, after each command sent and after each reply completed), one for
// the whole DATA phase, and none moved by octets that arrive.
class ReplyDeadline final : public smtp::ClientObserver {
public:
    explicit ReplyDeadline(const ConnectionTimeouts& timeouts) : timeouts_(timeouts) {}

    Clock::time_point for_action(smtp::ClientPhase phase, bool sending) {
        using P = smtp::ClientPhase;
        const auto now = Clock::now();
        if (phase == P::data_block || phase == P::data_termination) {
            if (!in_data_) deadline_ = now + timeouts_.data;
            in_data_ = true;
            fresh_ = false;
            return deadline_;
        }
        if (in_data_ || fresh_ || sending) deadline_ = now + timeouts_.for_phase(phase);
        in_data_ = fresh_ = false;
        return deadline_;
    }

    void state_changed(smtp::ClientState, smtp::ClientState) override {}
    void replied(std::string_view, const smtp::Reply&) override { fresh_ = true; }

private:
    const ConnectionTimeouts& timeouts_;
    Clock::time_point deadline_{};
    bool fresh_ = true;  // the next reply waited for gets a new deadline
    bool in_data_ = false;
};

}  // namespace

struct SmtpConnection::Impl {
    Peer peer;
    ConnectionOptions options;
    std::string name;
    asio::io_context io;
    std::optional<tcp::socket> tcp_socket;
    std::optional<local_stream::socket> unix_socket;
    std::shared_ptr<ssl::context> tls_context;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls_stream;
    ReplyDeadline reply_deadline;
    smtp::ClientSession session;
    TlsReport tls;
    std::array<char, 8192> buffer{};
    bool open = false;

    Impl(const Peer& p, const ConnectionOptions& o)
        : peer(p), options(o), name(peer_name_of(p)), reply_deadline(options.timeouts),
          session(session_settings(o, o.tls == TlsMode::implicit), &reply_deadline) {}

    bool abandoned() const { return options.abandon != nullptr && options.abandon->load(); }

    // --- one operation with a deadline ----------------------------------------
    // timed_out when the deadline passed, operation_aborted when abandoned.
    template <class Start>
    error_code await(Clock::time_point deadline, Start start, std::size_t* transferred = nullptr) {
        error_code ec = asio::error::would_block;
        std::size_t n = 0;
        bool done = false;
        error_code gave_up;
        if (abandoned()) return asio::error::operation_aborted;
        start(Completion{&ec, &n, &done});
        while (!done) {
            const auto now = Clock::now();
            if (abandoned()) gave_up = asio::error::operation_aborted;
            else if (now >= deadline) gave_up = asio::error::timed_out;
            if (gave_up) break;
            io.restart();
            io.run_for(std::min<Clock::duration>(deadline - now, abandon_poll));
        }
        if (!done) {
            cancel();
            io.restart();
            io.run();
            ec = gave_up;
        }
        if (transferred) *transferred = n;
        return ec;
    }
    template <class Start>
    error_code await(std::chrono::milliseconds limit, Start start, std::size_t* transferred = nullptr) {
        return await(Clock::now() + limit, std::move(start), transferred);
    }

    void cancel() {
        error_code ignored;
        if (tcp_socket) tcp_socket->cancel(ignored);
        if (unix_socket) unix_socket->cancel(ignored);
    }

    template <class F>
    void with_stream(F&& f) {
        if (tls_stream) f(*tls_stream);
        else if (tcp_socket) f(*tcp_socket);
        else f(*unix_socket);
    }

    // --- connection setup -------------------------------------------------------
    std::optional<std::string> connect();
    std::optional<std::string> handshake();
    std::optional<std::string> prepare_tls();
    std::optional<std::string> prepare_dane(SSL* handle);
    void record_tls();

    // --- the dialogue -------------------------------------------------------------
    void drive();
    void lost(error_code ec);
    std::string abandoned_note(std::string detail) const;
    void close();
    DeliveryOutcome outcome_of(const smtp::RecipientResult& r) const;
    DeliveryOutcome failure_outcome(const smtp::ClientFailure& f) const;
};

// Returns the reason on failure.
std::optional<std::string> SmtpConnection::Impl::connect() {
    const auto limit = options.timeouts.connect;
    error_code ec;
    if (!peer.unix_socket.empty()) {
        unix_socket.emplace(io);
        ec = await(limit, [&](Completion c) { unix_socket->async_connect(local_stream::endpoint(peer.unix_socket.string()), c); });
    } else {
        const auto address = asio::ip::make_address(peer.address, ec);
        if (ec) return "not an IP address: " + peer.address;
        tcp_socket.emplace(io);
        ec = await(limit, [&](Completion c) { tcp_socket->async_connect(tcp::endpoint(address, peer.port), c); });
    }
    if (ec == asio::error::timed_out) return "connect to " + name + ": timed out";
    if (ec) return "connect to " + name + ": " + ec.message();
    open = true;
    return std::nullopt;
}

// The client context: TLS 1.2 or newer, no compression or renegotiation, the
// chain and host name always checked so the log can say whether they hold; the
// handshake fails on them only with verify_certificate.
std::optional<std::string> SmtpConnection::Impl::prepare_tls() {
    if (!tcp_socket) return "TLS over a Unix socket is not supported";
    const bool dane = !options.tlsa.empty();
    tls_context = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = tls_context->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    const bool loaded = options.ca_file ? SSL_CTX_load_verify_locations(native, options.ca_file->c_str(), nullptr) == 1
                                        : SSL_CTX_set_default_verify_paths(native) == 1;
    // DANE-TA/DANE-EE records are their own trust anchors: no CA store needed.
    if (!loaded && options.verify_certificate && !dane) {
        return "cannot load CA file " + (options.ca_file ? options.ca_file->string() : std::string("(system store)"));
    }
    if (dane && SSL_CTX_dane_enable(native) <= 0) return "DANE: OpenSSL cannot enable DANE";
    tls_context->set_verify_mode(ssl::verify_peer);
    if (!options.verify_certificate && !dane)
        tls_context->set_verify_callback([](bool, ssl::verify_context&) { return true; });
    tls_stream = std::make_unique<ssl::stream<tcp::socket&>>(*tcp_socket, *tls_context);
    SSL* handle = tls_stream->native_handle();
    if (dane) return prepare_dane(handle);
    // SNI only for names (RFC 6066 3: literal addresses are not permitted).
    if (is_ip_literal(peer.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), peer.host.c_str());
    } else {
        SSL_set_tlsext_host_name(handle, peer.host.c_str());
        SSL_set_hostflags(handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(handle, peer.host.c_str());
    }
    return std::nullopt;
}

// RFC 7672 3.1: the TLSA records go to OpenSSL, which matches them during the
// handshake. The MX host name is the TLSA base domain and the reference
// identifier for DANE-TA(2); DANE-EE(3) matches ignore names (3.1.1).
std::optional<std::string> SmtpConnection::Impl::prepare_dane(SSL* handle) {
    SSL_set_tlsext_host_name(handle, peer.host.c_str());
    if (SSL_dane_enable(handle, peer.host.c_str()) <= 0) return "DANE: OpenSSL cannot enable DANE for " + peer.host;
    SSL_dane_set_flags(handle, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int added = 0;
    for (const auto& r : options.tlsa) {
        const auto* data = reinterpret_cast<const unsigned char*>(r.data.data());
        if (SSL_dane_tlsa_add(handle, r.usage, r.selector, r.matching_type, data, r.data.size()) > 0) ++added;
    }
    if (added == 0) return std::string("DANE: no usable TLSA record");
    return std::nullopt;
}

std::optional<std::string> SmtpConnection::Impl::handshake() {
    if (auto error = prepare_tls()) return error;
    const error_code ec = await(options.timeouts.tls_handshake, [&](Completion c) {
        tls_stream->async_handshake(ssl::stream_base::client, c);
    });
    const long verify = SSL_get_verify_result(tls_stream->native_handle());
    if (ec && !options.tlsa.empty() && verify != X509_V_OK) {
        if (verify == X509_V_ERR_DANE_NO_MATCH) return std::string("DANE: no TLSA record matches the certificate");
        return std::string("DANE: certificate verify failed: ") + X509_verify_cert_error_string(verify);
    }
    if (ec && options.verify_certificate && verify != X509_V_OK) {
        return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    }
    if (ec == asio::error::timed_out) return "timed out";
    if (ec) return ec.message();
    record_tls();
    return std::nullopt;
}

void SmtpConnection::Impl::record_tls() {
    SSL* handle = tls_stream->native_handle();
    tls.active = true;
    tls.version = SSL_get_version(handle);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(handle)) tls.cipher = SSL_CIPHER_get_name(cipher);
    const long verify = SSL_get_verify_result(handle);
    const bool has_certificate = SSL_get0_peer_certificate(handle) != nullptr;
    tls.verified = has_certificate && verify == X509_V_OK;
    if (!has_certificate) tls.verify_error = "no certificate";
    else if (verify != X509_V_OK) tls.verify_error = X509_verify_cert_error_string(verify);
    if (!options.tlsa.empty() && tls.verified) {
        std::uint8_t usage = 0, selector = 0, matching = 0;
        if (SSL_get0_dane_tlsa(handle, &usage, &selector, &matching, nullptr, nullptr) >= 0)
            tls.dane = std::string(usage == 3 ? "DANE-EE(3)" : "DANE-TA(2)") + " TLSA record matched";
    }
}

// Runs the session until it is ready for a transaction or closed.
void SmtpConnection::Impl::drive() {
    for (int step = 0;; ++step) {
        const smtp::ClientAction action = session.next();
        const auto limit = reply_deadline.for_action(session.phase(), std::holds_alternative<smtp::ClientSend>(action));
        if (const auto* send = std::get_if<smtp::ClientSend>(&action)) {
            error_code ec;
            with_stream([&](auto& stream) {
                ec = await(limit, [&](Completion c) { asio::async_write(stream, asio::buffer(send->bytes), c); });
            });
            if (ec) lost(ec);
        } else if (std::holds_alternative<smtp::ClientReceive>(action)) {
            error_code ec;
            std::size_t n = 0;
            with_stream([&](auto& stream) {
                ec = await(limit, [&](Completion c) { stream.async_read_some(asio::buffer(buffer), c); }, &n);
            });
            if (ec) lost(ec);
            else session.feed(std::string_view(buffer.data(), n));
        } else if (std::holds_alternative<smtp::ClientStartTls>(action)) {
            if (auto error = handshake()) session.tls_failed(*error);
            else session.tls_started();
        } else if (std::holds_alternative<smtp::ClientReady>(action)) {
            return;
        } else {
            return close();
        }
    }
}

// An abandoned operation ends the session as a timeout would: a temporary
// failure before or during the message, never a verdict on it.
void SmtpConnection::Impl::lost(error_code ec) {
    if (ec == asio::error::timed_out || ec == asio::error::operation_aborted) session.timed_out();
    else session.peer_closed();
}

std::string SmtpConnection::Impl::abandoned_note(std::string detail) const {
    if (!abandoned()) return detail;
    return "delivery abandoned because cartero is stopping, retried after restart (" + detail + ")";
}

void SmtpConnection::Impl::close() {
    if (!open) return;
    open = false;
    error_code ignored;
    if (tls_stream && tls.active) {
        // close_notify, briefly: the peer may already be gone.
        await(std::chrono::seconds(2), [&](Completion c) { tls_stream->async_shutdown([c](error_code e) { c(e); }); });
    }
    if (tcp_socket) tcp_socket->close(ignored);
    if (unix_socket) unix_socket->close(ignored);
}

DeliveryOutcome SmtpConnection::Impl::outcome_of(const smtp::RecipientResult& r) const {
    std::string detail = r.from_peer ? "host " + name + " said: " + smtp::one_line(r.reply) + " (in reply to " +
                                           r.in_reply_to + ")"
                                     : name + ": " + r.reply.text;
    return DeliveryOutcome{status_of(r.reply.code), r.reply, std::move(detail)};
}

// Only a permanent refusal of EHLO and HELO bounces; TLS, AUTH and connection
// trouble wait in the queue for the operator or the peer to fix it (Postfix
// smtp_sasl_auth_soft_bounce does the same for AUTH). So does a 5xx greeting:
// it says "no service here" about the server, nothing about the message
// (RFC 5321 3.1), so the next MX is tried and, if every one says so, the
// message is deferred (Postfix's smtp_skip_5xx_greeting).
DeliveryOutcome SmtpConnection::Impl::failure_outcome(const smtp::ClientFailure& f) const {
    using K = smtp::ClientFailureKind;
    const bool permanent = f.kind == K::hello_refused && f.reply && f.reply->permanent();
    DeliveryOutcome out;
    out.status = permanent ? DeliveryStatus::permanent : DeliveryStatus::temporary;
    if (f.reply) out.reply = *f.reply;
    out.detail = f.kind == K::greeting_refused ? "host " + name + " refused to talk to me: " + smtp::one_line(*f.reply)
                                               : "host " + name + ": " + f.reason;
    if (out.status == DeliveryStatus::temporary) out.detail = abandoned_note(std::move(out.detail));
    return out;
}

// --- public ------------------------------------------------------------------------

SmtpConnection::SmtpConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmtpConnection::~SmtpConnection() { impl_->close(); }

OpenResult SmtpConnection::open(const Peer& peer, const ConnectionOptions& options) {
    auto impl = std::make_unique<Impl>(peer, options);
    OpenResult result;
    if (auto error = impl->connect()) {
        result.failure = DeliveryOutcome{DeliveryStatus::temporary, {}, impl->abandoned_note(*error)};
        return result;
    }
    if (options.tls == TlsMode::implicit) {
        if (auto error = impl->handshake()) {
            impl->close();
            result.failure = DeliveryOutcome{DeliveryStatus::temporary, {}, "TLS with " + impl->name + " failed: " + *error};
            return result;
        }
    }
    impl->drive();
    if (const auto& failure = impl->session.failure()) {
        result.failure = impl->failure_outcome(*failure);
        result.session_failure = failure;
        impl->close();
        return result;
    }
    result.connection.reset(new SmtpConnection(std::move(impl)));
    return result;
}

std::vector<DeliveryOutcome> SmtpConnection::send(const Transaction& transaction) {
    Impl& s = *impl_;
    std::vector<DeliveryOutcome> outcomes;
    if (!reusable()) {
        const std::string why = s.session.failure() ? s.session.failure()->reason : "the connection is closed";
        outcomes.assign(transaction.recipients.size(),
                        DeliveryOutcome{DeliveryStatus::temporary, {}, "host " + s.name + ": " + why});
        return outcomes;
    }
    s.session.begin(transaction);
    s.drive();
    for (const auto& r : s.session.results()) {
        outcomes.push_back(s.outcome_of(r));
        if (outcomes.back().status == DeliveryStatus::temporary)
            outcomes.back().detail = s.abandoned_note(std::move(outcomes.back().detail));
    }
    return outcomes;
}

const std::optional<smtp::ClientFailure>& SmtpConnection::failure() const { return impl_->session.failure(); }

bool SmtpConnection::failed_before_the_message() const {
    const auto& failure = impl_->session.failure();
    if (!failure) return false;
    using Kind = smtp::ClientFailureKind;
    using Phase = smtp::ClientPhase;
    const bool lost = failure->kind == Kind::connection_lost || failure->kind == Kind::timed_out ||
                      failure->kind == Kind::service_closing;
    const bool before_data = failure->phase == Phase::rset || failure->phase == Phase::mail ||
                             failure->phase == Phase::rcpt || failure->phase == Phase::data_initiation ||
                             failure->phase == Phase::idle;
    return lost && before_data;
}

bool SmtpConnection::reusable() const { return impl_->open && impl_->session.reusable(); }

void SmtpConnection::quit() {
    if (!reusable()) return impl_->close();
    impl_->session.quit();
    impl_->drive();
    impl_->close();
}

const TlsReport& SmtpConnection::tls() const { return impl_->tls; }
const smtp::Extensions& SmtpConnection::extensions() const { return impl_->session.extensions(); }
const std::string& SmtpConnection::peer_name() const { return impl_->name; }

std::string describe(const TlsReport& tls) {
    if (!tls.active) return "no TLS";
    std::string out = tls.version + " " + tls.cipher;
    out += tls.verified ? ", certificate verified" : ", certificate not verified (" + tls.verify_error + ")";
    if (!tls.dane.empty()) out += ", " + tls.dane;
    return out;
}

}  // namespace cartero::delivery
