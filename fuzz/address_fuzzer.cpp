// Fuzz target: parse_path (RFC 5321 4.1.2 paths and ESMTP parameters) on any octets.
// Invariants: an accepted address holds no control octet, SP outside quotes, or
// over-limit part; keywords are upper-case; values hold no '=' or SP.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/address.hpp"

namespace {

bool has_control(std::string_view s) {
    for (const char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    }
    return false;
}

void check_path(const cartero::smtp::Path& path) {
    using namespace cartero::smtp;
    const Address& a = path.address;
    FUZZ_CHECK(!has_control(a.local) && !has_control(a.domain));
    FUZZ_CHECK(a.local.size() <= max_local_part && a.domain.size() <= max_domain);
    FUZZ_CHECK(a.domain.find(' ') == std::string::npos);
    FUZZ_CHECK(a.local.empty() || a.local[0] == '"' || a.local.find(' ') == std::string::npos);
    for (const auto& p : path.params) {
        FUZZ_CHECK(!p.keyword.empty());
        for (const char c : p.keyword) FUZZ_CHECK(!(c >= 'a' && c <= 'z'));
        FUZZ_CHECK(p.value.find_first_of("= ") == std::string::npos && !has_control(p.value));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (const bool allow_null : {true, false}) {
        const auto parsed = cartero::smtp::parse_path(input, allow_null);
        FUZZ_CHECK(parsed.path.has_value() != parsed.error.has_value());
        if (parsed.path) check_path(*parsed.path);
    }
    return 0;
}
