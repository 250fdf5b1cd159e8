// NetworkSet: "is this peer inside trusted_networks?" for IPv4 and IPv6 CIDRs.
//
// Every address is held as 16 octets, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d,
// RFC 4291 2.5.5.2). That makes a dual-stack socket's "::ffff:127.0.0.1" match
// "127.0.0.0/8" with no special case, which is the mistake that otherwise turns
// a trusted-network check off (or on) by accident.
//
// Trust: parse() reads operator input and throws InvalidValue naming the bad
// entry; contains() reads the peer address, untrusted, and is false for
// anything that is not exactly an IP literal (embedded NUL, zone IDs, junk).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::config {

class NetworkSet {
public:
    // Entries are "ADDRESS/PREFIX" or a bare address (= a single host).
    // Host bits after the prefix must be zero: "10.1.2.3/8" is refused with a
    // suggestion, because it is usually a typo for a different network.
    // Throws InvalidValue whose element() is the index of the bad entry.
    static NetworkSet parse(const std::vector<std::string>& cidrs);

    bool contains(std::string_view ip_text) const;
    bool empty() const { return networks_.empty(); }

private:
    using Address = std::array<std::uint8_t, 16>;
    struct Network {
        Address address;
        unsigned prefix;  // 0..128, in the 16-octet space
    };
    static Network parse_network(std::string_view text, std::size_t index);
    static bool in_network(const Network& network, const Address& address);

    std::vector<Network> networks_;
};

// The client network of a peer, as text "ADDRESS/PREFIX": an IPv4 address (also
// written IPv4-mapped, ::ffff:a.b.c.d) masked to ipv4_prefix bits, an IPv6 address
// to ipv6_prefix bits. Used where one client must not escape a count by moving
// inside its own allocation (an IPv6 site gets a whole /64, RFC 6177). A text
// that is not an IP literal (untrusted) comes back unchanged, as its own network.
std::string client_network(std::string_view ip_text, unsigned ipv4_prefix, unsigned ipv6_prefix);

}  // namespace cartero::config
