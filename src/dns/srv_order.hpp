// From an SRV answer to the targets to try, in order (RFC 2782 "Usage
// rules"). Pure: the random source is an argument (dns/mx_order.hpp), so tests
// are deterministic.
//
//   - records of lower priority first;
//   - inside one priority, RFC 2782's weighted selection: each pick draws a
//     number in [0, sum of the remaining weights] and takes the first record
//     whose running sum reaches it, so a record of weight 0 is picked only
//     when it is the last one left or the draw is 0 (RFC 2782 puts weight-0
//     records first before summing, and so do we);
//   - a single record whose target is "." means the service is decidedly not
//     available at this domain (RFC 2782; RFC 6186 3.4 for submission): the
//     result says so and lists nothing. A "." among other records is dropped.
//
// Used by `cartero discover` for RFC 6186 `_submission._tcp` and RFC 8314
// `_submissions._tcp`. Trust: the records are untrusted DNS data, already
// parsed with bounds checks (dns/rdata.hpp).
#pragma once

#include <vector>

#include "dns/mx_order.hpp"
#include "dns/resolver.hpp"

namespace cartero::dns {

struct SrvTargets {
    std::vector<SrvRecord> targets;  // in the order to try
    bool not_offered = false;        // a lone "." target: the service is not offered
};

SrvTargets order_srv(const std::vector<SrvRecord>& records, const RandomBelow& random);

}  // namespace cartero::dns
