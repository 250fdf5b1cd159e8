// Fuzz target: the PROXY protocol header (net/proxy_header.hpp), v1 and v2, on
// any octets — a balancer's bytes reach it before anything else of a
// connection, and a parser that over-reads would eat the client's first bytes.
//
// Invariants: a complete header is no longer than the input and parses alike
// from exactly its own octets; an incomplete one asks for more octets than it
// got and never more than kMaxProxyHeader; an invalid one says why; a client
// address is a valid IP literal.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "fuzz_check.hpp"
#include "net/proxy_header.hpp"

using namespace cartero::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const ProxyHeader header = parse_proxy_header(bytes);
    switch (header.status) {
        case ProxyHeader::Status::complete: {
            FUZZ_CHECK(header.length > 0 && header.length <= bytes.size());
            const ProxyHeader again = parse_proxy_header(bytes.substr(0, header.length));
            FUZZ_CHECK(again.status == ProxyHeader::Status::complete && again.length == header.length);
            FUZZ_CHECK(again.client.has_value() == header.client.has_value());
            if (header.client) {
                boost::system::error_code ec;
                boost::asio::ip::make_address(header.client->ip, ec);
                FUZZ_CHECK(!ec);
                FUZZ_CHECK(again.client->ip == header.client->ip && again.client->port == header.client->port);
            }
            break;
        }
        case ProxyHeader::Status::incomplete:
            FUZZ_CHECK(header.length > bytes.size() && header.length <= kMaxProxyHeader);
            break;
        case ProxyHeader::Status::invalid:
            FUZZ_CHECK(!header.error.empty());
            break;
    }
    return 0;
}
