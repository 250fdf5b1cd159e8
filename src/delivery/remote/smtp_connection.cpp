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

#include "delivery/remote/client_tls.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
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

smtp::ClientSettings session_settings(const ConnectionOptions& o, const Peer& peer, bool implicit) {
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
    // RFC 7628 3.1: OAUTHBEARER names the host and port connected to.
    if (s.credentials && s.credentials->host.empty() && peer.unix_socket.empty()) {
        s.credentials->host = peer.host;
        s.credentials->port = peer.port;
    }
    s.keep_transcript = o.keep_transcript;
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

// The steps of the dialogue and their times (Dialogue::steps): each reply
// timed from the write of the command it answers (for a pipelined group, from
// the group's write). Passes every event on to the reply deadline.
class StepRecorder final : public smtp::ClientObserver {
public:
    StepRecorder(ReplyDeadline& deadline, Dialogue& dialogue) : deadline_(deadline), dialogue_(dialogue) {}

    void sent() { last_sent_ = Clock::now(); }
    void step(std::string what, Clock::time_point since) {
        dialogue_.steps.push_back(DialogueStep{std::move(what), std::nullopt, elapsed(since)});
    }

    void state_changed(smtp::ClientState from, smtp::ClientState to) override { deadline_.state_changed(from, to); }
    void replied(std::string_view command, const smtp::Reply& reply) override {
        deadline_.replied(command, reply);
        dialogue_.steps.push_back(DialogueStep{std::string(command), reply, elapsed(last_sent_)});
    }

    static std::chrono::milliseconds elapsed(Clock::time_point since) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
    }

private:
    ReplyDeadline& deadline_;
    Dialogue& dialogue_;
    Clock::time_point last_sent_ = Clock::now();
};

std::string utc_time(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    ::gmtime_r(&t, &parts);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S UTC", &parts);
    return text.data();
}

std::string name_of(const X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
}

CertificateSummary summary_of(X509* certificate) {
    CertificateSummary out;
    out.subject = name_of(X509_get_subject_name(certificate));
    out.issuer = name_of(X509_get_issuer_name(certificate));
    std::tm parts{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &parts) == 1) {
        out.not_after_unix = static_cast<std::int64_t>(::timegm(&parts));
        out.not_after = utc_time(out.not_after_unix);
    }
    return out;
}

// RFC 6125 6.4: the DNS names of subjectAltName; the CN only when there are none.
std::vector<std::string> names_of(X509* certificate) {
    std::vector<std::string> names;
    auto* alt = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; alt != nullptr && i < sk_GENERAL_NAME_num(alt); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(alt, i);
        if (n->type == GEN_DNS) {
            const auto* text = reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName));
            names.emplace_back(text, static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
        } else if (n->type == GEN_IPADD && ASN1_STRING_length(n->d.iPAddress) == 4) {
            const auto* b = ASN1_STRING_get0_data(n->d.iPAddress);
            names.push_back(std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
                            std::to_string(b[3]));
        }
    }
    GENERAL_NAMES_free(alt);
    if (!names.empty()) return names;
    std::array<char, 256> cn{};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, cn.data(), cn.size()) > 0)
        names.emplace_back(cn.data());
    return names;
}

