// smtp::srs: SRS0 addresses as libsrs2/postsrsd make them. The expected hashes
// were computed outside cartero from the spec (Python's hmac and base64:
// base64(HMAC-SHA1(secret, lower(TT + domain + local)))[:4]), so they check
// the encoding, not just that encode and decode agree.
#include "smtp/srs.hpp"

#include <gtest/gtest.h>

namespace cartero::smtp::srs {
namespace {

constexpr std::int64_t day = seconds_per_day;

TEST(Srs, TimestampIsTheDayModulo1024InBase32) {
    struct Case { std::int64_t when; std::string want; };
    for (const auto& c : std::vector<Case>{{0, "AA"}, {1700000000, "G3"}, {1764806400, "6K"},
                                           {1023 * day, "77"}, {1024 * day, "AA"}, {33 * day + 5, "BB"}})
        EXPECT_EQ(timestamp(c.when), c.want) << "at " << c.when;
}

TEST(Srs, HashMatchesIndependentVectors) {
    EXPECT_EQ(hash("t0ps3cr3t", "AA", "example.com", "ceo"), "W9Jz");
    EXPECT_EQ(hash("t0ps3cr3t", "G3", "example.com", "ceo"), "mcV7");
    EXPECT_EQ(hash("t0ps3cr3t", "6K", "example.com", "ceo"), "6V6S");
    EXPECT_EQ(hash("another", "AB", "example.com", "ceo"), "Y4Sk");
    // libsrs2 lower-cases what it hashes: the case of the address does not matter.
    EXPECT_EQ(hash("t0ps3cr3t", "g3", "Example.COM", "CEO"), "mcV7");
}

TEST(Srs, ForwardWritesTheSrs0Form) {
    EXPECT_EQ(forward("t0ps3cr3t", "ceo@example.com", "fwd.example", 1700000000),
              "SRS0=mcV7=G3=example.com=ceo@fwd.example");
    // Another forwarder's SRS0 address is wrapped again (srs.hpp), '=' and all.
    const std::string twice = forward("s", "SRS0=abcd=AA=a.example=x@b.example", "fwd.example", 0);
    EXPECT_TRUE(twice.starts_with("SRS0=")) << twice;
    EXPECT_TRUE(twice.ends_with("=AA=b.example=SRS0=abcd=AA=a.example=x@fwd.example")) << twice;
}

TEST(Srs, ParseSplitsTheParts) {
    const auto parts = parse("srs0+mcV7=G3=example.com=ceo=x");
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->hash, "mcV7");
    EXPECT_EQ(parts->timestamp, "G3");
    EXPECT_EQ(parts->domain, "example.com");
    EXPECT_EQ(parts->local, "ceo=x");
    for (std::string_view bad : {"", "SRS0", "SRS0=", "SRS0=h", "SRS0=h=t", "SRS0=h=t=d", "SRS0=h=t=d=",
                                 "SRS0==t=d=l", "SRS0=h==d=l", "SRS0=h=t==l", "SRS1=h=t=d=l", "SRS0.h=t=d=l",
                                 "alice", "SRS0xh=t=d=l"})
        EXPECT_FALSE(parse(bad)) << "\"" << bad << "\"";
}

TEST(Srs, ReverseVerifiesHashAndAge) {
    const std::vector<std::string> secrets{"t0ps3cr3t"};
    const std::int64_t made = 1700000000;
    const Reversed ok = reverse(secrets, "SRS0=mcV7=G3=example.com=ceo", made + 20 * day, 21);
    EXPECT_FALSE(ok.problem);
    EXPECT_EQ(ok.address, "ceo@example.com");
    // libsrs2 accepts the hash in any case; the timestamp too.
    EXPECT_FALSE(reverse(secrets, "srs0=MCv7=g3=example.com=ceo", made, 21).problem);
    struct Case { std::string_view local; std::int64_t now; Problem want; };
    for (const auto& c : std::vector<Case>{
             {"SRS0=mcV8=G3=example.com=ceo", made, Problem::bad_hash},
             {"SRS0=mcV7=G3=example.com=cfo", made, Problem::bad_hash},
             {"SRS0=mcV7=G3=example.org=ceo", made, Problem::bad_hash},
             {"SRS0=mcV7=G4=example.com=ceo", made, Problem::bad_hash},
             {"SRS0=mcV=G3=example.com=ceo", made, Problem::bad_hash},
             {"SRS0=mcV7=G1=example.com=ceo", made, Problem::bad_timestamp},
             {"SRS0=mcV7=G33=example.com=ceo", made, Problem::bad_timestamp},
             {"SRS0=mcV7=G3=example.com=ceo", made + 22 * day, Problem::expired},
             {"ceo", made, Problem::not_srs}})
        EXPECT_EQ(reverse(secrets, c.local, c.now, 21).problem, c.want) << c.local;
    // Without an age limit (routing a bounce that waited in the queue) only the hash counts.
    EXPECT_FALSE(reverse(secrets, "SRS0=mcV7=G3=example.com=ceo", made + 100 * day, std::nullopt).problem);
}

TEST(Srs, TimestampWrapsAround1024Days) {
    // Made on day 1023 of a cycle, checked on day 3 of the next: 4 days old.
    const std::int64_t made = 1023 * day;
    const std::string address = forward("s", "a@b.example", "fwd.example", made);
    const std::string local = address.substr(0, address.rfind('@'));
    EXPECT_FALSE(reverse({"s"}, local, 1027 * day, 21).problem);
    EXPECT_EQ(reverse({"s"}, local, 1023 * day + 22 * day, 21).problem, Problem::expired);
}

TEST(Srs, EverySecretVerifiesTheFirstSigns) {
    const std::string address = forward("new", "a@b.example", "fwd.example", 0);
    const std::string local = address.substr(0, address.rfind('@'));
    EXPECT_FALSE(reverse({"new", "old"}, local, 0, 21).problem);
    EXPECT_FALSE(reverse({"old", "new"}, local, 0, 21).problem);
    EXPECT_EQ(reverse({"old"}, local, 0, 21).problem, Problem::bad_hash);
}

}  // namespace
}  // namespace cartero::smtp::srs
