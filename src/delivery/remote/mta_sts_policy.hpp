// MTA-STS policies (RFC 8461), the pure part: the `_mta-sts` TXT record
// (3.1), the policy file (3.2), MX host patterns (4.1), the cache entry and
// the decision whether to use a cached policy or fetch a fresh one (3.3, 5.1,
// 10.2). No I/O and no clock: the time is an argument. The fetching and the
// caches (memory, {data_dir}/mta-sts/) are in mta_sts.hpp.
//
// Trust: every input here comes from the network (DNS answers, an HTTPS body
// served by the recipient domain) or from the cache file cartero wrote (which
// is parsed as if it were hostile all the same). Parsing is bounded by the
// sizes below; nothing is allocated beyond the input's size. Not fuzzed yet
// (a fuzz/ target for parse_policy, policy_id and deserialize is still to do).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cartero::delivery::mta_sts {

// RFC 8461 3.3: "senders SHOULD impose a limit on the maximum size of the
// policy file", suggested 64 KiB.
inline constexpr std::size_t max_policy_size = 64 * 1024;
// RFC 8461 3.2: max_age is at most 31557600 seconds (about one year).
inline constexpr std::int64_t max_max_age = 31557600;
// More mx lines than any real policy has; bounds the matching work per host.
inline constexpr std::size_t max_mx_patterns = 100;

enum class Mode { enforce, testing, none };
std::string_view to_string(Mode mode);

struct Policy {
    Mode mode = Mode::none;
    std::vector<std::string> mx;  // patterns, lower case, without trailing dot
    std::int64_t max_age = 0;     // seconds
};

// Either the value or the reason, in plain words.
template <typename T>
using Parsed = std::variant<T, std::string>;

// RFC 8461 3.1: the policy id from the TXT records of `_mta-sts.<domain>`.
// Records not starting with "v=STSv1;" are ignored; if not exactly one is
// left, or it is malformed, the domain has no MTA-STS (`error` says why).
struct PolicyId {
    std::optional<std::string> id;
    std::string error;
};
PolicyId policy_id(const std::vector<std::string>& txt_records);

// RFC 8461 3.2: "key: value" lines ended by CRLF or LF; version STSv1, mode,
// max_age required; mx required (at least one) unless mode is none; unknown
// keys ignored; a duplicated version/mode/max_age is an error.
Parsed<Policy> parse_policy(std::string_view body);

// RFC 8461 4.1: `host` (an MX host name) matches `pattern`, either exactly or
// as "*.example.com", where the wildcard stands for exactly one leftmost label
// ("mx.example.com" matches, "a.b.example.com" and "example.com" do not).
// Case-insensitive; a trailing dot on either side is ignored.
bool mx_matches(std::string_view pattern, std::string_view host);
bool mx_allowed(const Policy& policy, std::string_view host);

// A policy as cached: the id it was fetched under, the body as served (so the
// file cache stores exactly what was parsed) and when it was fetched.
using Seconds = std::chrono::sys_seconds;
struct CachedPolicy {
    std::string id;
    Policy policy;
    std::string body;
    Seconds fetched{};
};

// RFC 8461 3.2 and 5.1: a cached policy is valid until fetched + max_age.
bool expired(const CachedPolicy& cached, Seconds now);

// What to do for a delivery, given the TXT record's id (nullopt when there is
// no valid record or the lookup failed) and the cache entry, if any.
enum class Refresh {
    use_cached,  // the cached policy is current
    fetch,       // fetch it; on failure fall back to an unexpired cached policy (5.1)
    no_policy,   // no TXT record and nothing unexpired cached
};
Refresh plan(const std::optional<std::string>& txt_id, const CachedPolicy* cached, Seconds now);

// The file cache format: a few header lines, an empty line, the body.
//   cartero-mta-sts 1
//   id: 20240101T000000
//   fetched: 1704067200
//
//   version: STSv1 ...
std::string serialize(const CachedPolicy& cached);
Parsed<CachedPolicy> deserialize(std::string_view text);

}  // namespace cartero::delivery::mta_sts
