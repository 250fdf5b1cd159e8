// `cartero discover ADDRESS`: the outgoing settings of an address, and the
// source that gave them, trying in this order (issue 9 section 1):
//   1. the provider table (discovery/providers.hpp), by the address's domain;
//   2. the domain's autoconfig (discovery/autoconfig.hpp);
//   3. RFC 8314 / RFC 6186 SRV records: _submissions._tcp (SSL/TLS) before
//      _submission._tcp (STARTTLS), as RFC 8314 5.1 prefers implicit TLS;
//   4. the provider behind the domain's MX (an MX under google.com: Gmail);
//   5. a probe of smtp.DOMAIN and mail.DOMAIN on 465, 587 and 25.
// The table needs no network and answers at once. Otherwise steps 2 to 5 run
// at the same time, each bounded, and the first step in the order above that
// found something gives the answer; the probe's findings are reported in any
// case. So an unknown domain is answered within the longest bound of a step,
// not their sum.
//
// Trust: every network answer is untrusted and parsed by the step's own
// module. Privileges: outbound DNS, HTTPS and SMTP connections.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "discovery/autoconfig.hpp"
#include "discovery/probe.hpp"
#include "discovery/settings.hpp"
#include "dns/resolver.hpp"

namespace cartero::discovery {

struct DiscoverOptions {
    AutoconfigOptions autoconfig;
    ProbeOptions probe;
    std::vector<std::uint16_t> probe_ports{465, 587, 25};
};

// How one step went, for the "tried" lines.
struct StepReport {
    Source source = Source::table;
    bool found = false;
    std::vector<std::string> details;  // plain words (English, technical): what was asked and why nothing came of it
};

struct Discovery {
    std::optional<Settings> settings;  // nullopt: nothing found
    std::vector<StepReport> steps;     // in the order of trust; only the steps that ran
    std::vector<PortProbe> probes;     // empty when the probe did not run
};

Discovery discover(dns::Resolver& resolver, const Address& address, const DiscoverOptions& options);

// The steps on their own, for tests and for `cartero check`.
std::optional<Settings> from_table(const Address& address);
std::optional<Settings> from_srv(dns::Resolver& resolver, const Address& address, StepReport& report);
std::optional<Settings> from_mx(dns::Resolver& resolver, const Address& address, StepReport& report);
// Settings from probe results: the ports that speak TLS, SSL/TLS first, then
// STARTTLS on 587; smtp.DOMAIN before mail.DOMAIN at equal rank. Port 25 only
// when nothing else answers with TLS, and then with the note that it is not
// meant for mail programs (RFC 5068).
std::optional<Settings> from_probes(const std::vector<PortProbe>& probes);

}  // namespace cartero::discovery
