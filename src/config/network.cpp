// NetworkSet: see network.hpp.
#include "config/network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "config/invalid_value.hpp"

namespace cartero::config {
namespace {

using Address = std::array<std::uint8_t, 16>;
constexpr unsigned kMappedPrefix = 96;  // bits before the IPv4 part of ::ffff:a.b.c.d
constexpr unsigned kMaxPrefix = 128;
constexpr std::string_view kHowToWrite = "write ADDRESS/PREFIX, e.g. \"192.0.2.0/24\" or \"2001:db8::/32\"";

struct ParsedAddress {
    Address address;
    bool ipv4;
};

std::optional<ParsedAddress> parse_address(std::string_view text) {
    // inet_pton stops at an embedded NUL, so "127.0.0.1\0junk" would pass.
    if (text.find('\0') != std::string_view::npos || text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    const std::string terminated(text);
    ParsedAddress parsed{{}, true};
    in_addr ipv4{};
    if (inet_pton(AF_INET, terminated.c_str(), &ipv4) == 1) {
        parsed.address[10] = 0xff;
        parsed.address[11] = 0xff;
        std::memcpy(&parsed.address[12], &ipv4, sizeof ipv4);
        return parsed;
    }
    parsed.ipv4 = false;
    if (inet_pton(AF_INET6, terminated.c_str(), parsed.address.data()) == 1) {
        return parsed;
    }
    return std::nullopt;
}

Address masked(Address address, unsigned prefix) {
    for (unsigned bit = prefix; bit < kMaxPrefix; ++bit) {
        address[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    return address;
}

std::string to_text(const Address& address, bool ipv4) {
    char text[INET6_ADDRSTRLEN];
    if (ipv4) {
        inet_ntop(AF_INET, &address[12], text, sizeof text);
    } else {
        inet_ntop(AF_INET6, address.data(), text, sizeof text);
    }
    return text;
}

InvalidValue bad_entry(std::string_view entry, std::string_view why, std::string fix, std::size_t index) {
    return InvalidValue("bad network \"" + std::string(entry) + "\": " + std::string(why), std::move(fix), index);
}

}  // namespace

NetworkSet NetworkSet::parse(const std::vector<std::string>& cidrs) {
    NetworkSet set;
    for (std::size_t index = 0; index < cidrs.size(); ++index) {
        set.networks_.push_back(parse_network(cidrs[index], index));
    }
    return set;
}

NetworkSet::Network NetworkSet::parse_network(std::string_view text, std::size_t index) {
    const std::size_t slash = text.find('/');
    const auto parsed = parse_address(text.substr(0, slash));
    if (!parsed) {
        throw bad_entry(text, "not an IP address", std::string(kHowToWrite), index);
    }
    const unsigned family_bits = parsed->ipv4 ? 32 : kMaxPrefix;
    unsigned prefix = family_bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const char* end = digits.data() + digits.size();
        const auto [rest, error] = std::from_chars(digits.data(), end, prefix);
        if (digits.empty() || error != std::errc{} || rest != end || prefix > family_bits) {
            throw bad_entry(text, "prefix must be a number from 0 to " + std::to_string(family_bits),
                            std::string(kHowToWrite), index);
        }
    }
    const unsigned full_prefix = parsed->ipv4 ? kMappedPrefix + prefix : prefix;
    const Address network = masked(parsed->address, full_prefix);
    if (network != parsed->address) {
        const std::string suggestion = to_text(network, parsed->ipv4) + "/" + std::to_string(prefix);
        throw bad_entry(text, "address has bits set after the prefix", "did you mean \"" + suggestion + "\"?",
                        index);
    }
    return Network{network, full_prefix};
}

bool NetworkSet::in_network(const Network& network, const Address& address) {
    return masked(address, network.prefix) == network.address;
}

bool NetworkSet::contains(std::string_view ip_text) const {
    const auto parsed = parse_address(ip_text);
    if (!parsed) {
        return false;
    }
    return std::any_of(networks_.begin(), networks_.end(),
                       [&](const Network& network) { return in_network(network, parsed->address); });
}

std::string client_network(std::string_view ip_text, unsigned ipv4_prefix, unsigned ipv6_prefix) {
    const auto parsed = parse_address(ip_text);
    if (!parsed) {
        return std::string(ip_text);
    }
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: they are IPv4
    // clients, and masking them as IPv6 would put every one of them in ::/64.
    static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const bool ipv4 = std::equal(kMapped.begin(), kMapped.end(), parsed->address.begin());
    const unsigned prefix = ipv4 ? std::min(ipv4_prefix, 32u) : std::min(ipv6_prefix, kMaxPrefix);
    const unsigned full_prefix = ipv4 ? kMappedPrefix + prefix : prefix;
    return to_text(masked(parsed->address, full_prefix), ipv4) + "/" + std::to_string(prefix);
}

}  // namespace cartero::config
