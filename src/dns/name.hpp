// Domain names as cartero asks them: presentation form, A-labels (a U-label
// such as "bücher.example" is converted by base::ascii_domain, the one domain
// normaliser, so the resolver is asked "xn--bcher-kva.example"), lower case, no
// trailing dot, letters/digits/'-'/'_' only (RFC 1035 2.3.1 LDH host names;
// '_' for service labels such as `_mta-sts` RFC 8461 3.1, `_25._tcp` RFC 6698
// 3 and `sel._domainkey` RFC 6376 3.6.2.1). Names outside that set are never
// asked: an envelope domain is untrusted input, and a name with a NUL, a space
// or an escaped dot would mean something different to each library that
// reads it.
//
// Pure; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cartero::dns {

// RFC 1035 2.3.4: 63 octets per label, 255 per name in wire form, which is 253
// characters in presentation form without the trailing dot.
inline constexpr std::size_t max_label_length = 63;
inline constexpr std::size_t max_name_length = 253;

// Why `name` cannot be asked ("empty label in \"a..b\"", an invalid IDN), or
// nullopt when it can. One trailing dot is allowed.
std::optional<std::string> name_problem(std::string_view name);

// The A-label form, lower case, without the trailing dot. Call after name_problem.
std::string normalize_name(std::string_view name);

}  // namespace cartero::dns
