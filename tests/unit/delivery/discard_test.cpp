// DiscardCourier: every copy is delivered, named after the route's domain.
#include "delivery/discard.hpp"

#include <gtest/gtest.h>

namespace cartero::delivery {
namespace {

TEST(DiscardCourier, ReportsDeliveredAndNamesTheDomain) {
    const struct {
        std::string recipient;
        std::string want_detail;
    } cases[] = {
        {"load@bench.test", "discarded by route for bench.test"},
        {"\"a@b\"@sink.example", "discarded by route for sink.example"},  // the domain is after the last '@'
    };
    DiscardCourier courier;
    const spool::QueuedMessage message{"QID", {}, {false}, std::make_shared<const std::string>("Subject: x\r\n\r\n")};
    for (const auto& c : cases) {
        const DeliveryOutcome got = courier.deliver(message, c.recipient);
        EXPECT_EQ(got.status, DeliveryStatus::delivered) << c.recipient << ": got " << to_string(got.status);
        EXPECT_EQ(got.detail, c.want_detail) << c.recipient;
    }
}

}  // namespace
}  // namespace cartero::delivery
