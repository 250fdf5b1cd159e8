// Next hop: where the mail of one remote domain goes, and the list of servers
// to try for it, in order.
//
//   [[destination]] for the domain with relay  -> that [[relay]]
//   [[destination]] for the domain without     -> its MX hosts, with its tls policy
//   delivery.relay set                         -> that [[relay]] for every domain
//   otherwise                                  -> MX hosts (RFC 5321 5.1) with delivery.tls
//
// MX hosts: order_mx (preference, random among equals, implicit MX, null MX),
// then each host's addresses, IPv6 before IPv4 as RFC 6724 prefers. A relay
// host is resolved the same way without the MX step. The servers are tried in
// that order until one accepts a connection (RFC 5321 5.1: "try each ... in
// turn").
//
// Trust: the domain comes from an envelope (checked at RCPT time); DNS answers
// are untrusted and were parsed by dns/. Privileges: none (lookups only).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "delivery/courier.hpp"
#include "delivery/remote/smtp_connection.hpp"
#include "dns/mx_order.hpp"
#include "dns/resolver.hpp"

namespace cartero::delivery {

struct NextHop {
    std::string name;                   // "mx:example.com" or "relay:gmail": the connection cache key part
    const config::Relay* relay = nullptr;  // set when the mail goes to a smarthost
    TlsMode tls = TlsMode::opportunistic;
    std::uint16_t port = 25;
};

// The hop for `domain` under `config` (which must outlive the result).
NextHop next_hop(const config::Config& config, std::string_view domain);

// "mx.example.com[192.0.2.1]:25", as logs and DSNs name a server.
std::string display(const Peer& peer);

// The servers to try for `domain` through `hop`, or the outcome that applies to
// every recipient when there is none: temporary for DNS failures, permanent
// for a null MX or a domain that does not exist.
struct Peers {
    std::vector<Peer> peers;
    std::optional<DeliveryOutcome> failure;
    // MX hosts whose MX answer and address answer were both DNSSEC-validated:
    // the only hosts DANE may be used for (RFC 7672 2.2.1, 2.2.2).
    std::set<std::string> dnssec_hosts;
};

Peers peers_for(dns::Resolver& resolver, const NextHop& hop, std::string_view domain, const dns::RandomBelow& random);

}  // namespace cartero::delivery
