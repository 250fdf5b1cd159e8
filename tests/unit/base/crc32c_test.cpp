#include "base/crc32c.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cartero::base {
namespace {

TEST(Crc32c, KnownValues) {
    struct Case {
        std::string input;
        std::uint32_t want;
    };
    const Case cases[] = {
        {"", 0x00000000},
        {"123456789", 0xE3069283},                          // RFC 3720 B.4 check value
        {std::string(32, '\0'), 0x8A9136AA},                // RFC 3720 B.4: 32 bytes of zeros
        {std::string(32, '\xff'), 0x62A8AB43},              // RFC 3720 B.4: 32 bytes of ones
    };
    for (const auto& c : cases) {
        const auto got = crc32c(c.input);
        EXPECT_EQ(got, c.want) << "crc32c of " << c.input.size() << " bytes: got " << std::hex << got << ", want "
                               << c.want;
    }
}

TEST(Crc32c, ChainingEqualsOneShot) {
    const std::string text = "The quick brown fox jumps over the lazy dog, twice over for length";
    for (std::size_t split = 0; split <= text.size(); ++split) {
        const auto chained = crc32c(text.substr(split), crc32c(text.substr(0, split)));
        EXPECT_EQ(chained, crc32c(text)) << "split at " << split;
    }
}

}  // namespace
}  // namespace cartero::base
