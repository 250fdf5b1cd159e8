// Listener addresses: see listen_address.hpp.
#include "config/listen_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <optional>

#include "config/invalid_value.hpp"

namespace cartero::config {
namespace {

constexpr std::string_view kHowToWrite =
    "write HOST:PORT with an IP address, e.g. \"127.0.0.1:25\", \"0.0.0.0:587\" or \"[::1]:465\"";

// The canonical text of an IP literal ("0:0::1" -> "::1"), so duplicate
// listeners are found however they are spelled.
std::optional<std::string> canonical_ip(int family, std::string_view host) {
    // inet_pton needs a NUL-terminated string and stops at an embedded NUL.
    if (host.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    unsigned char binary[16];
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(family, std::string(host).c_str(), binary) != 1 ||
        inet_ntop(family, binary, text, sizeof text) == nullptr) {
        return std::nullopt;
    }
    return std::string(text);
}

std::uint16_t parse_port(std::string_view text, std::string_view whole) {
    unsigned port = 0;
    const char* end = text.data() + text.size();
    const auto [rest, error] = std::from_chars(text.data(), end, port);
    if (text.empty() || error != std::errc{} || rest != end || port > 65535) {
        throw InvalidValue("\"" + std::string(whole) + "\": port must be a number from 0 to 65535",
                           std::string(kHowToWrite));
    }
    return static_cast<std::uint16_t>(port);
}

ListenAddress parse_bracketed(std::string_view text) {
    const std::size_t close = text.find("]:");
    if (close == std::string_view::npos) {
        throw InvalidValue("\"" + std::string(text) + "\": missing \"]:PORT\" after the IPv6 address",
                           std::string(kHowToWrite));
    }
    const auto host = canonical_ip(AF_INET6, text.substr(1, close - 1));
    if (!host) {
        throw InvalidValue("\"" + std::string(text) + "\": not an IPv6 address inside the brackets",
                           std::string(kHowToWrite));
    }
    return {*host, parse_port(text.substr(close + 2), text)};
}

ListenAddress parse_ipv4(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        throw InvalidValue("\"" + std::string(text) + "\": missing \":PORT\"", std::string(kHowToWrite));
    }
    const std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
        throw InvalidValue("\"" + std::string(text) + "\": an IPv6 address needs brackets",
                           "write it as \"[" + std::string(host) + "]" + std::string(text.substr(colon)) + "\"");
    }
    const auto canonical = canonical_ip(AF_INET, host);
    if (!canonical) {
        throw InvalidValue("\"" + std::string(text) + "\": \"" + std::string(host) + "\" is not an IP address",
                           std::string(kHowToWrite));
    }
    return {*canonical, parse_port(text.substr(colon + 1), text)};
}

bool covers(const ListenAddress& wildcard, const ListenAddress& other) {
    if (wildcard.host == "::") {
        return true;
    }
    return wildcard.host == "0.0.0.0" && other.host.find(':') == std::string::npos;
}

}  // namespace

ListenAddress parse_listen_address(std::string_view text) {
    if (text.starts_with('[')) {
        return parse_bracketed(text);
    }
    return parse_ipv4(text);
}

bool listen_addresses_overlap(const ListenAddress& a, const ListenAddress& b) {
    if (a.port == 0 || a.port != b.port) {
        return false;  // port 0 asks the kernel for distinct free ports
    }
    return a.host == b.host || covers(a, b) || covers(b, a);
}

bool is_ip_address(std::string_view host) {
    return canonical_ip(AF_INET, host) || canonical_ip(AF_INET6, host);
}

LmtpAddress parse_lmtp_address(std::string_view text) {
    constexpr std::string_view kUnix = "unix:";
    constexpr std::string_view kHow = "write \"unix:/run/dovecot/lmtp\" or HOST:PORT with an IP address, e.g. "
                                      "\"127.0.0.1:24\"";
    if (text.starts_with(kUnix)) {
        const std::string_view path = text.substr(kUnix.size());
        if (!path.starts_with('/') || path.find('\0') != std::string_view::npos) {
            throw InvalidValue("\"" + std::string(text) + "\": the socket path must be absolute", std::string(kHow));
        }
        return {std::string(path), {}, 0};
    }
    ListenAddress address;
    try {
        address = parse_listen_address(text);
    } catch (const InvalidValue& invalid) {
        throw InvalidValue(invalid.what(), std::string(kHow));
    }
    if (address.port == 0) {
        throw InvalidValue("\"" + std::string(text) + "\": port 0 is not a server's port", std::string(kHow));
    }
    // cartero speaks LMTP without TLS (RFC 2033 has no STARTTLS of its own in
    // cartero's client): over the network every message, and whatever the
    // mail store answers, would travel in plaintext. Only this host is safe.
    if (!is_loopback_host(address.host)) {
        throw InvalidValue("\"" + std::string(text) + "\" is not on this host: cartero speaks LMTP without TLS, so mail "
                           "would cross the network in plaintext",
                           "use a Unix socket such as \"unix:/run/dovecot/lmtp\" or a loopback address such as "
                           "\"127.0.0.1:24\" (run the LMTP server on this host)");
    }
    return {{}, address.host, address.port};
}

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host == "::1" || (canonical_ip(AF_INET, host) && host.starts_with("127."));
}

std::string format_listen_address(std::string_view host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

}  // namespace cartero::config
