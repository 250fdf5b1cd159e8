// Fuzz target: the DNS RDATA parsers (dns/rdata.hpp) on any octets — MX, A,
// AAAA, TXT, TLSA, SRV and names — since any server on the path can answer
// (Exim CVE-2023-42219 was a DNS reply parser).
//
// Input: byte 0 picks the parser; the rest is the RDATA.
// Invariants: a parsed name is "." or lower-case labels of letters, digits,
// '-' and '_' of at most 63 octets, at most 253 octets in all; parse_name
// never moves past the input; TXT text is never longer than its RDATA; A and
// AAAA are exactly 4 and 16 octets of the family they say.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dns/rdata.hpp"
#include "fuzz_check.hpp"

using namespace cartero::dns;

namespace {

void check_name(const std::string& name) {
    if (name == ".") return;
    FUZZ_CHECK(!name.empty() && name.size() <= 253);
    std::size_t label = 0;
    for (const char c : name) {
        if (c == '.') {
            FUZZ_CHECK(label > 0);
            label = 0;
            continue;
        }
        FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
        FUZZ_CHECK(++label <= 63);
    }
    FUZZ_CHECK(label > 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rdata(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 7) {
        case 0:
            if (const auto mx = parse_mx(rdata)) check_name(mx->host);
            break;
        case 1:
            if (const auto a = parse_a(rdata)) FUZZ_CHECK(a->is_v4() && rdata.size() == 4);
            break;
        case 2:
            if (const auto aaaa = parse_aaaa(rdata)) FUZZ_CHECK(aaaa->is_v6() && rdata.size() == 16);
            break;
        case 3:
            if (const auto text = parse_txt(rdata)) FUZZ_CHECK(text->size() < rdata.size());
            break;
        case 4:
            if (const auto tlsa = parse_tlsa(rdata)) FUZZ_CHECK(tlsa->data.size() + 3 == rdata.size());
            break;
        case 5:
            if (const auto srv = parse_srv(rdata)) check_name(srv->target);
            break;
        case 6: {
            std::size_t offset = 0;
            if (const auto name = parse_name(rdata, offset)) {
                check_name(*name);
                FUZZ_CHECK(offset > 0 && offset <= rdata.size());
            }
            break;
        }
    }
    return 0;
}
