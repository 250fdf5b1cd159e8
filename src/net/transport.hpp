// Transport: one client connection as a byte stream that starts in plaintext
// and may switch to TLS (STARTTLS, RFC 3207) or start in TLS (RFC 8314), with a
// deadline on every operation (STYLE rule 9).
//
// Why not beast::tcp_stream: it closes the socket when a deadline passes, and an
// SMTP server must still send "421 4.4.2 timeout" afterwards. Here a deadline
// only cancels the pending operation; the driver then writes the 421 under a
// fresh, short deadline.
//
// Trust: carries untrusted bytes; interprets none of them.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "smtp/session.hpp"

namespace cartero::net {

using Clock = std::chrono::steady_clock;

class Transport {
public:
    explicit Transport(boost::asio::ip::tcp::socket socket);

    // Each operation fails with boost::asio::error::timed_out when `deadline` passes,
    // and with operation_aborted when cancel() is called.
    //
    // read() returns the bytes that arrived. The view is valid only until the
    // caller's next co_await: in plaintext it points into a buffer shared by
    // every connection of this I/O thread, filled by a non-blocking read right
    // after the socket became readable — so an idle connection owns no read
    // buffer at all (issue 3: memory per idle connection).
    boost::asio::awaitable<std::pair<boost::system::error_code, std::string_view>> read(
        Clock::time_point deadline);
    boost::asio::awaitable<boost::system::error_code> write_all(std::string_view bytes,
                                                                Clock::time_point deadline);
    boost::asio::awaitable<boost::system::error_code> handshake(
        std::shared_ptr<boost::asio::ssl::context> context, Clock::time_point deadline);
    // Sends a TLS close_notify if in TLS, then closes the socket. Never throws.
    boost::asio::awaitable<void> shutdown(Clock::time_point deadline);

    void cancel();  // wakes a pending operation with operation_aborted
    bool tls() const { return tls_ != nullptr; }
    smtp::TlsInfo tls_info() const;
    boost::asio::ip::tcp::socket& socket() { return socket_; }

private:
    void arm(Clock::time_point deadline);
    boost::asio::awaitable<std::pair<boost::system::error_code, std::string_view>> read_plain(
        Clock::time_point deadline);
    boost::asio::awaitable<std::pair<boost::system::error_code, std::string_view>> read_tls(
        Clock::time_point deadline);
    boost::system::error_code outcome(boost::system::error_code ec);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<boost::asio::ssl::context> context_;  // kept alive while tls_ uses it
    std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
    // TLS reads go through OpenSSL asynchronously, so they need a buffer of
    // their own (OpenSSL's buffers dwarf it anyway).
    std::unique_ptr<std::array<char, 4096>> tls_input_;
    bool timed_out_ = false;
    // A deadline that expired just as the connection ended has its handler
    // already queued: destroying the timer cannot cancel it any more, so the
    // handler checks that this transport still exists before touching it.
    std::shared_ptr<Transport*> alive_ = std::make_shared<Transport*>(this);
};

}  // namespace cartero::net
