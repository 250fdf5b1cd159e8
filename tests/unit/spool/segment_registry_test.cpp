#include "spool/segment_registry.hpp"

#include <gtest/gtest.h>

namespace cartero::spool {
namespace {

std::vector<std::uint64_t> delete_all_deletable(SegmentRegistry& registry) {
    std::vector<std::uint64_t> deleted;
    while (auto sequence = registry.next_deletable()) {
        deleted.push_back(*sequence);
        registry.deleted(*sequence);
    }
    return deleted;
}

TEST(SegmentRegistry, DeletesASegmentOnceAllItsMessagesAreDone) {
    SegmentRegistry registry;
    registry.open_segment(1);
    registry.add_message("M", 1, {false, false}, {1});
    registry.open_segment(2);
    EXPECT_TRUE(delete_all_deletable(registry).empty());
    registry.mark("M", 0, 2);
    EXPECT_TRUE(delete_all_deletable(registry).empty()) << "recipient 1 is still queued";
    registry.mark("M", 1, 2);
    EXPECT_EQ(delete_all_deletable(registry), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(registry.live_messages(), 0u);
}

// M lives in 1 beside a long-deferred N; M's DONE records are in 2. Deleting 2
// while 1 still exists would bring M back after a crash.
TEST(SegmentRegistry, KeepsDoneRecordsWhileAnOlderCopyExists) {
    SegmentRegistry registry;
    registry.open_segment(1);
    registry.add_message("M", 1, {false}, {1});
    registry.add_message("N", 1, {false}, {1});
    registry.open_segment(2);
    registry.mark("M", 0, 2);
    registry.open_segment(3);
    EXPECT_TRUE(delete_all_deletable(registry).empty()) << "got 2 deletable while 1 holds M";
    registry.mark("N", 0, 3);
    registry.open_segment(4);
    EXPECT_EQ(delete_all_deletable(registry), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(SegmentRegistry, RecoveredCompleteMessagesAnchorChains) {
    SegmentRegistry registry;
    for (std::uint64_t s : {1, 2, 3}) registry.open_segment(s);
    registry.add_message("LIVE", 1, {false}, {1});
    registry.add_message("DEAD", 1, {true}, {1, 3});
    registry.open_segment(4);
    EXPECT_EQ(delete_all_deletable(registry), (std::vector<std::uint64_t>{2})) << "3 holds DEAD's DONE while 1 lives";
}

}  // namespace
}  // namespace cartero::spool
