// RDATA parsers over hostile input (Exim CVE-2023-42219 class): every malformed
// form is rejected whole, every valid form parses exactly.
#include "dns/rdata.hpp"

#include <gtest/gtest.h>

namespace cartero::dns {
namespace {

using namespace std::string_literals;

std::string wire_name(std::initializer_list<std::string> labels) {
    std::string out;
    for (const auto& label : labels) out += static_cast<char>(label.size()) + label;
    return out + '\0';
}

TEST(ParseMx, ValidAndMalformed) {
    struct Case { std::string name; std::string rdata; std::optional<MxRecord> want; };
    const Case cases[] = {
        {"plain", "\x00\x0a"s + wire_name({"mx1", "Example", "com"}), MxRecord{10, "mx1.example.com"}},
        {"null MX", "\x00\x00\x00"s, MxRecord{0, "."}},
        {"preference 65535", "\xff\xff"s + wire_name({"a"}), MxRecord{65535, "a"}},
        {"IP literal target", "\x00\x05"s + wire_name({"192", "0", "2", "1"}), MxRecord{5, "192.0.2.1"}},
        {"too short", "\x00\x0a"s, std::nullopt},
        {"compression pointer", "\x00\x0a\xc0\x0c"s, std::nullopt},
        {"label overruns", "\x00\x0a\x05" "ab"s, std::nullopt},
        {"no terminating root", "\x00\x0a\x02" "ab"s, std::nullopt},
        {"trailing bytes", "\x00\x0a"s + wire_name({"a"}) + "x", std::nullopt},
        {"space in label", "\x00\x0a"s + wire_name({"a b"}), std::nullopt},
        {"dot inside label", "\x00\x0a"s + wire_name({"a.b"}), std::nullopt},
        {"NUL inside label", "\x00\x0a"s + wire_name({"a\0b"s}), std::nullopt},
        {"name over 255 octets",
         "\x00\x0a"s + wire_name({std::string(63, 'a'), std::string(63, 'b'), std::string(63, 'c'), std::string(63, 'd')}),
         std::nullopt},
    };
    for (const auto& c : cases) {
        const auto got = parse_mx(c.rdata);
        EXPECT_EQ(got.has_value(), c.want.has_value()) << c.name;
        if (got && c.want) {
            EXPECT_EQ(*got, *c.want) << c.name << ": got " << got->preference << " " << got->host;
        }
    }
}

TEST(ParseAddress, ExactSizes) {
    EXPECT_EQ(parse_a("\x7f\x00\x00\x01"s)->to_string(), "127.0.0.1");
    EXPECT_FALSE(parse_a("\x7f\x00\x00"s));
    EXPECT_FALSE(parse_a("\x7f\x00\x00\x01\x01"s));
    EXPECT_EQ(parse_aaaa(std::string(15, '\0') + "\x01")->to_string(), "::1");
    EXPECT_FALSE(parse_aaaa(std::string(4, '\0')));
}

TEST(ParseTxt, ConcatenatesCharacterStrings) {
    struct Case { std::string name; std::string rdata; std::optional<std::string> want; };
    const Case cases[] = {
        {"one string", "\x05hello"s, "hello"},
        {"two strings", "\x03" "abc\x03" "def"s, "abcdef"},
        {"empty string", "\x00"s, ""},
        {"255 + 45", "\xff"s + std::string(255, 'k') + "\x2d" + std::string(45, 'k'), std::string(300, 'k')},
        {"no strings", "", std::nullopt},
        {"length overruns", "\x09short"s, std::nullopt},
    };
    for (const auto& c : cases) {
        const auto got = parse_txt(c.rdata);
        EXPECT_EQ(got, c.want) << c.name << ": got " << got.value_or("(rejected)");
    }
}

TEST(ParseTlsa, FieldsAndData) {
    const auto got = parse_tlsa("\x03\x01\x01\xab\xcd"s);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, (TlsaRecord{3, 1, 1, "\xab\xcd"s}));
    EXPECT_FALSE(parse_tlsa("\x03\x01\x01"s)) << "no association data";
    EXPECT_FALSE(parse_tlsa(""));
}

TEST(ParseSrv, ValidAndMalformed) {
    struct Case { std::string name; std::string rdata; std::optional<SrvRecord> want; };
    const Case cases[] = {
        {"submissions", "\x00\x00\x00\x01\x01\xd1"s + wire_name({"Mail", "example", "com"}),
         SrvRecord{0, 1, 465, "mail.example.com"}},
        {"all 0xff", "\xff\xff\xff\xff\xff\xff"s + wire_name({"a"}), SrvRecord{65535, 65535, 65535, "a"}},
        {"not offered", "\x00\x00\x00\x00\x00\x00\x00"s, SrvRecord{0, 0, 0, "."}},
        {"numbers only", "\x00\x00\x00\x01\x01\xd1"s, std::nullopt},
        {"short numbers", "\x00\x00\x00"s, std::nullopt},
        {"compression pointer", "\x00\x00\x00\x01\x01\xd1\xc0\x0c"s, std::nullopt},
        {"label overruns", "\x00\x00\x00\x01\x01\xd1\x09mail"s, std::nullopt},
        {"trailing bytes", "\x00\x00\x00\x01\x01\xd1"s + wire_name({"a"}) + "x", std::nullopt},
        {"space in label", "\x00\x00\x00\x01\x01\xd1"s + wire_name({"a b"}), std::nullopt},
    };
    for (const auto& c : cases) {
        const auto got = parse_srv(c.rdata);
        EXPECT_EQ(got.has_value(), c.want.has_value()) << c.name;
        if (got && c.want) {
            EXPECT_EQ(*got, *c.want) << c.name << ": got target " << got->target << " port " << got->port;
        }
    }
}

}  // namespace
}  // namespace cartero::dns
