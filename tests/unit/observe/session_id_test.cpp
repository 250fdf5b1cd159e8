#include "observe/session_id.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

namespace cartero::observe {
namespace {

TEST(SessionId, ShapeIsSAndEightHexDigits) {
    const std::regex want("s[0-9a-f]{8}");
    const std::string got = session_id();
    EXPECT_TRUE(std::regex_match(got, want)) << "got " << got << ", want s + 8 hex digits";
}

TEST(SessionId, UniqueAcrossThreads) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 10000;
    std::vector<std::vector<std::string>> ids(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&ids, t] {
            for (int i = 0; i < kPerThread; ++i) {
                ids[t].push_back(session_id());
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    std::set<std::string> seen;
    for (const auto& list : ids) {
        seen.insert(list.begin(), list.end());
    }
    EXPECT_EQ(seen.size(), std::size_t{kThreads * kPerThread}) << "got duplicate session IDs";
}

}  // namespace
}  // namespace cartero::observe
