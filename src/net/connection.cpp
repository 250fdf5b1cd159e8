#include "net/connection.hpp"

#include <array>
#include <ctime>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "auth/authenticator.hpp"
#include "net/completion.hpp"
#include "scheduler/delivery_queue.hpp"
#include "smtp/received.hpp"
#include "spool/spool.hpp"

namespace cartero::net {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// After a deadline passed, the 421 and the TLS close get this long.
constexpr auto farewell_time = std::chrono::seconds(5);

spool::Envelope to_spool(const smtp::Envelope& envelope, const std::string& auth_user) {
    spool::Envelope out;
    out.sender = envelope.sender.str();
    out.recipients.reserve(envelope.recipients.size());
    for (const auto& recipient : envelope.recipients) out.recipients.push_back(recipient.str());
    out.auth_user = auth_user;
    out.smtputf8 = envelope.smtputf8;
    out.eight_bit = envelope.eight_bit;
    out.received_at = std::time(nullptr);
    out.ret = envelope.ret;  // RFC 3461 DSN parameters, kept for bounce/
    out.envid = envelope.envid;
    out.recipient_dsn = envelope.recipient_dsn;
    out.origin = envelope.origin;  // decided by the session (smtp/origin.hpp)
    return out;
}

}  // namespace

// Logs every state change at debug level, with the session ID (STYLE rule 5).
class Connection::Observer : public smtp::SessionObserver {
public:
    explicit Observer(const std::string& id) : id_(id) {}
    void state_changed(smtp::State from, smtp::State to) override {
        spdlog::debug("{}: state {} -> {}", id_, smtp::to_string(from), smtp::to_string(to));
    }
    void replied(std::string_view verb, const smtp::Reply& reply) override {
        if (reply.code >= 400)
            spdlog::info("{}: {} -> {} {} {}", id_, verb, reply.code, reply.enhanced, reply.text);
    }

private:
    const std::string& id_;
};

Connection::Connection(asio::ip::tcp::socket socket, config::ListenerRole role, smtp::PeerInfo peer,
                       std::shared_ptr<const Runtime> runtime, Services& services, std::string id)
    : transport_(std::move(socket)),
      role_(role),
      runtime_(std::move(runtime)),
      services_(services),
      id_(std::move(id)),
      peer_(std::move(peer)) {
    peer_.trusted = runtime_->trusted.contains(peer_.ip);
    session_deadline_ = Clock::now() + runtime_->config->limits.session_timeout;
}

Connection::Connection(asio::ip::tcp::socket socket, smtp::PeerInfo local_peer,
                       std::shared_ptr<const Runtime> runtime, Services& services, std::string id)
    : transport_(std::move(socket)),
      role_(config::ListenerRole::local),
      runtime_(std::move(runtime)),
      services_(services),
      id_(std::move(id)),
      peer_(std::move(local_peer)) {
    session_deadline_ = Clock::now() + runtime_->config->limits.session_timeout;
}

Connection::~Connection() { release_message(); }

// Every octet held for the open message is counted in the shared budget; past
// it the rest of the message is read and dropped, and its end gets 452 4.3.1.
bool Connection::append_to_message(std::string_view bytes) {
    if (!message_ || over_budget_) return false;
    if (!services_.receiving.try_take(bytes.size(), runtime_->config->limits.receiving_memory)) {
        spdlog::warn("{}: {}: refusing the message: limits.receiving_memory reached", id_, queue_id_);
        over_budget_ = true;
        release_message();
        return false;
    }
    message_->append(bytes);
    return true;
}

void Connection::release_message() {
    if (message_) services_.receiving.give_back(message_->size());
    message_.reset();
}

smtp::SessionSettings Connection::session_settings() const {
    const config::Config& config = *runtime_->config;
    smtp::SessionSettings settings;
    settings.role = role_;
    settings.hostname = config.hostname;
    settings.tls_available = runtime_->tls != nullptr;
    settings.message_size = config.limits.message_size;
    settings.recipients_per_message = config.limits.recipients_per_message;
    settings.command_line_length = config.limits.command_line_length;
    settings.bad_commands = config.limits.bad_commands;
    settings.messages_per_session = config.limits.messages_per_session;
    settings.received_headers = config.limits.received_headers;
    // No STARTTLS on the local socket: nothing travels a network, and the
    // handshake would reset the identity the kernel gave (RFC 3207 4.2).
    if (role_ == config::ListenerRole::local) settings.tls_available = false;
    return settings;
}

