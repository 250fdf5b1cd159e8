#include "net/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/tls.hpp"

namespace cartero::net {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
}

Transport::Transport(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {
    // read_plain() reads only after the socket reported readable; non-blocking
    // mode turns a spurious wake-up into would_block instead of a stall.
    error_code ignored;
    socket_.non_blocking(true, ignored);
}

// The timer cancels the socket instead of closing it, so a reply can still be sent.
void Transport::arm(Clock::time_point deadline) {
    timed_out_ = false;
    timer_.expires_at(deadline);
    timer_.async_wait([alive = std::weak_ptr<Transport*>(alive_)](error_code ec) {
        const auto self = alive.lock();
        if (ec || !self) return;  // cancelled (the operation finished first), or the transport is gone
        Transport& transport = **self;
        transport.timed_out_ = true;
        error_code ignored;
        if (transport.socket_.is_open()) transport.socket_.cancel(ignored);
    });
}

error_code Transport::outcome(error_code ec) {
    timer_.cancel();
    if (timed_out_ && ec == asio::error::operation_aborted) return asio::error::timed_out;
    return ec;
}

asio::awaitable<std::pair<error_code, std::string_view>> Transport::read(Clock::time_point deadline) {
    return tls_ ? read_tls(deadline) : read_plain(deadline);
}

asio::awaitable<std::pair<error_code, std::string_view>> Transport::read_plain(Clock::time_point deadline) {
    // Safe to share: the bytes are read and handed back without yielding, and
    // the caller consumes them before its next co_await.
    thread_local std::array<char, 16 * 1024> shared_input;
    for (;;) {
        arm(deadline);
        auto [wait_error] = co_await socket_.async_wait(asio::socket_base::wait_read, as_tuple_awaitable);
        if (const error_code ec = outcome(wait_error)) co_return std::pair{ec, std::string_view{}};
        error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(shared_input), ec);
        if (ec == asio::error::would_block) continue;  // woken without data: wait again
        co_return std::pair{ec, std::string_view(shared_input.data(), n)};
    }
}

asio::awaitable<std::pair<error_code, std::string_view>> Transport::read_tls(Clock::time_point deadline) {
    if (!tls_input_) tls_input_ = std::make_unique<std::array<char, 4096>>();
    arm(deadline);
    auto [ec, n] = co_await tls_->async_read_some(asio::buffer(*tls_input_), as_tuple_awaitable);
    co_return std::pair{outcome(ec), std::string_view(tls_input_->data(), n)};
}

asio::awaitable<error_code> Transport::write_all(std::string_view bytes, Clock::time_point deadline) {
    arm(deadline);
    const auto source = asio::buffer(bytes.data(), bytes.size());
    auto [ec, n] = tls_ ? co_await asio::async_write(*tls_, source, as_tuple_awaitable)
                        : co_await asio::async_write(socket_, source, as_tuple_awaitable);
    (void)n;
    co_return outcome(ec);
}

asio::awaitable<error_code> Transport::handshake(std::shared_ptr<asio::ssl::context> context,
                                                 Clock::time_point deadline) {
    context_ = std::move(context);
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *context_);
    arm(deadline);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, as_tuple_awaitable);
    co_return outcome(ec);
}

asio::awaitable<void> Transport::shutdown(Clock::time_point deadline) {
    if (tls_) {
        arm(deadline);
        auto [ec] = co_await tls_->async_shutdown(as_tuple_awaitable);
        outcome(ec);
    }
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

void Transport::cancel() {
    error_code ignored;
    socket_.cancel(ignored);
}

smtp::TlsInfo Transport::tls_info() const {
    return tls_ ? describe_tls(tls_->native_handle()) : smtp::TlsInfo{};
}

}  // namespace cartero::net
