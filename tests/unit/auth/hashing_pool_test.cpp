// HashingPool: bounded queue, every job answered, including on shutdown.
#include "auth/hashing_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace cartero::auth {
namespace {

TEST(HashingPool, RefusesBeyondTheQueueLimit) {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::promise<void> started;
    std::atomic<int> ran{0};
    std::atomic<int> cancelled{0};
    {
        HashingPool pool(1, 2);
        ASSERT_TRUE(pool.try_submit([&](bool) { started.set_value(); gate.wait(); ++ran; }));
        started.get_future().wait();  // the only thread is busy now
        EXPECT_TRUE(pool.try_submit([&](bool c) { c ? ++cancelled : ++ran; }));
        EXPECT_TRUE(pool.try_submit([&](bool c) { c ? ++cancelled : ++ran; }));
        EXPECT_FALSE(pool.try_submit([&](bool) { ++ran; })) << "queue of 2 is full: the 4th job must be refused";
        release.set_value();
    }
    EXPECT_EQ(ran + cancelled, 3) << "every accepted job must be answered exactly once";
}

TEST(HashingPool, RunsJobsOnItsThreads) {
    std::atomic<int> ran{0};
    {
        HashingPool pool(2, 100);
        for (int i = 0; i < 50; ++i) {
            while (!pool.try_submit([&](bool c) { if (!c) ++ran; })) std::this_thread::yield();
        }
        while (ran < 50) std::this_thread::yield();
    }
    EXPECT_EQ(ran, 50);
}

}  // namespace
}  // namespace cartero::auth