CertificateProblem problem_of(int error) {
    switch (error) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID: return CertificateProblem::expired;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH: return CertificateProblem::wrong_name;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED: return CertificateProblem::untrusted;
        default: return CertificateProblem::other;
    }
}

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
    Dialogue dialogue;
    StepRecorder recorder;
    smtp::ClientSession session;
    TlsReport tls;
    std::vector<int> verify_errors;  // every certificate problem the handshake met, in order
    std::size_t transcript_copied = 0;
    Clock::time_point started = Clock::now();
    std::array<char, 8192> buffer{};
    bool open = false;

    Impl(const Peer& p, const ConnectionOptions& o)
        : peer(p), options(o), name(peer_name_of(p)), reply_deadline(options.timeouts),
          recorder(reply_deadline, dialogue), session(session_settings(o, peer, o.tls == TlsMode::implicit), &recorder) {}

    // Copies the session's new transcript lines, stamped with the time now.
    void sync_transcript() {
        const auto& lines = session.transcript();
        for (; transcript_copied < lines.size(); ++transcript_copied)
            dialogue.transcript.push_back(TimedLine{StepRecorder::elapsed(started), lines[transcript_copied]});
    }

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
    OpenFailure connect_failure = OpenFailure::connect_other;
    std::optional<std::string> handshake();
    std::optional<std::string> prepare_tls();
    std::optional<std::string> prepare_dane(SSL* handle);
    void record_tls();
    void record_certificates();

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
    recorder.step("connect", started);
    if (ec == asio::error::timed_out) connect_failure = OpenFailure::connect_timed_out;
    else if (ec == asio::error::connection_refused) connect_failure = OpenFailure::connect_refused;
    else if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable)
        connect_failure = OpenFailure::unreachable;
    if (ec == asio::error::timed_out) return "connect to " + name + ": timed out";
    if (ec) return "connect to " + name + ": " + ec.message();
    open = true;
    recorder.sent();  // the greeting is timed from here
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
    const auto trust_problem = prepare_client_tls(*tls_context, options.ca_file);
    // DANE-TA/DANE-EE records are their own trust anchors: no CA store needed.
    if (trust_problem && options.verify_certificate && !dane) return trust_problem;
    if (dane && SSL_CTX_dane_enable(native) <= 0) return "DANE: OpenSSL cannot enable DANE";
    tls_context->set_verify_mode(ssl::verify_peer);
    // Without DANE the handshake always completes, every certificate problem
    // noted on the way; handshake() then refuses it if verification is
    // required. So the report (chain, names, every problem) is complete
    // whether the certificate is accepted or not.
    if (!dane) {
        tls_context->set_verify_callback([this](bool preverified, ssl::verify_context& context) {
            const int error = X509_STORE_CTX_get_error(context.native_handle());
            if (!preverified && error != X509_V_OK &&
                std::find(verify_errors.begin(), verify_errors.end(), error) == verify_errors.end())
                verify_errors.push_back(error);
            return true;
        });
    }
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
    const auto begun = Clock::now();
    const error_code ec = await(options.timeouts.tls_handshake, [&](Completion c) {
        tls_stream->async_handshake(ssl::stream_base::client, c);
    });
    recorder.step("TLS", begun);
    recorder.sent();  // a reply after an implicit-TLS handshake (the greeting) is timed from here
    record_certificates();
    const long verify = SSL_get_verify_result(tls_stream->native_handle());
    if (ec && !options.tlsa.empty() && verify != X509_V_OK) {
        if (verify == X509_V_ERR_DANE_NO_MATCH) return std::string("DANE: no TLSA record matches the certificate");
        return std::string("DANE: certificate verify failed: ") + X509_verify_cert_error_string(verify);
    }
    if (ec == asio::error::timed_out) return "timed out";
    if (ec) return ec.message();
    record_tls();
    if (options.verify_certificate && options.tlsa.empty() && !tls.verified)
        return "certificate verify failed: " + tls.verify_error;
    return std::nullopt;
}

// The chain as the server sent it and the leaf's names, for `cartero check`;
// read also after a failed handshake when the certificate arrived.
void SmtpConnection::Impl::record_certificates() {
    SSL* handle = tls_stream->native_handle();
    tls.chain.clear();
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(handle)) {
        for (int i = 0; i < sk_X509_num(chain); ++i) tls.chain.push_back(summary_of(sk_X509_value(chain, i)));
    }
    if (X509* leaf = SSL_get0_peer_certificate(handle)) tls.names = names_of(leaf);
    tls.problems.clear();
    for (const int error : verify_errors) {
        const auto problem = problem_of(error);
        if (std::find(tls.problems.begin(), tls.problems.end(), problem) == tls.problems.end())
            tls.problems.push_back(problem);
    }
}

void SmtpConnection::Impl::record_tls() {
    SSL* handle = tls_stream->native_handle();
    tls.active = true;
    tls.version = SSL_get_version(handle);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(handle)) tls.cipher = SSL_CIPHER_get_name(cipher);
    const long verify = SSL_get_verify_result(handle);
    const bool has_certificate = SSL_get0_peer_certificate(handle) != nullptr;
    tls.verified = has_certificate && verify == X509_V_OK && verify_errors.empty();
    if (!has_certificate) tls.verify_error = "no certificate";
    else if (!verify_errors.empty()) tls.verify_error = X509_verify_cert_error_string(verify_errors.front());
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
        sync_transcript();
        if (const auto* send = std::get_if<smtp::ClientSend>(&action)) {
            recorder.sent();
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
            return sync_transcript();
        } else {
            sync_transcript();
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
    // What happened up to the failure goes with it (every return is `result`,
    // so the named return value is never moved onto itself).
    const auto keep_dialogue = [&] {
        result.dialogue = std::move(impl->dialogue);
        result.tls = impl->tls;
    };
    if (auto error = impl->connect()) {
        result.failure = DeliveryOutcome{DeliveryStatus::temporary, {}, impl->abandoned_note(*error)};
        result.failed_at = impl->connect_failure;
        keep_dialogue();
        return result;
    }
    if (options.tls == TlsMode::implicit) {
        if (auto error = impl->handshake()) {
            impl->close();
            result.failure = DeliveryOutcome{DeliveryStatus::temporary, {}, "TLS with " + impl->name + " failed: " + *error};
            result.failed_at = OpenFailure::tls;
            keep_dialogue();
        return result;
        }
    }
    impl->drive();
    if (const auto& failure = impl->session.failure()) {
        result.failure = impl->failure_outcome(*failure);
        result.session_failure = failure;
        result.failed_at = OpenFailure::dialogue;
        impl->close();
        keep_dialogue();
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

const std::vector<smtp::RecipientResult>& SmtpConnection::results() const { return impl_->session.results(); }
const Dialogue& SmtpConnection::dialogue() const { return impl_->dialogue; }
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
