// See https_fetch.hpp.
//
// The client is one short coroutine per address on its own io_context (the
// caller is a worker thread). The beast::tcp_stream's expiry covers every
// operation of the exchange, and io_context::run_for bounds the whole thing
// once more (STYLE rule 9).
#include "delivery/remote/https_fetch.hpp"

#include "delivery/remote/client_tls.hpp"

#include "config/domain_name.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace cartero::delivery {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// Header block of the answer: generous for a static file's headers.
constexpr std::uint32_t max_header_size = 8 * 1024;
// The io_context's own bound runs this much past the stream's deadline.
constexpr auto second_line = std::chrono::seconds(1);

std::string size_words(std::size_t bytes) {
    return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB" : std::to_string(bytes) + " bytes";
}

// One GET over one address; fills `result`.
asio::awaitable<void> get_once(ssl::context& context, tcp::endpoint endpoint, const HttpsRequest& request,
                               std::chrono::milliseconds timeout, HttpsResult& result) {
    auto executor = co_await asio::this_coro::executor;
    beast::ssl_stream<beast::tcp_stream> stream(executor, context);
    SSL* handle = stream.native_handle();
    SSL_set_tlsext_host_name(handle, request.host.c_str());  // SNI (RFC 6066 3)
    SSL_set_hostflags(handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(handle, request.host.c_str());  // RFC 6125: the certificate names the host
    auto& tcp_layer = beast::get_lowest_layer(stream);
    tcp_layer.expires_after(timeout);  // one deadline for the whole exchange

    const std::string where =
        request.host + "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port());
    if (auto [ec] = co_await tcp_layer.async_connect(endpoint, as_tuple_awaitable); ec) {
        result.error = "connect to " + where + ": " + (ec == beast::error::timeout ? "timed out" : ec.message());
        co_return;
    }
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, as_tuple_awaitable); ec) {
        const long verify = SSL_get_verify_result(handle);
        result.error = "TLS with " + where + ": " +
                       (verify != X509_V_OK ? std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify)
                        : ec == beast::error::timeout ? std::string("timed out")
                                                      : ec.message());
        co_return;
    }
    const std::string host_header =
        request.port == 443 ? request.host : request.host + ":" + std::to_string(request.port);
    http::request<http::empty_body> get{http::verb::get, request.target, 11};
    get.set(http::field::host, host_header);
    get.set(http::field::user_agent, "cartero");
    get.set(http::field::connection, "close");
    if (auto [ec, n] = co_await http::async_write(stream, get, as_tuple_awaitable); ec) {
        result.error = "sending the request to " + where + ": " + ec.message();
        co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(max_header_size);
    parser.body_limit(request.body_limit);
    if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable); ec) {
        result.error = "reading the answer of " + where + ": " +
                       (ec == http::error::body_limit ? "the answer is larger than " + size_words(request.body_limit)
                        : ec == beast::error::timeout ? std::string("timed out")
                                                      : ec.message());
        co_return;
    }
    const auto& response = parser.get();
    result.status = static_cast<int>(response.result_int());
    if (response.result_int() != 200) {
        result.error = "HTTP status " + std::to_string(response.result_int()) + " from " + where +
                       (response.result_int() / 100 == 3 ? " (redirects are not followed)" : "");
        co_return;
    }
    const std::string_view content_type = response[http::field::content_type];
    const auto& accepted = request.media_types;
    if (!accepted.empty() && std::find(accepted.begin(), accepted.end(), media_type(content_type)) == accepted.end()) {
        std::string wanted;
        for (const auto& type : accepted) wanted += (wanted.empty() ? "" : " or ") + type;
        result.error = "Content-Type \"" + std::string(content_type) + "\" from " + where + " is not " + wanted;
        co_return;
    }
    result.body = response.body();
    // No close_notify wait: the answer is complete, and "Connection: close" was asked.
}

}  // namespace

std::string media_type(std::string_view content_type) {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    return config::lower_ascii(type);
}

HttpsResult https_get(dns::Resolver& resolver, const HttpsRequest& request) {
    const dns::AddressAnswer addresses = resolver.addresses(request.host);
    if (addresses.status != dns::Status::ok) return {std::nullopt, "cannot resolve " + request.host + ": " + addresses.error};

    ssl::context context(ssl::context::tls_client);
    if (const auto problem = prepare_client_tls(context, request.ca_file)) return {std::nullopt, *problem};
    context.set_verify_mode(ssl::verify_peer);

    HttpsResult result;
    for (const auto* family : {&addresses.ipv6, &addresses.ipv4}) {
        for (const auto& address : *family) {
            auto timeout = request.timeout;
            if (request.deadline) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*request.deadline - Clock::now());
                if (left.count() <= 0) {
                    if (result.error.empty()) result.error = "no time left to fetch from " + request.host;
                    return result;
                }
                timeout = std::min(timeout, left);
            }
            result = {};
            asio::io_context io;
            asio::co_spawn(io, get_once(context, tcp::endpoint(address, request.port), request, timeout, result),
                           [&result](std::exception_ptr e) {
                               if (e) result = {std::nullopt, "HTTPS client failed unexpectedly", 0};
                           });
            io.run_for(timeout + second_line);
            if (!io.stopped()) {
                io.stop();
                result = {std::nullopt, "fetching from " + address.to_string() + ": timed out", 0};
            }
            if (result.body) return result;
        }
    }
    return result;
}

}  // namespace cartero::delivery
