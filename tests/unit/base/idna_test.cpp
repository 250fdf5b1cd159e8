// ascii_domain: the one domain normaliser (UTS #46 via libidn2).
#include "base/idna.hpp"

#include <gtest/gtest.h>

namespace cartero::base {
namespace {

TEST(AsciiDomain, Table) {
    struct Case { std::string in; std::optional<std::string> want; };
    const Case cases[] = {
        // U-label and A-label spellings of one name meet in the A-label.
        {"b\xC3\xBC" "cher.example", "xn--bcher-kva.example"},
        {"xn--bcher-kva.example", "xn--bcher-kva.example"},
        // Mixed case, in both forms (UTS #46 maps U+00DC to U+00FC).
        {"B\xC3\x9C" "CHER.Example", "xn--bcher-kva.example"},
        {"XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"},
        {"Example.ORG", "example.org"},
        // One trailing root dot is dropped.
        {"b\xC3\xBC" "cher.example.", "xn--bcher-kva.example"},
        {"example.org.", "example.org"},
        // Nontransitional: sharp s stays itself (IDNA2008), not "ss".
        {"fa\xC3\x9F.de", "xn--fa-hia.de"},
        // A non-ASCII full stop (U+3002) separates labels like '.'.
        {"b\xC3\xBC" "cher\xE3\x80\x82" "example", "xn--bcher-kva.example"},
        // LDH labels are left alone: real host names break CheckHyphens.
        {"r3---sn-x.googlevideo.com", "r3---sn-x.googlevideo.com"},
        {"_25._tcp.mx.example", "_25._tcp.mx.example"},
        {"", ""},
        // Invalid IDNA is refused.
        {"xn--zz.example", std::nullopt},                // punycode that does not decode
        {"xn--a.example", std::nullopt},                 // decodes to a disallowed label
        {"\xF0\x9F\x92\xA9.la", std::nullopt},             // emoji: disallowed in IDNA2008
        {"b\xFC" "cher.example", std::nullopt},           // Latin-1, not UTF-8
        {"b\xC3\xBC" "cher-.example", std::nullopt},      // hyphen at the end of a label
        {std::string("exa\0mple.org", 12), std::nullopt},  // NUL
        {"b\xC3\xBC" + std::string(70, 'a') + ".example", std::nullopt},  // label over 63 octets
    };
    for (const auto& c : cases) {
        const auto got = ascii_domain(c.in);
        EXPECT_EQ(got, c.want) << "ascii_domain(\"" << c.in << "\"): got " << got.value_or("nullopt") << ", want "
                               << c.want.value_or("nullopt");
    }
}

}  // namespace
}  // namespace cartero::base
