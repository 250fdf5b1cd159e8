#include "spool/queue_id.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

namespace cartero::spool {
namespace {

TEST(QueueId, UniqueSortableFileSafeAcrossThreads) {
    QueueIdGenerator generator;
    std::mutex mutex;
    std::vector<std::string> all;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            std::vector<std::string> mine;
            for (int i = 0; i < 5000; ++i) mine.push_back(generator.next());
            EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end())) << "one thread's IDs must increase";
            std::lock_guard lock(mutex);
            all.insert(all.end(), mine.begin(), mine.end());
        });
    for (auto& thread : threads) thread.join();
    const std::set<std::string> unique(all.begin(), all.end());
    EXPECT_EQ(unique.size(), all.size()) << "got duplicates";
    for (const auto& id : all) {
        ASSERT_EQ(id.size(), queue_id_length) << id;
        ASSERT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
            << id;
    }
}

TEST(QueueId, AdvancePastSurvivesAClockStepBack) {
    QueueIdGenerator generator;
    const auto now = *queue_id_stamp(generator.next());
    const std::uint64_t future = now + 3'600'000'000ull;  // an hour ahead, as if the clock stepped back since
    generator.advance_past(future);
    const auto stamp = queue_id_stamp(generator.next());
    ASSERT_TRUE(stamp);
    EXPECT_GT(*stamp, future);
    EXPECT_FALSE(queue_id_stamp("short").has_value());
    EXPECT_FALSE(queue_id_stamp("0123456789ABCDEI").has_value()) << "I is not in the alphabet";
}

}  // namespace
}  // namespace cartero::spool
