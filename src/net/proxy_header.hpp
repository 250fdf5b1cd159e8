// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2):
// what a load balancer in front of cartero sends first on each connection to
// name the real client, so that limits, logs and the Received header see the
// client and not the balancer. Pure: bytes in, verdict out.
//
// Version 1 is one text line, "PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\r\n"
// (at most 107 octets). Version 2 is binary: a 12-octet signature, version and
// command, family, length, then the addresses and optional TLVs (ignored).
// "PROXY UNKNOWN" (v1) and the LOCAL command (v2, the balancer's own health
// checks) name no client: the connection's own peer stands.
//
// Trust: untrusted bytes, from a peer that listener.proxy_from allows to send
// them (the caller checks that first). Bounded: a v1 line over 107 octets or a
// v2 header over 536 octets is invalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::net {

struct ProxiedClient {
    std::string ip;  // "192.0.2.1", "2001:db8::1"
    std::uint16_t port = 0;
};

struct ProxyHeader {
    enum class Status { incomplete, invalid, complete };
    Status status = Status::incomplete;
    // complete: octets of the header. incomplete: how many octets must have
    // arrived, at least, before more can be said — read no more than that, and
    // no octet after the header is ever taken from the stream.
    std::size_t length = 0;
    std::optional<ProxiedClient> client;  // nullopt: UNKNOWN or LOCAL
    std::string error;                    // invalid only: what is wrong, for the log
};

// Looks at the first octets of a connection (all that arrived so far).
// incomplete: read up to `length` octets in all, then ask again (the caller
// bounds the wait).
ProxyHeader parse_proxy_header(std::string_view bytes);

// The longest header accepted: read no more than this while waiting for one.
inline constexpr std::size_t kMaxProxyHeader = 16 + 520;

}  // namespace cartero::net
