// MTA-STS caching (RFC 8461 3.3, 5.1): the PolicyCache with a test fetcher
// instead of HTTPS, the time as an argument, and a real directory for the file
// cache; policy_for with the zone resolver's TXT records. The HTTPS fetch
// itself is tested in tests/integration/test_mta_sts.py.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "delivery/remote/mta_sts.hpp"
#include "dns/zone_resolver.hpp"

namespace cartero::delivery::mta_sts {
namespace {

using namespace std::chrono_literals;

const Seconds t0{std::chrono::seconds(1'700'000'000)};

std::string policy_text(std::string_view mode, std::string_view mx, int max_age) {
    return "version: STSv1\nmode: " + std::string(mode) + "\nmx: " + std::string(mx) + "\nmax_age: " +
           std::to_string(max_age) + "\n";
}

// A fetcher serving `body` (or failing when it is empty) and counting calls.
struct FakeServer {
    std::string body;
    int fetches = 0;
    Fetcher fetcher() {
        return [this](std::string_view) {
            ++fetches;
            if (body.empty()) return FetchResult{std::nullopt, "connection refused (test)"};
            return FetchResult{body, {}};
        };
    }
};

class MtaStsCache : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("cartero-mta-sts-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(MtaStsCache, FetchesOnceThenUsesTheCacheUntilTheIdChanges) {
    FakeServer server{policy_text("enforce", "mx.example.com", 3600)};
    PolicyCache cache(dir_, server.fetcher());
    Found found = cache.lookup("Example.COM", "A", t0);
    ASSERT_TRUE(found.policy) << found.note;
    EXPECT_EQ(found.policy->mode, Mode::enforce);
    EXPECT_EQ(found.note, "fetched");
    EXPECT_EQ(server.fetches, 1);
    EXPECT_TRUE(std::filesystem::exists(dir_ / "example.com")) << "the file cache is named after the domain";

    found = cache.lookup("example.com", "A", t0 + 100s);
    EXPECT_EQ(found.note, "cached");
    EXPECT_EQ(server.fetches, 1) << "same id, unexpired: no fetch";

    server.body = policy_text("testing", "mx.example.com", 3600);
    found = cache.lookup("example.com", "B", t0 + 200s);
    EXPECT_EQ(server.fetches, 2) << "a new id is fetched";
    EXPECT_EQ(found.policy->mode, Mode::testing);
    EXPECT_EQ(found.id, "B");

    found = cache.lookup("example.com", "B", t0 + 200s + 3600s);
    EXPECT_EQ(server.fetches, 3) << "an expired policy is fetched again even with the same id";
}

TEST_F(MtaStsCache, FailedRefreshKeepsAnUnexpiredPolicy) {
    FakeServer server{policy_text("enforce", "mx.example.com", 3600)};
    PolicyCache cache(dir_, server.fetcher());
    ASSERT_TRUE(cache.lookup("example.com", "A", t0).policy);
    server.body.clear();  // the policy host is down
    Found found = cache.lookup("example.com", "B", t0 + 60s);
    ASSERT_TRUE(found.policy) << "RFC 8461 5.1: the cached policy stays in force";
    EXPECT_EQ(found.id, "A");
    EXPECT_NE(found.note.find("connection refused (test)"), std::string::npos) << found.note;

    found = cache.lookup("example.com", "B", t0 + 3600s);
    EXPECT_FALSE(found.policy) << "expired and not refreshed: no policy";
    EXPECT_NE(found.note.find("fetching the policy failed"), std::string::npos) << found.note;
}

TEST_F(MtaStsCache, NoTxtRecordKeepsTheCachedPolicyUntilItExpires) {
    FakeServer server{policy_text("enforce", "mx.example.com", 600)};
    PolicyCache cache(dir_, server.fetcher());
    ASSERT_TRUE(cache.lookup("example.com", "A", t0).policy);
    EXPECT_TRUE(cache.lookup("example.com", std::nullopt, t0 + 599s).policy);
    EXPECT_FALSE(cache.lookup("example.com", std::nullopt, t0 + 600s).policy);
    EXPECT_EQ(server.fetches, 1) << "no TXT record: nothing fetched";
}

TEST_F(MtaStsCache, InvalidPolicyIsNotCached) {
    FakeServer server{"version: STSv1\nmode: enforce\nmax_age: 60\n"};  // no mx
    PolicyCache cache(dir_, server.fetcher());
    const Found found = cache.lookup("example.com", "A", t0);
    EXPECT_FALSE(found.policy);
    EXPECT_NE(found.note.find("invalid policy: no mx"), std::string::npos) << found.note;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "example.com"));
}

TEST_F(MtaStsCache, FileCacheSurvivesARestart) {
    {
        FakeServer server{policy_text("enforce", "*.example.com", 86400)};
        PolicyCache cache(dir_, server.fetcher());
        ASSERT_TRUE(cache.lookup("example.com", "A", t0).policy);
    }
    FakeServer down;  // a new process; the policy host is down
    PolicyCache restarted(dir_, down.fetcher());
    Found found = restarted.lookup("example.com", "A", t0 + 3600s);
    ASSERT_TRUE(found.policy) << found.note;
    EXPECT_EQ(found.policy->mode, Mode::enforce);
    EXPECT_EQ(found.note, "cached");
    EXPECT_EQ(down.fetches, 0);
    found = restarted.lookup("example.com", "B", t0 + 3600s);
    EXPECT_TRUE(found.policy) << "a failed refresh after the restart still uses the file's policy";

    // A damaged file is ignored, not trusted.
    std::ofstream(dir_ / "other.example", std::ios::trunc) << "cartero-mta-sts 1\nid: A\nfetched: x\n\n";
    EXPECT_FALSE(PolicyCache(dir_, down.fetcher()).lookup("other.example", std::nullopt, t0).policy);
}

TEST_F(MtaStsCache, PolicyForReadsTheTxtRecord) {
    dns::ZoneResolver zone;
    zone.add_txt("_mta-sts.example.com", "v=STSv1; id=20240101");
    zone.add_txt("_mta-sts.example.com", "v=spf1 -all");
    zone.add_txt("_mta-sts.two.example", "v=STSv1; id=1");
    zone.add_txt("_mta-sts.two.example", "v=STSv1; id=2");
    FakeServer server{policy_text("enforce", "mx.example.com", 3600)};
    PolicyCache cache(dir_, server.fetcher());
    Found found = policy_for(zone, cache, "example.com", t0);
    ASSERT_TRUE(found.policy) << found.note;
    EXPECT_EQ(found.id, "20240101");
    EXPECT_FALSE(policy_for(zone, cache, "two.example", t0).policy) << "two STS records: no MTA-STS (RFC 8461 3.1)";
    EXPECT_FALSE(policy_for(zone, cache, "none.example", t0).policy);
    EXPECT_EQ(server.fetches, 1);

    zone.fail("_mta-sts.example.com");  // SERVFAIL: the cached policy is used
    found = policy_for(zone, cache, "example.com", t0 + 10s);
    ASSERT_TRUE(found.policy);
    EXPECT_NE(found.note.find("TXT lookup failed"), std::string::npos) << found.note;
}

}  // namespace
}  // namespace cartero::delivery::mta_sts
