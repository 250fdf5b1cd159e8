#include "config/domain_name.hpp"

#include <gtest/gtest.h>

namespace cartero::config {
namespace {

TEST(IsDomainName, Table) {
    const std::string label63(63, 'a');
    const std::string label64(64, 'a');
    const std::string long_name = label63 + "." + label63 + "." + label63 + "." + std::string(62, 'a');  // 254
    const struct {
        std::string name;
        bool want;
    } cases[] = {
        {"example.org", true},
        {"localhost", true},
        {"mail-1.Example.ORG", true},
        {"1.example.org", true},  // RFC 1123 2.1
        {"xn--bcher-kva.example", true},
        {label63 + ".org", true},
        {"", false},
        {".example.org", false},
        {"example.org.", false},
        {"a..org", false},
        {"-a.org", false},
        {"a-.org", false},
        {"a_b.org", false},
        {"bücher.example", false},
        {"exa mple.org", false},
        {label64 + ".org", false},
        {long_name, false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(is_domain_name(c.name), c.want) << "\"" << c.name << "\": got " << !c.want << ", want " << c.want;
    }
}

TEST(AsciiDomainName, Table) {
    struct Case { std::string in; std::optional<std::string> want; };
    const Case cases[] = {
        {"b\xC3\xBC" "cher.example", "xn--bcher-kva.example"},
        {"XN--BCHER-KVA.example", "xn--bcher-kva.example"},
        {"Mail.Example.ORG", "mail.example.org"},
        {"example.org.", std::nullopt},    // no root dot in the config
        {"xn--zz.example", std::nullopt},  // invalid IDNA
        {"a_b.org", std::nullopt},         // IDNA-valid, but not a host name
        {"bad..org", std::nullopt},
    };
    for (const auto& c : cases)
        EXPECT_EQ(ascii_domain_name(c.in), c.want) << "ascii_domain_name(\"" << c.in << "\")";
}

TEST(LowerAscii, LeavesNonLettersAlone) { EXPECT_EQ(lower_ascii("MX-1.Example.ORG"), "mx-1.example.org"); }

}  // namespace
}  // namespace cartero::config