asio::awaitable<void> Connection::run() {
    if (peer_.local_uid)
        spdlog::info("{}: connect from local user {} (uid {}) to local", id_, peer_.local_user, *peer_.local_uid);
    else
        spdlog::info("{}: connect from [{}]:{} to {}{}", id_, peer_.ip, peer_.port, config::to_string(role_),
                     peer_.via_proxy.empty() ? "" : " via proxy [" + peer_.via_proxy + "]");
    std::optional<smtp::TlsInfo> tls;
    if (role_ == config::ListenerRole::submissions) {
        // RFC 8314 3.3: TLS from the first byte; plaintext never gets a 220.
        if (!co_await implicit_tls_handshake()) co_return;
        tls = transport_.tls_info();
    }
    Observer observer(id_);
    smtp::ServerSession session(session_settings(), peer_, *runtime_->policy, tls, &observer);
    session_ = &session;
    for (bool going = true; going;) {
        smtp::Action action = session.next();
        going = co_await std::visit([&](auto& step) { return perform(session, step); }, action);
    }
    session_ = nullptr;
    co_await transport_.shutdown(Clock::now() + farewell_time);
    spdlog::info("{}: disconnect from [{}]", id_, peer_.ip);
}

asio::awaitable<bool> Connection::implicit_tls_handshake() {
    if (!runtime_->tls) co_return false;
    const error_code ec = co_await transport_.handshake(runtime_->tls, read_deadline(smtp::State::initial));
    if (ec) {
        spdlog::info("{}: TLS handshake failed from [{}]: {}", id_, peer_.ip, ec.message());
        co_await transport_.shutdown(Clock::now());
        co_return false;
    }
    const smtp::TlsInfo info = transport_.tls_info();
    spdlog::info("{}: TLS {} with cipher {}", id_, info.version, info.cipher);
    co_return true;
}

void Connection::request_shutdown() {
    shutdown_requested_ = true;
    // Only an idle session is interrupted; one inside a transaction finishes it first.
    if (session_ != nullptr && (session_->state() == smtp::State::initial ||
                                session_->state() == smtp::State::ready))
        transport_.cancel();
}

Clock::time_point Connection::read_deadline(smtp::State state) const {
    // Every read waits at most command_timeout (RFC 5321 4.5.3.2.7); a message
    // as a whole gets data_timeout from its first octet, so a client trickling
    // one byte per minute cannot hold a session forever. That holds while the
    // rest of an aborted message (bare LF, too big, over the memory budget) is
    // read and dropped too: message_ is gone then, the deadline is not. Every
    // entry into DATA or BDAT sets message_deadline_ (MessageBegin).
    const auto step = Clock::now() + runtime_->config->limits.command_timeout;
    const bool in_message = state == smtp::State::data || state == smtp::State::bdat;
    const auto deadline = std::min(step, session_deadline_);
    return in_message ? std::min(deadline, message_deadline_) : deadline;
}

