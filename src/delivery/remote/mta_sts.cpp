// MTA-STS fetching and caching; see mta_sts.hpp.
//
// The HTTPS client is one short coroutine per address on its own io_context
// (the caller is a delivery worker thread, as for SmtpConnection). The
// beast::tcp_stream's expiry covers every operation of the fetch, and
// io_context::run_for bounds the whole thing once more (STYLE rule 9).
#include "delivery/remote/mta_sts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

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
#include <spdlog/spdlog.h>

#include "base/file_io.hpp"

namespace cartero::delivery::mta_sts {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// Header block of the answer: generous for a static file's headers.
constexpr std::uint32_t max_header_size = 8 * 1024;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
    return out;
}

// RFC 8461 3.3: "Content-Type: text/plain" (parameters such as charset allowed).
bool is_text_plain(std::string_view content_type) {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    return lower(type) == "text/plain";
}

// One GET over one address; fills `result`.
asio::awaitable<void> get_policy(ssl::context& context, tcp::endpoint endpoint, std::string host, std::string target,
                                 std::string host_header, std::chrono::milliseconds timeout, FetchResult& result) {
    auto executor = co_await asio::this_coro::executor;
    beast::ssl_stream<beast::tcp_stream> stream(executor, context);
    SSL* handle = stream.native_handle();
    SSL_set_tlsext_host_name(handle, host.c_str());  // SNI (RFC 6066 3)
    SSL_set_hostflags(handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(handle, host.c_str());  // RFC 8461 3.3: valid for mta-sts.<domain> (RFC 6125)
    auto& tcp_layer = beast::get_lowest_layer(stream);
    tcp_layer.expires_after(timeout);  // one deadline for the whole exchange

    const std::string where = host + "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port());
    if (auto [ec] = co_await tcp_layer.async_connect(endpoint, as_tuple_awaitable); ec) {
        result.error = "connect to " + where + ": " + (ec == beast::error::timeout ? "timed out" : ec.message());
        co_return;
    }
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, as_tuple_awaitable); ec) {
        const long verify = SSL_get_verify_result(handle);
        result.error = "TLS with " + where + ": " +
                       (verify != X509_V_OK ? std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify)
                                            : ec == beast::error::timeout ? std::string("timed out") : ec.message());
        co_return;
    }
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host_header);
    request.set(http::field::user_agent, "cartero");
    request.set(http::field::connection, "close");
    if (auto [ec, n] = co_await http::async_write(stream, request, as_tuple_awaitable); ec) {
        result.error = "sending the request to " + where + ": " + ec.message();
        co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(max_header_size);
    parser.body_limit(max_policy_size);  // RFC 8461 3.3: a size limit
    if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable); ec) {
        result.error = "reading the answer of " + where + ": " +
                       (ec == http::error::body_limit ? std::string("the policy is larger than 64 KiB")
                        : ec == beast::error::timeout ? std::string("timed out")
                                                      : ec.message());
        co_return;
    }
    const auto& response = parser.get();
    // RFC 8461 3.3: "HTTP 3xx redirects MUST NOT be followed"; only 200 is a policy.
    if (response.result_int() != 200) {
        result.error = "HTTP status " + std::to_string(response.result_int()) + " from " + where +
                       (response.result_int() / 100 == 3 ? " (redirects are not followed)" : "");
        co_return;
    }
    if (!is_text_plain(response[http::field::content_type])) {
        result.error = "Content-Type \"" + std::string(response[http::field::content_type]) + "\" from " + where +
                       " is not text/plain";
        co_return;
    }
    result.body = response.body();
    // No close_notify wait: the answer is complete, and "Connection: close" was asked.
}

// A file name for a domain's cache entry: checked names only (resolver-checked
// letters, digits, '-', '_', '.'), so no path can be made of one.
bool safe_file_name(std::string_view domain) {
    return !domain.empty() && domain.front() != '.' && domain.size() <= 253 &&
           std::all_of(domain.begin(), domain.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
           });
}

}  // namespace

FetchResult fetch(dns::Resolver& resolver, std::string_view domain, const FetchOptions& options) {
    const std::string host = "mta-sts." + lower(domain);
    const dns::AddressAnswer addresses = resolver.addresses(host);
    if (addresses.status != dns::Status::ok) return {std::nullopt, "cannot resolve " + host + ": " + addresses.error};

    ssl::context context(ssl::context::tls_client);
    SSL_CTX* native = context.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    const bool loaded = options.ca_file ? SSL_CTX_load_verify_locations(native, options.ca_file->c_str(), nullptr) == 1
                                        : SSL_CTX_set_default_verify_paths(native) == 1;
    if (!loaded)
        return {std::nullopt, "cannot load CA file " + (options.ca_file ? options.ca_file->string() : "(system store)")};
    context.set_verify_mode(ssl::verify_peer);  // RFC 8461 3.3: the certificate must be valid

    const std::string target = "/.well-known/mta-sts.txt";
    const std::string host_header = options.port == 443 ? host : host + ":" + std::to_string(options.port);
    FetchResult result;
    for (const auto* family : {&addresses.ipv6, &addresses.ipv4}) {
        for (const auto& address : *family) {
            result = {};
            asio::io_context io;
            asio::co_spawn(io, get_policy(context, tcp::endpoint(address, options.port), host, target, host_header,
                                          options.timeout, result),
                           [&result](std::exception_ptr e) {
                               if (e) result = {std::nullopt, "HTTPS client failed unexpectedly"};
                           });
            // The stream's expiry ends every operation; this bound is a second line.
            io.run_for(options.timeout + std::chrono::seconds(1));
            if (!io.stopped()) {
                io.stop();
                result = {std::nullopt, "fetching from " + address.to_string() + ": timed out"};
            }
            if (result.body) return result;
        }
    }
    return result;
}

