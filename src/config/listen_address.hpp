// Listener addresses: "HOST:PORT" with HOST an IPv4 literal or a bracketed IPv6
// literal ("0.0.0.0:25", "[::1]:587"); PORT 0..65535, 0 = any free port (tests).
// Host names are refused: a listener binds before DNS is trusted, and a name
// with several addresses would make "which socket?" a guess.
//
// Trust: operator input. Pure apart from inet_pton.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cartero::config {

struct ListenAddress {
    std::string host;  // without brackets: "::1"
    std::uint16_t port = 0;
};

// Throws InvalidValue saying what is wrong and how to write it.
ListenAddress parse_listen_address(std::string_view text);

// The text parse_listen_address reads back: "127.0.0.1:25", "[::1]:587".
std::string format_listen_address(std::string_view host, std::uint16_t port);

// True when binding both would fail: same non-zero port and the same host, or
// one of them is a wildcard ("0.0.0.0" covers IPv4; "::" covers everything,
// because Linux binds "::" dual-stack by default).
bool listen_addresses_overlap(const ListenAddress& a, const ListenAddress& b);

// True for an IPv4 or IPv6 literal without brackets ("192.0.2.1", "::1").
bool is_ip_address(std::string_view host);

// True for 127.0.0.0/8, ::1 and "localhost": where plaintext cannot be overheard.
bool is_loopback_host(std::string_view host);

// An LMTP server's address (lmtp.address, delivery.lmtp): "unix:/absolute/path"
// for a Unix socket (Dovecot's /run/dovecot/lmtp), or "HOST:PORT" as for a
// listener (IP literal, IPv6 in brackets) with a port other than 0. LMTP has no
// MX lookup and must not be sent to whatever a name resolves to today (RFC
// 2033 1: LMTP is for a local mail store, never the Internet).
struct LmtpAddress {
    std::string unix_socket;  // non-empty: connect here
    std::string host;         // otherwise: IP literal without brackets
    std::uint16_t port = 0;
};

// Throws InvalidValue saying what is wrong and how to write it.
LmtpAddress parse_lmtp_address(std::string_view text);

}  // namespace cartero::config