Clock::time_point Connection::write_deadline() const {
    return Clock::now() + runtime_->config->limits.command_timeout;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession&, smtp::Write& write) {
    const error_code ec = co_await transport_.write_all(write.bytes, write_deadline());
    co_return !ec && !write.close_after;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession& session, smtp::Read&) {
    if (shutdown_requested_ && !shutdown_told_) {
        shutdown_told_ = true;
        session.shutting_down();
        co_return true;
    }
    auto [ec, bytes] = co_await transport_.read(read_deadline(session.state()));
    if (!ec) {
        session.feed(bytes);  // at once: `bytes` lives only until the next co_await
    } else if (ec == asio::error::timed_out) {
        spdlog::info("{}: timeout in state {} from [{}]", id_, smtp::to_string(session.state()), peer_.ip);
        session.timed_out();
    } else if (ec == asio::error::operation_aborted && shutdown_requested_) {
        shutdown_told_ = true;
        session.shutting_down();
    } else {
        session.peer_closed();
    }
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession& session, smtp::StartTls&) {
    const error_code ec = co_await transport_.handshake(runtime_->tls, read_deadline(smtp::State::starttls));
    if (ec) {
        spdlog::info("{}: STARTTLS handshake failed from [{}]: {}", id_, peer_.ip, ec.message());
        session.tls_failed();
        co_return true;
    }
    const smtp::TlsInfo info = transport_.tls_info();
    spdlog::info("{}: STARTTLS {} with cipher {}", id_, info.version, info.cipher);
    session.tls_started(info);
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession& session, smtp::Authenticate& request) {
    auto [result, delay] = co_await on_completion<smtp::AuthResult, std::chrono::milliseconds>(
        [&](auto done) {
            services_.authenticator.authenticate(request.mechanism, std::move(request.responses), peer_.ip,
                                                 std::move(done));
        });
    if (delay.count() > 0) {
        // Brute-force slow-down: the reply waits, the I/O thread does not.
        asio::steady_timer pause(co_await asio::this_coro::executor, delay);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (result.status == smtp::AuthStatus::ok)
        spdlog::info("{}: client=[{}], sasl_method={}, sasl_username={}", id_, peer_.ip, request.mechanism,
                     result.user);
    else
        spdlog::warn("{}: authentication failed from [{}] ({}): {}", id_, peer_.ip, request.mechanism,
                     static_cast<int>(result.status));
    session.auth_finished(result);
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession&, smtp::MessageBegin& begin) {
    queue_id_ = services_.spool.new_id();
    release_message();
    message_ = std::make_shared<std::string>();
    over_budget_ = false;
    message_deadline_ = Clock::now() + runtime_->config->limits.data_timeout;
    smtp::ReceivedOptions options;
    options.by_hostname = runtime_->config->hostname;
    options.queue_id = queue_id_;
    options.when = std::time(nullptr);
    options.include_auth_user = runtime_->config->received_header_includes_auth_user;
    append_to_message(smtp::received_header(begin.trace, options));
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession&, smtp::MessageData& data) {
    append_to_message(data.bytes);
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession& session, smtp::MessageEnd& end) {
    if (over_budget_ || !message_) {
        // RFC 3463 4.3.1: mail system full; the client keeps the message and retries.
        session.message_failed(smtp::make_reply(452, "4.3.1", "Error: insufficient system storage, try again later"));
        co_return true;
    }
    spool::Envelope envelope = to_spool(end.envelope, session.auth_user());
    const std::size_t size = message_->size();
    services_.receiving.give_back(size);  // from here the spool and the queue hold it
    std::shared_ptr<const std::string> data = std::move(message_);
    auto [ec] = co_await on_completion<std::error_code>([&](auto done) {
        services_.spool.commit(queue_id_, envelope, data, std::move(done));
    });
    if (ec) {
        spdlog::error("{}: {}: spool commit failed: {}", id_, queue_id_, ec.message());
        session.message_failed(smtp::make_reply(451, "4.3.0", "Error: queue file write error"));
        co_return true;
    }
    if (peer_.local_uid)  // Postfix pickup's "uid=N from=<...>": who submitted it locally
        spdlog::info("{}: {}: uid={} user={}", id_, queue_id_, *peer_.local_uid, peer_.local_user);
    spdlog::info("{}: {}: from=<{}>, size={}, nrcpt={} (queue active)", id_, queue_id_, envelope.sender, size,
                 envelope.recipients.size());
    const std::size_t recipients = envelope.recipients.size();
    services_.queue.enqueue(spool::QueuedMessage{queue_id_, std::move(envelope),
                                                 std::vector<bool>(recipients, false), std::move(data)});
    session.message_committed(queue_id_);
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession&, smtp::MessageAbort&) {
    release_message();
    co_return true;
}

asio::awaitable<bool> Connection::perform(smtp::ServerSession&, smtp::Close&) {
    co_return false;
}

}  // namespace cartero::net
