// The port probe: what a mail host speaks on its submission ports, for
// `cartero discover` (step 5: smtp.DOMAIN and mail.DOMAIN on 465, 587 and 25)
// and for `cartero check` (a port that timed out: which other port answers).
//
// Every (host, port) is probed at once, each on its own thread through
// delivery::SmtpConnection: connect, greeting, EHLO, then TLS — from the first
// byte on 465 (RFC 8314), by STARTTLS elsewhere when offered (RFC 3207) —,
// EHLO again, and QUIT. Nothing is sent past EHLO: no AUTH, no MAIL. The
// result says what the port speaks (SSL/TLS, STARTTLS, plaintext only) and the
// SASL mechanisms offered after TLS. The certificate is checked (chain and
// name) and reported, but a bad one does not stop the probe: it tells what
// the port speaks.
//
// Bounds: the whole probe ends by `timeout` after it starts — each
// connection's every step has that deadline, and at the deadline every
// connection still running is abandoned (ConnectionOptions::abandon) and
// reported as not answering in time. Name resolution uses the resolver's own
// timeout, which the caller keeps below `timeout`.
//
// Trust: the peers are untrusted; SmtpConnection bounds what they send.
// Privileges: outbound TCP; reads `ca_file`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "delivery/remote/smtp_connection.hpp"
#include "discovery/providers.hpp"
#include "dns/resolver.hpp"

namespace cartero::discovery {

// What a port turned out to speak.
enum class Speaks {
    implicit_tls,  // TLS from the first byte, then SMTP (RFC 8314): "SSL/TLS"
    starttls,      // SMTP, upgraded by STARTTLS (RFC 3207)
    plaintext,     // SMTP without any TLS offered
    no_host,       // the name does not resolve
    refused,       // connection refused: nothing listens
    timed_out,     // no answer in time (a firewall dropping packets, or a wrong TLS mode)
    failed,        // connected, but the SMTP or TLS dialogue failed (detail says how)
};

std::string_view speaks_id(Speaks);  // "implicit_tls", "starttls", ... for --json

struct PortProbe {
    std::string host;
    std::uint16_t port = 0;     // the port asked about (465, 587, 25)
    std::uint16_t dialled = 0;  // the port connected to (differs only with a test port map)
    std::string address;        // the IP address tried, when resolved
    Speaks speaks = Speaks::failed;
    std::vector<std::string> auth;  // SASL mechanisms offered (after TLS when TLS ran)
    delivery::TlsReport tls;
    std::string detail;  // plain words (English, technical) when it did not work
    std::chrono::milliseconds elapsed{0};

    bool answered() const { return speaks == Speaks::implicit_tls || speaks == Speaks::starttls || speaks == Speaks::plaintext; }
    // The security a client should configure for this port, if it speaks TLS.
    std::optional<Security> security() const;
};

struct ProbeOptions {
    std::chrono::milliseconds timeout{std::chrono::seconds(5)};  // discover --probe-timeout
    std::string helo_name = "localhost";
    std::optional<std::filesystem::path> ca_file;  // otherwise the system store
    // Test only (discover --probe-port-map 465=PORT,...): dial another port
    // than the one asked about, so tests reach a server on run-time ports.
    std::map<std::uint16_t, std::uint16_t> port_map;
};

// How a port is spoken to: 465 with TLS from the first byte, any other port
// in plaintext with STARTTLS when offered.
bool is_implicit_tls_port(std::uint16_t port);

// Probes every host on every port at once; results in the order host by host,
// port by port as given.
std::vector<PortProbe> probe_ports(dns::Resolver& resolver, const std::vector<std::string>& hosts,
                                   const std::vector<std::uint16_t>& ports, const ProbeOptions& options);

}  // namespace cartero::discovery
