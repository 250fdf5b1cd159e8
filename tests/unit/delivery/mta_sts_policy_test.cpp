// MTA-STS, the pure part: TXT records (RFC 8461 3.1), policy files (3.2), MX
// patterns (4.1), cache expiry and the refresh plan (3.3, 5.1), the cache file
// format. Table-driven; failures read "got X, want Y".
#include <gtest/gtest.h>

#include "delivery/remote/mta_sts_policy.hpp"

namespace cartero::delivery::mta_sts {
namespace {

using namespace std::chrono_literals;

std::string error_of(const Parsed<Policy>& parsed) {
    const auto* error = std::get_if<std::string>(&parsed);
    return error ? *error : std::string("(parsed)");
}

TEST(MtaStsPolicy, ParsesTheRfcExample) {
    // RFC 8461 3.2, with LF and with CRLF line ends.
    for (const std::string eol : {"\n", "\r\n"}) {
        const std::string body = "version: STSv1" + eol + "mode: enforce" + eol + "mx: mail.example.com" + eol +
                                 "mx: *.example.net" + eol + "mx: backupmx.example.com" + eol + "max_age: 604800" + eol;
        const auto parsed = parse_policy(body);
        ASSERT_TRUE(std::holds_alternative<Policy>(parsed)) << error_of(parsed);
        const Policy& p = std::get<Policy>(parsed);
        EXPECT_EQ(p.mode, Mode::enforce);
        EXPECT_EQ(p.max_age, 604800);
        EXPECT_EQ(p.mx, (std::vector<std::string>{"mail.example.com", "*.example.net", "backupmx.example.com"}));
    }
}

TEST(MtaStsPolicy, AcceptsVariations) {
    struct Case {
        std::string name, body;
        Mode mode;
        std::int64_t max_age;
        std::size_t mx;
    };
    const std::vector<Case> cases{
        {"testing, no final newline", "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400", Mode::testing, 86400, 1},
        {"none without mx", "version: STSv1\nmode: none\nmax_age: 0\n", Mode::none, 0, 0},
        {"unknown keys ignored", "version: STSv1\nmode: enforce\nfoo: bar\nmx: a.example\nmax_age: 1\n", Mode::enforce, 1, 1},
        {"spaces around the colon", "version :STSv1\nmode:\tenforce \nmx:  A.Example. \nmax_age: 31557600\n", Mode::enforce,
         31557600, 1},
        {"blank lines", "\nversion: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 5\n\n", Mode::enforce, 5, 1},
        {"key case", "Version: STSv1\nMODE: enforce\nMx: a.example\nMax_Age: 5\n", Mode::enforce, 5, 1},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_policy(c.body);
        ASSERT_TRUE(std::holds_alternative<Policy>(parsed)) << c.name << ": got error " << error_of(parsed);
        const Policy& p = std::get<Policy>(parsed);
        EXPECT_EQ(p.mode, c.mode) << c.name;
        EXPECT_EQ(p.max_age, c.max_age) << c.name;
        EXPECT_EQ(p.mx.size(), c.mx) << c.name;
    }
    EXPECT_EQ(std::get<Policy>(parse_policy("version: STSv1\nmode: enforce\nmx: A.Example.\nmax_age: 1\n")).mx[0],
              "a.example")
        << "mx patterns are kept lower case without the trailing dot";
}

TEST(MtaStsPolicy, RefusesMalformedPolicies) {
    struct Case {
        std::string name, body, want;
    };
    const std::string ok_tail = "mx: a.example\nmax_age: 86400\n";
    const std::vector<Case> cases{
        {"empty", "", "no version"},
        {"no version", "mode: enforce\n" + ok_tail, "no version"},
        {"wrong version", "version: STSv2\nmode: enforce\n" + ok_tail, "version is not STSv1"},
        {"version case", "version: stsv1\nmode: enforce\n" + ok_tail, "version is not STSv1"},
        {"no mode", "version: STSv1\n" + ok_tail, "no mode"},
        {"bad mode", "version: STSv1\nmode: reject\n" + ok_tail, "is not enforce, testing or none"},
        {"mode case", "version: STSv1\nmode: Enforce\n" + ok_tail, "is not enforce, testing or none"},
        {"two modes", "version: STSv1\nmode: enforce\nmode: none\n" + ok_tail, "mode given twice"},
        {"no max_age", "version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age"},
        {"max_age too big", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "max_age is not"},
        {"max_age eleven digits", "version: STSv1\nmode: enforce\nmx: a\nmax_age: 00000000001\n", "max_age is not"},
        {"max_age negative", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "max_age is not"},
        {"max_age not a number", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1d\n", "max_age is not"},
        {"no mx in enforce", "version: STSv1\nmode: enforce\nmax_age: 86400\n", "no mx"},
        {"no mx in testing", "version: STSv1\nmode: testing\nmax_age: 86400\n", "no mx"},
        {"line without colon", "version: STSv1\nmode enforce\n" + ok_tail, "line 2: no \"key: value\""},
        {"bad mx", "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "is not a host name"},
        {"mx with inner wildcard", "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", "is not a host name"},
        {"mx bare wildcard", "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", "is not a host name"},
        {"mx with a space", "version: STSv1\nmode: enforce\nmx: a example\nmax_age: 1\n", "is not a host name"},
    };
    for (const auto& c : cases) {
        const std::string got = error_of(parse_policy(c.body));
        EXPECT_NE(got.find(c.want), std::string::npos) << c.name << ": got \"" << got << "\", want \"" << c.want << "\"";
    }
}

TEST(MtaStsPolicy, Limits) {
    std::string big = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n";
    big += "x: " + std::string(max_policy_size, 'y') + "\n";
    EXPECT_EQ(error_of(parse_policy(big)), "the policy is larger than 64 KiB");
    std::string many = "version: STSv1\nmode: enforce\nmax_age: 1\n";
    for (std::size_t i = 0; i < max_mx_patterns; ++i) many += "mx: mx" + std::to_string(i) + ".example\n";
    EXPECT_TRUE(std::holds_alternative<Policy>(parse_policy(many))) << "100 mx lines are allowed";
    EXPECT_NE(error_of(parse_policy(many + "mx: one-more.example\n")).find("more than 100 mx lines"), std::string::npos);
}

TEST(MtaStsPolicy, TxtRecordId) {
    struct Case {
        std::string name;
        std::vector<std::string> records;
        std::optional<std::string> want;
    };
    const std::vector<Case> cases{
        {"RFC 8461 3.1 example", {"v=STSv1; id=20160831085700Z;"}, "20160831085700Z"},
        {"no trailing delimiter", {"v=STSv1; id=abc"}, "abc"},
        {"extension fields", {"v=STSv1; foo=bar; id=1; x_y.z=w"}, "1"},
        {"other records ignored", {"v=spf1 -all", "v=STSv1; id=7"}, "7"},
        {"no record", {}, std::nullopt},
        {"only other records", {"hello"}, std::nullopt},
        {"two STS records", {"v=STSv1; id=1", "v=STSv1; id=2"}, std::nullopt},
        {"no id", {"v=STSv1; foo=bar"}, std::nullopt},
        {"two ids", {"v=STSv1; id=1; id=2"}, std::nullopt},
        {"id too long", {"v=STSv1; id=" + std::string(33, 'a')}, std::nullopt},
        {"id 32 long", {"v=STSv1; id=" + std::string(32, 'a')}, std::string(32, 'a')},
        {"id with punctuation", {"v=STSv1; id=2016-08-31"}, std::nullopt},
        {"empty id", {"v=STSv1; id="}, std::nullopt},
        {"wrong version", {"v=STSv10; id=1"}, std::nullopt},
        {"lower-case version", {"v=stsv1; id=1"}, std::nullopt},
        {"field without =", {"v=STSv1; id"}, std::nullopt},
    };
    for (const auto& c : cases) {
        const PolicyId got = policy_id(c.records);
        EXPECT_EQ(got.id, c.want) << c.name << ": got " << got.id.value_or("(none: " + got.error + ")");
        if (!got.id) {
            EXPECT_FALSE(got.error.empty()) << c.name << ": a reason is given";
        }
    }
}

TEST(MtaStsPolicy, MxPatterns) {
    struct Case {
        std::string pattern, host;
        bool want;
    };
    // RFC 8461 4.1: "*.example.com" matches "mail.example.com" but not
    // "example.com" nor "foo.bar.example.com".
    const std::vector<Case> cases{
        {"mail.example.com", "mail.example.com", true},
        {"mail.example.com", "MAIL.Example.COM.", true},
        {"mail.example.com.", "mail.example.com", true},
        {"mail.example.com", "mail2.example.com", false},
        {"mail.example.com", "example.com", false},
        {"*.example.com", "mail.example.com", true},
        {"*.example.com", "Mail.Example.Com", true},
        {"*.example.com", "example.com", false},
        {"*.example.com", "foo.bar.example.com", false},
        {"*.example.com", "mail.example.org", false},
        {"*.example.com", "mailexample.com", false},
        {"*.example.com", ".example.com", false},
        {"*.example.com", "", false},
        {"*.com", "example.com", true},
    };
    for (const auto& c : cases)
        EXPECT_EQ(mx_matches(c.pattern, c.host), c.want) << c.pattern << " vs " << c.host << ": got " << !c.want;
    Policy p;
    p.mx = {"mx1.example.com", "*.backup.example.com"};
    EXPECT_TRUE(mx_allowed(p, "mx1.example.com"));
    EXPECT_TRUE(mx_allowed(p, "b1.backup.example.com"));
    EXPECT_FALSE(mx_allowed(p, "mx2.example.com"));
}

TEST(MtaStsPolicy, ExpiryAndRefreshPlan) {
    const Seconds t0{std::chrono::seconds(1'700'000'000)};
    CachedPolicy cached;
    cached.id = "A";
    cached.policy.mode = Mode::enforce;
    cached.policy.max_age = 3600;
    cached.fetched = t0;
    EXPECT_FALSE(expired(cached, t0));
    EXPECT_FALSE(expired(cached, t0 + 3599s));
    EXPECT_TRUE(expired(cached, t0 + 3600s)) << "valid for max_age seconds after the fetch";

    struct Case {
        std::string name;
        std::optional<std::string> txt;
        bool have_cache;
        std::chrono::seconds age;
        Refresh want;
    };
    const std::vector<Case> cases{
        {"nothing cached, TXT present", "A", false, 0s, Refresh::fetch},
        {"nothing cached, no TXT", std::nullopt, false, 0s, Refresh::no_policy},
        {"same id, fresh", "A", true, 10s, Refresh::use_cached},
        {"new id", "B", true, 10s, Refresh::fetch},
        {"same id, expired", "A", true, 3600s, Refresh::fetch},
        {"no TXT, cached fresh (RFC 8461 5.1)", std::nullopt, true, 10s, Refresh::use_cached},
        {"no TXT, cached expired", std::nullopt, true, 7200s, Refresh::no_policy},
    };
    for (const auto& c : cases) {
        const Refresh got = plan(c.txt, c.have_cache ? &cached : nullptr, t0 + c.age);
        EXPECT_EQ(static_cast<int>(got), static_cast<int>(c.want)) << c.name;
    }
}

TEST(MtaStsPolicy, CacheFileRoundTrip) {
    CachedPolicy cached;
    cached.id = "20240101T000000";
    cached.body = "version: STSv1\r\nmode: testing\r\nmx: *.example.com\r\nmax_age: 86400\r\n";
    cached.policy = std::get<Policy>(parse_policy(cached.body));
    cached.fetched = Seconds{std::chrono::seconds(1'700'000'123)};
    const auto back = deserialize(serialize(cached));
    ASSERT_TRUE(std::holds_alternative<CachedPolicy>(back)) << std::get<std::string>(back);
    const CachedPolicy& got = std::get<CachedPolicy>(back);
    EXPECT_EQ(got.id, cached.id);
    EXPECT_EQ(got.body, cached.body);
    EXPECT_EQ(got.fetched, cached.fetched);
    EXPECT_EQ(got.policy.mode, Mode::testing);
    EXPECT_EQ(got.policy.mx, cached.policy.mx);

    for (const std::string bad : {"", "cartero-mta-sts 1\n", "something else\n\nversion: STSv1",
                                  "cartero-mta-sts 1\nid: bad id\nfetched: 1\n\n",
                                  "cartero-mta-sts 1\nid: a\nfetched: x\n\nversion: STSv1\nmode: none\nmax_age: 1\n",
                                  "cartero-mta-sts 1\nid: a\nfetched: 1\n\nversion: STSv1\n"})
        EXPECT_TRUE(std::holds_alternative<std::string>(deserialize(bad))) << "accepted: " << bad;
}

}  // namespace
}  // namespace cartero::delivery::mta_sts
