// Domain name checks: which names the resolver will ask at all.
#include "dns/name.hpp"

#include <gtest/gtest.h>

namespace cartero::dns {
namespace {

TEST(NameProblem, AcceptsHostAndServiceNames) {
    struct Case { std::string in; bool ok; };
    const Case cases[] = {
        {"example.com", true},
        {"Example.COM.", true},
        {"_25._tcp.mx.example.com", true},
        {"sel._domainkey.example.com", true},
        {"xn--bcher-kva.example", true},
        {"localhost", true},
        {std::string(63, 'a') + ".com", true},
        {std::string(64, 'a') + ".com", false},
        {"", false},
        {".", false},
        {"a..b", false},
        {".example.com", false},
        {"example.com..", false},
        {"exa mple.com", false},
        {"exa\\.mple.com", false},
        {std::string("exa\0mple.com", 12), false},
        {"b\xC3\xBC" "cher.example", true},  // asked as its A-label (RFC 5890, UTS #46)
        {"xn--zz.example", false},             // an A-label that does not decode
        {"\xF0\x9F\x92\xA9.la", false},        // a code point IDNA2008 disallows
    };
    for (const auto& c : cases) {
        const auto problem = name_problem(c.in);
        EXPECT_EQ(!problem.has_value(), c.ok)
            << "name_problem(\"" << c.in << "\"): got " << problem.value_or("ok") << ", want " << (c.ok ? "ok" : "a problem");
    }
}

TEST(NameProblem, LengthLimitIs253WithoutTheDot) {
    std::string name;
    while (name.size() < 253) name += (name.empty() ? "" : ".") + std::string(std::min<std::size_t>(63, 253 - name.size() - (name.empty() ? 0 : 1)), 'a');
    ASSERT_EQ(name.size(), 253u);
    EXPECT_FALSE(name_problem(name)) << name_problem(name).value_or("");
    EXPECT_FALSE(name_problem(name + "."));
    EXPECT_TRUE(name_problem(name + "a"));
}

TEST(NormalizeName, LowerCaseWithoutTrailingDot) {
    EXPECT_EQ(normalize_name("MX1.Example.COM."), "mx1.example.com");
    EXPECT_EQ(normalize_name("_25._TCP.a"), "_25._tcp.a");
}

TEST(NormalizeName, ULabelBecomesTheALabel) {
    EXPECT_EQ(normalize_name("B\xC3\x9C" "CHER.Example."), "xn--bcher-kva.example");
    EXPECT_EQ(normalize_name("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
    // Plain LDH labels are only lower-cased: UTS #46 CheckHyphens would refuse this real host name.
    EXPECT_EQ(normalize_name("R3---SN-X.googlevideo.com"), "r3---sn-x.googlevideo.com");
}

}  // namespace
}  // namespace cartero::dns
