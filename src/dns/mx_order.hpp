// From an MX answer to the list of hosts delivery tries, in order
// (RFC 5321 5.1). Pure: the random source is an argument, so tests are
// deterministic.
//
//   ok, MX records   hosts by preference ascending, random order among equal
//                    preferences ("the sender-SMTP MUST randomize them to spread
//                    the load"), each host once at its best preference;
//                    targets "." dropped (RFC 7505 3: "." is never a host)
//   ok, null MX      permanent: the domain accepts no mail (RFC 7505 3, 4.1)
//   nodata           the domain itself at preference 0 (implicit MX, RFC 5321
//                    5.1: "treated as if it was associated with an implicit MX
//                    RR, with a preference of 0, pointing to that host")
//   nxdomain         permanent: the domain does not exist
//   temporary        temporary (SERVFAIL, timeout, DNSSEC failure): retry later
//
// MX targets are taken as they come; the caller asks Resolver::addresses for
// each. Two kinds of target break RFC 5321 5.1 and RFC 2181 10.3 but are
// common enough that Postfix delivers to them, and so do we:
//   - an IP literal ("10 192.0.2.1."): Resolver::addresses answers it as that
//     address without a query;
//   - a CNAME: the resolver follows the alias when asking A/AAAA (libunbound
//     does so itself; the zone resolver too), so the host is reached.
// Routing loops back to this host (RFC 5321 5.1, "if the SMTP client itself is
// one of the MX hosts") need the host's own names and are the caller's check.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"

namespace cartero::dns {

enum class MxVerdict { ok, temporary, permanent };

std::string_view to_string(MxVerdict);

struct MxHosts {
    MxVerdict verdict = MxVerdict::temporary;
    std::string error;             // plain words when verdict != ok
    std::vector<MxRecord> hosts;   // in the order to try; empty unless ok
    bool implicit = false;         // no MX records: the domain itself (RFC 5321 5.1)
    bool secure = false;           // the MX answer was DNSSEC-validated (DANE, RFC 7672 2.2.1)
};

// Returns a number in [0, bound), bound >= 1, uniformly.
using RandomBelow = std::function<std::size_t(std::size_t bound)>;

// A RandomBelow for production: a per-thread Mersenne Twister seeded from
// std::random_device. Not for secrets; it only spreads load.
RandomBelow default_random();

// `domain` is the recipient domain the answer is for (for the implicit MX).
MxHosts order_mx(std::string_view domain, const MxAnswer& answer, const RandomBelow& random);

}  // namespace cartero::dns
