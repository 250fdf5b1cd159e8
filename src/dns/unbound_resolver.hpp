// The production Resolver, over libunbound (NLnet Labs): a validating stub or
// full resolver inside the process, so DNSSEC answers can be trusted for DANE
// without trusting the path to an outside resolver.
//
//   resolver = ""            forward to the nameservers of /etc/resolv.conf
//   resolver = "recursive"   resolve from the root servers (root hints built into libunbound)
//   resolver = "ADDR[,ADDR]" forward to these servers, each "192.0.2.53",
//                            "192.0.2.53:5353", "2001:db8::53" or "[2001:db8::53]:5353"
//
// Loopback forwarders work (unbound's do-not-query-localhost is turned off),
// so tests point the resolver at a server on 127.0.0.1 and a run-time port.
//
// Timeout: every call returns within `timeout` (addresses() asks AAAA and A
// at once against the same deadline), whatever libunbound's own retry
// schedule would do; past it the question is cancelled and answers temporary. Queries run on
// libunbound's background thread (ub_ctx_async threaded mode; never fork) and
// one thread of ours hands results back to the waiting callers.
//
// DNSSEC: with `trust_anchor_file` (a zone-format file of DS or DNSKEY records
// for the root or any zone, e.g. /usr/share/dns/root.ds from Debian's
// dns-root-data) answers are validated: `secure` is true for signed chains,
// bogus answers are temporary failures (RFC 7672 2.1.1). Without it nothing is
// validated and `secure` is always false. A forwarder must pass DNSSEC records
// through (most do) for validation to succeed.
//
// Logging: libunbound's own log lines go to /dev/null; every failure reaches
// the caller as an answer's `error` instead.
//
// Trust: answers are untrusted and parsed by dns/rdata.hpp. Privileges: UDP
// and TCP sockets to the resolvers; reads /etc/resolv.conf and the trust
// anchor file at construction.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"

namespace cartero::dns {

struct ResolverOptions {
    std::string resolver;                      // see above; "" = /etc/resolv.conf
    std::string trust_anchor_file;             // "" = no DNSSEC validation
    std::chrono::milliseconds timeout{10000};  // per call; must be > 0
};

// The unbound form ("addr@port") of each address in `resolver` (comma or
// space separated). Throws std::invalid_argument naming the bad entry.
std::vector<std::string> parse_forwarders(std::string_view resolver);

// Throws std::invalid_argument for bad options (an unparsable address, a
// trust anchor file that cannot be read, a zero timeout) and
// std::runtime_error if libunbound refuses its setup: both are startup errors.
std::unique_ptr<Resolver> make_unbound_resolver(const ResolverOptions& options);

}  // namespace cartero::dns
