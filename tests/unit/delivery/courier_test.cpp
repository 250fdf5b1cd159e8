#include "delivery/courier.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <future>

namespace cartero::delivery {
namespace {

TEST(Classify, UnknownErrorsAreTemporary) {
    struct Case {
        std::error_code error;
        DeliveryStatus want;
    };
    const Case cases[] = {
        {{ENOSPC, std::generic_category()}, DeliveryStatus::temporary},   // disk full: stays queued
        {{EDQUOT, std::generic_category()}, DeliveryStatus::temporary},
        {{EACCES, std::generic_category()}, DeliveryStatus::temporary},   // permissions: operator fixes them
        {{ELOOP, std::generic_category()}, DeliveryStatus::temporary},    // refused symlink
        {{ENAMETOOLONG, std::generic_category()}, DeliveryStatus::permanent},
        {{12345, std::generic_category()}, DeliveryStatus::temporary},
        {std::make_error_code(std::future_errc::broken_promise), DeliveryStatus::temporary},
    };
    for (const auto& c : cases) {
        const auto got = classify(c.error, "ctx");
        EXPECT_EQ(got.status, c.want) << c.error.message() << ": got " << to_string(got.status) << ", want "
                                      << to_string(c.want);
        EXPECT_EQ(got.detail, "ctx: " + c.error.message());
    }
}

}  // namespace
}  // namespace cartero::delivery
