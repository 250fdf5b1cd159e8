// Fuzz target: the MTA-STS policy parser and its cache format
// (delivery/remote/mta_sts_policy.hpp) on any octets — the policy comes over
// HTTPS from the recipient domain's owner, the cache file from our disk.
//
// Input: byte 0 picks policy (even) or cache file (odd); the rest is the text.
// Invariants: a policy has a known mode, lower-case MX patterns without a
// trailing dot, at least one unless mode is none, and a max_age within RFC
// 8461's bound; a cached policy survives serialize -> deserialize unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "delivery/remote/mta_sts_policy.hpp"
#include "fuzz_check.hpp"

using namespace cartero::delivery::mta_sts;

namespace {

void check_policy(const Policy& policy) {
    FUZZ_CHECK(policy.mode == Mode::none || policy.mode == Mode::testing || policy.mode == Mode::enforce);
    FUZZ_CHECK(policy.mode == Mode::none || !policy.mx.empty());
    FUZZ_CHECK(policy.max_age >= 0 && policy.max_age <= 31557600);
    for (const auto& pattern : policy.mx) {
        FUZZ_CHECK(!pattern.empty() && pattern.back() != '.');
        for (const char c : pattern) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    }
}

bool same(const CachedPolicy& a, const CachedPolicy& b) {
    return a.id == b.id && a.body == b.body && a.fetched == b.fetched && a.policy.mode == b.policy.mode &&
           a.policy.mx == b.policy.mx && a.policy.max_age == b.policy.max_age;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        const Parsed<Policy> parsed = parse_policy(text);
        if (const auto* policy = std::get_if<Policy>(&parsed)) check_policy(*policy);
        else FUZZ_CHECK(!std::get<std::string>(parsed).empty());
        return 0;
    }
    const Parsed<CachedPolicy> cached = deserialize(text);
    if (const auto* entry = std::get_if<CachedPolicy>(&cached)) {
        check_policy(entry->policy);
        const Parsed<CachedPolicy> again = deserialize(serialize(*entry));
        FUZZ_CHECK(std::holds_alternative<CachedPolicy>(again) && same(std::get<CachedPolicy>(again), *entry));
    }
    return 0;
}