PolicyCache::PolicyCache(std::filesystem::path directory, Fetcher fetcher)
    : directory_(std::move(directory)), fetcher_(std::move(fetcher)) {}

std::optional<CachedPolicy> PolicyCache::cached(const std::string& domain) {
    {
        std::lock_guard lock(mutex_);
        if (const auto found = memory_.find(domain); found != memory_.end()) return found->second;
    }
    if (directory_.empty() || !safe_file_name(domain)) return std::nullopt;
    std::ifstream in(directory_ / domain, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text;
    text.resize(max_policy_size + 256);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    auto parsed = deserialize(text);
    if (auto* error = std::get_if<std::string>(&parsed)) {
        spdlog::warn("MTA-STS cache file {} ignored: {}", (directory_ / domain).string(), *error);
        return std::nullopt;
    }
    auto& policy = std::get<CachedPolicy>(parsed);
    std::lock_guard lock(mutex_);
    return memory_.try_emplace(domain, std::move(policy)).first->second;
}

// Memory first; the file is written to a temporary name, synced and renamed,
// so a crash leaves the old file or the new one, never half of one.
void PolicyCache::store(const std::string& domain, const CachedPolicy& policy) {
    {
        std::lock_guard lock(mutex_);
        memory_.insert_or_assign(domain, policy);
    }
    if (directory_.empty() || !safe_file_name(domain)) return;
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    const auto final_path = directory_ / domain;
    const auto temp_path = directory_ / (domain + ".tmp." + std::to_string(::getpid()) + "." +
                                         std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));
    base::UniqueFd fd = base::open_file(temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, ec, 0600);
    if (!ec) ec = base::write_all(fd.get(), serialize(policy));
    if (!ec && ::fdatasync(fd.get()) != 0) ec = base::last_error();
    if (!ec) std::filesystem::rename(temp_path, final_path, ec);
    if (ec) {
        std::filesystem::remove(temp_path, ec);
        spdlog::warn("MTA-STS policy of {} not written to {}: {}", domain, final_path.string(), ec.message());
    }
}

Found PolicyCache::lookup(std::string_view domain_in, const std::optional<std::string>& txt_id, Seconds now) {
    const std::string domain = lower(domain_in);
    const std::optional<CachedPolicy> old = cached(domain);
    switch (plan(txt_id, old ? &*old : nullptr, now)) {
        case Refresh::use_cached: return {old->policy, old->id, txt_id ? "cached" : "cached (no valid TXT record now)"};
        case Refresh::no_policy: return {std::nullopt, {}, old ? "no TXT record; cached policy expired" : "no TXT record"};
        case Refresh::fetch: break;
    }
    const FetchResult fetched = fetcher_(domain);
    std::string error = fetched.error;
    if (fetched.body) {
        auto parsed = parse_policy(*fetched.body);
        if (auto* policy = std::get_if<Policy>(&parsed)) {
            store(domain, CachedPolicy{*txt_id, *policy, *fetched.body, now});
            return {*policy, *txt_id, "fetched"};
        }
        error = "invalid policy: " + std::get<std::string>(parsed);
    }
    // RFC 8461 5.1: a failed refresh keeps an unexpired cached policy in force;
    // with none, deliver as if the domain had no MTA-STS (3.3).
    if (old && !expired(*old, now))
        return {old->policy, old->id, "refreshing the policy failed (" + error + "); the cached policy is still valid"};
    return {std::nullopt, {}, "fetching the policy failed: " + error};
}

Found policy_for(dns::Resolver& resolver, PolicyCache& cache, std::string_view domain, Seconds now) {
    const dns::TxtAnswer answer = resolver.txt("_mta-sts." + std::string(domain));
    std::optional<std::string> id;
    std::string why;
    if (answer.status == dns::Status::ok) {
        PolicyId parsed = policy_id(answer.records);
        id = std::move(parsed.id);
        why = std::move(parsed.error);
    }
    Found found = cache.lookup(domain, id, now);
    if (answer.status == dns::Status::temporary) found.note += " (TXT lookup failed: " + answer.error + ")";
    else if (!why.empty() && found.policy) found.note += " (TXT record: " + why + ")";
    return found;
}

}  // namespace cartero::delivery::mta_sts
