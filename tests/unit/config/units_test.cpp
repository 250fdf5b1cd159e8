#include "config/units.hpp"

#include <gtest/gtest.h>

namespace cartero::config {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEveryUnit) {
    const struct {
        std::string_view text;
        milliseconds want;
    } cases[] = {
        {"500ms", 500ms}, {"30s", 30s}, {"5m", 5min}, {"2h", 2h}, {"5d", 120h}, {"0s", 0ms}, {"10 s", 10s},
    };
    for (const auto& c : cases) {
        const auto got = parse_duration(c.text);
        ASSERT_TRUE(got.has_value()) << c.text << ": got nothing, want " << c.want.count() << "ms";
        EXPECT_EQ(*got, c.want) << c.text << ": got " << got->count() << "ms, want " << c.want.count() << "ms";
    }
}

TEST(ParseDuration, RefusesWhatIsNotADuration) {
    for (std::string_view text : {"", "30", "s", "-5s", "+5s", "5 minutes", "5M", "1.5h", " 5s", "5s ", "5  s",
                                  "1h30m", "99999999999999999999d", "9999999999999999d"}) {
        const auto got = parse_duration(text);
        EXPECT_FALSE(got.has_value()) << "\"" << text << "\": got " << got.value_or(0ms).count()
                                      << "ms, want no value";
    }
}

TEST(ParseSize, AcceptsEveryUnit) {
    const struct {
        std::string_view text;
        std::int64_t want;
    } cases[] = {
        {"7B", 7},           {"512KiB", 512 * 1024},          {"10MiB", 10 * 1024 * 1024},
        {"1GiB", 1 << 30},   {"10KB", 10000},                 {"10MB", 10000000},
        {"2GB", 2000000000}, {"10 MiB", 10 * 1024 * 1024},
    };
    for (const auto& c : cases) {
        const auto got = parse_size(c.text);
        ASSERT_TRUE(got.has_value()) << c.text << ": got nothing, want " << c.want;
        EXPECT_EQ(*got, c.want) << c.text << ": got " << *got << ", want " << c.want;
    }
}

TEST(ParseSize, RefusesWhatIsNotASize) {
    for (std::string_view text : {"", "10", "10mb", "10M", "10 Mb", "1.5MB", "-1MB", "MB", "10MiBs",
                                  "99999999999GiB"}) {
        const auto got = parse_size(text);
        EXPECT_FALSE(got.has_value()) << "\"" << text << "\": got " << got.value_or(0) << ", want no value";
    }
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
    const struct {
        milliseconds duration;
        std::string_view want;
    } cases[] = {
        {0ms, "0s"}, {1500ms, "1500ms"}, {1s, "1s"}, {90s, "90s"}, {5min, "5m"}, {3600s, "1h"}, {120h, "5d"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(format_duration(c.duration), c.want) << c.duration.count() << "ms";
        EXPECT_EQ(parse_duration(format_duration(c.duration)), c.duration) << "round trip of " << c.want;
    }
}

TEST(FormatSize, PrefersBinaryThenDecimalUnits) {
    const struct {
        std::int64_t octets;
        std::string_view want;
    } cases[] = {
        {0, "0B"}, {7, "7B"}, {1024, "1KiB"}, {10 * 1024 * 1024, "10MiB"}, {10000000, "10MB"}, {1000, "1KB"},
        {1500, "1500B"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(format_size(c.octets), c.want) << c.octets;
        EXPECT_EQ(parse_size(format_size(c.octets)), c.octets) << "round trip of " << c.want;
    }
}

}  // namespace
}  // namespace cartero::config
