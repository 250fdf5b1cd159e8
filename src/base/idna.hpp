// Internationalized domain names: the one canonical form cartero compares,
// stores and asks the DNS for.
//
// A domain may reach cartero as a U-label ("bücher.example", RFC 6531 3.3 lets
// an SMTPUTF8 client send one; an operator may type one in the config or the
// CLI) or as its A-label ("xn--bcher-kva.example", RFC 5890 2.3.2.1), in any
// letter case, with or without the root dot. Every comparison of domains goes
// through ascii_domain(), so both spellings name the same domain everywhere:
// local domains, routes, relays, accounts and aliases, DKIM keys, MX lookups.
//
// The conversion is UTS #46 nontransitional processing with NFC input
// (libidn2, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT; IDNA2008 as browsers and
// Postfix's smtputf8 support apply it: "ß" stays "ß" and becomes "xn--fa-hia").
// Labels that are plain ASCII and not "xn--" are only lower-cased: UTS #46
// CheckHyphens would refuse real host names such as "r3---sn-x.googlevideo.com",
// and an LDH label needs no mapping. "xn--" labels are checked to decode to a
// valid U-label; an invalid one makes the whole name invalid.
//
// Trust: input may come from the network (envelope domains). Nothing here
// decides whether the result is a syntactically valid host name: callers still
// apply their own rule (config/domain_name.hpp, dns/name.hpp) to the A-label.
// Pure; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cartero::base {

// The A-label form of `name`: lower case, one trailing root dot removed,
// U-labels converted to A-labels. nullopt when `name` is not valid IDNA (an
// invalid "xn--" label, a disallowed code point, invalid UTF-8, a NUL, a label
// of a non-ASCII name over 63 octets). An empty name stays empty.
std::optional<std::string> ascii_domain(std::string_view name);

}  // namespace cartero::base
