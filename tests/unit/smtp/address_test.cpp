// parse_path: RFC 5321 4.1.2 paths and esmtp-params; limits of 4.5.3.1; RFC 6531
// UTF-8; and what each relay trick parses to (its domain is the real final domain).
#include <gtest/gtest.h>

#include "smtp/address.hpp"

namespace cartero::smtp {
namespace {

struct Valid {
    std::string argument;
    bool allow_null;
    std::string local;
    std::string domain;
};

TEST(ParsePath, ValidPaths) {
    const std::vector<Valid> cases{
        {"<a@example.org>", false, "a", "example.org"},
        {"<First.Last@Example.ORG>", false, "First.Last", "example.org"},  // domain lower-cased, local kept
        {"<a+tag@sub.example.org>", false, "a+tag", "sub.example.org"},
        {"<>", true, "", ""},
        {"<Postmaster>", false, "postmaster", ""},
        {"<\"john doe\"@example.org>", false, "\"john doe\"", "example.org"},
        {"<\"a\\\"b\"@example.org>", false, "\"a\\\"b\"", "example.org"},
        {"<a@[192.0.2.1]>", false, "a", "[192.0.2.1]"},
        {"<a@[IPv6:2001:db8::1]>", false, "a", "[IPv6:2001:db8::1]"},
        {"<a@[ipv6:::1]>", false, "a", "[ipv6:::1]"},
        {"<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", false, "j\xc3\xb6rg", "b\xc3\xbc" "cher.example"},
        {"<a@xn--bcher-kva.example>", false, "a", "xn--bcher-kva.example"},
        {"<a-b@a-b.example>", false, "a-b", "a-b.example"},
        // Relay tricks: each keeps the domain after the last '@' outside quotes.
        {"<user%other.example@example.org>", false, "user%other.example", "example.org"},
        {"<user!other.example@example.org>", false, "user!other.example", "example.org"},
        {"<\"user@other.example\"@example.org>", false, "\"user@other.example\"", "example.org"},
        {"<@example.org:user@other.example>", false, "user", "other.example"},  // source route dropped
        {"<@a.example,@b.example:user@other.example>", false, "user", "other.example"},
    };
    for (const auto& c : cases) {
        const ParsedPath got = parse_path(c.argument, c.allow_null);
        ASSERT_TRUE(got.path.has_value()) << c.argument << ": got error " << static_cast<int>(*got.error);
        EXPECT_EQ(got.path->address.local, c.local) << c.argument;
        EXPECT_EQ(got.path->address.domain, c.domain) << c.argument;
        EXPECT_TRUE(got.path->params.empty()) << c.argument;
    }
}

struct Invalid {
    std::string argument;
    bool allow_null;
    PathError want;
};

TEST(ParsePath, InvalidPaths) {
    const std::string local_64(64, 'l');
    const std::string label_63(63, 'd');
    const std::string domain_255 = label_63 + "." + label_63 + "." + label_63 + "." + std::string(63, 'e');  // 255
    const std::vector<Invalid> cases{
        {"", true, PathError::syntax},
        {"a@example.org", false, PathError::syntax},
        {"<a@example.org", false, PathError::syntax},
        {"<>", false, PathError::syntax},  // no null recipient
        {"<postmaster>", true, PathError::syntax},  // postmaster alone only for RCPT
        {"<a>", false, PathError::syntax},
        {"<@example.org>", false, PathError::syntax},
        {"<a@>", false, PathError::syntax},
        {"<.a@example.org>", false, PathError::syntax},
        {"<a.@example.org>", false, PathError::syntax},
        {"<a..b@example.org>", false, PathError::syntax},
        {"<a b@example.org>", false, PathError::syntax},
        {"<a@b@example.org>", false, PathError::syntax},
        {"<a@-example.org>", false, PathError::syntax},
        {"<a@example-.org>", false, PathError::syntax},
        {"<a@example..org>", false, PathError::syntax},
        {"<a@example.org.>", false, PathError::syntax},
        {"<a@exa_mple.org>", false, PathError::syntax},
        {"<a@[300.1.1.1]>", false, PathError::syntax},
        {"<a@[IPv6:zz::1]>", false, PathError::syntax},
        {"<a@[x-tag:stuff]>", false, PathError::syntax},  // General-address-literal not supported
        {"<a@[192.0.2.1>", false, PathError::syntax},
        {std::string("<a@[IPv6:2001:db8::1\0junk]>", 27), false, PathError::syntax},  // found by fuzz_address
        {std::string("<a@[192.0.2.1\0]>", 16), false, PathError::syntax},
        {"<a@[192.0.2.1 ]>", false, PathError::syntax},
        {"<\"unterminated@example.org>", false, PathError::syntax},
        {"<\"a\rb\"@example.org>", false, PathError::syntax},
        {"<a\r\n@example.org>", false, PathError::syntax},
        {std::string("<a\0b@example.org>", 17), false, PathError::syntax},
        {"<a;id@example.org>", false, PathError::syntax},
        {"<$(reboot)@example.org>", false, PathError::syntax},
        {"<a@example.org>x", false, PathError::syntax},
        {"<\xc3\x28@example.org>", false, PathError::syntax},          // invalid UTF-8
        {"<\xc0\xaf@example.org>", false, PathError::syntax},          // overlong
        {"<\xed\xa0\x80@example.org>", false, PathError::syntax},      // surrogate
        {"<\xf4\x90\x80\x80@example.org>", false, PathError::syntax},  // past U+10FFFF
        {"<\xe2\x82@example.org>", false, PathError::syntax},          // truncated
        {"<@:a@example.org>", false, PathError::syntax},
        {"<" + local_64 + "l@example.org>", false, PathError::too_long},
        {"<a@" + domain_255 + "x>", false, PathError::too_long},
        {"<" + local_64 + "@" + domain_255 + ">", false, PathError::too_long},  // path over 256
        {"<a@example.org> SIZE=", true, PathError::parameter_syntax},
        {"<a@example.org> =1", true, PathError::parameter_syntax},
        {"<a@example.org> -X", true, PathError::parameter_syntax},
        {"<a@example.org> A=b=c", true, PathError::parameter_syntax},
        {"<a@example.org> A=\x01", true, PathError::parameter_syntax},
    };
    for (const auto& c : cases) {
        const ParsedPath got = parse_path(c.argument, c.allow_null);
        ASSERT_FALSE(got.path.has_value()) << ::testing::PrintToString(c.argument) << ": got an address, want an error";
        EXPECT_EQ(*got.error, c.want) << ::testing::PrintToString(c.argument) << ": got " << static_cast<int>(*got.error)
                                      << ", want " << static_cast<int>(c.want);
    }
}

TEST(ParsePath, LimitsAreInclusive) {
    const std::string local_64(64, 'l');
    const std::string at_local_limit = "<" + local_64 + "@example.org>";
    EXPECT_TRUE(parse_path(at_local_limit, false).path.has_value());
    const std::string domain_254 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                                   "." + std::string(62, 'd');  // 254 octets: "<a@" + 254 + ">" = 258 > 256
    const std::string domain_250 = domain_254.substr(4);
    EXPECT_TRUE(parse_path("<a@" + domain_250 + ">", false).path.has_value());  // 1+1+1+250+1 = 254 octets
    EXPECT_EQ(parse_path("<ab@" + domain_254 + ">", false).error, PathError::too_long);
}

TEST(ParsePath, Parameters) {
    const ParsedPath got = parse_path("<a@example.org> size=100  BODY=8BITMIME SMTPUTF8 X-Y=\xc3\xa9", true);
    ASSERT_TRUE(got.path.has_value());
    const auto& params = got.path->params;
    ASSERT_EQ(params.size(), 4u);
    EXPECT_EQ(params[0].keyword, "SIZE");
    EXPECT_EQ(params[0].value, "100");
    EXPECT_EQ(params[1].keyword, "BODY");
    EXPECT_EQ(params[2].keyword, "SMTPUTF8");
    EXPECT_EQ(params[2].value, "");
    EXPECT_EQ(params[3].keyword, "X-Y");
    EXPECT_EQ(params[3].value, "\xc3\xa9");
}

TEST(Address, StrAndAscii) {
    EXPECT_EQ((Address{"a", "b.example"}).str(), "a@b.example");
    EXPECT_EQ(Address{}.str(), "");
    EXPECT_EQ((Address{"postmaster", ""}).str(), "postmaster");
    EXPECT_TRUE((Address{"a", "b"}).ascii());
    EXPECT_FALSE((Address{"j\xc3\xb6rg", "b"}).ascii());
}

}  // namespace
}  // namespace cartero::smtp
