#include <gtest/gtest.h>

#include "spool_fixture.hpp"

namespace cartero::spool {
namespace {

TEST(MemorySpool, KeepsMessagesUntilEveryRecipientIsDone) {
    auto spool = make_memory_spool();
    const auto id = testing::commit_now(*spool, "data", {"a@x", "b@x"});
    spool->mark_done(id, 1);
    auto queued = spool->recover();
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].done, (std::vector<bool>{false, true}));
    EXPECT_EQ(*queued[0].data, "data");
    spool->mark_done(id, 0);
    EXPECT_TRUE(spool->recover().empty());
}

}  // namespace
}  // namespace cartero::spool
