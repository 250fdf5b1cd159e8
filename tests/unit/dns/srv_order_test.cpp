// RFC 2782 ordering of SRV targets: priority first, weighted choice inside a
// priority, a lone "." meaning "not offered" (RFC 6186 3.4).
#include "dns/srv_order.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cartero::dns {
namespace {

// A RandomBelow that answers from a script, then 0.
RandomBelow scripted(std::vector<std::size_t> draws) {
    auto shared = std::make_shared<std::vector<std::size_t>>(std::move(draws));
    auto next = std::make_shared<std::size_t>(0);
    return [shared, next](std::size_t bound) {
        const std::size_t value = *next < shared->size() ? (*shared)[(*next)++] : 0;
        EXPECT_LT(value, bound);
        return value;
    };
}

std::vector<std::string> targets_of(const SrvTargets& t) {
    std::vector<std::string> out;
    for (const auto& r : t.targets) out.push_back(r.target + ":" + std::to_string(r.port));
    return out;
}

TEST(OrderSrv, PriorityFirstThenWeight) {
    const std::vector<SrvRecord> records = {
        {10, 0, 587, "backup.example.com"},
        {0, 60, 465, "a.example.com"},
        {0, 40, 465, "b.example.com"},
    };
    // Priority 0: weights 60 (a) and 40 (b), sum 100. A draw of 70 passes a's
    // running sum 60 and lands on b (running 100); then a is alone.
    EXPECT_EQ(targets_of(order_srv(records, scripted({70, 0}))),
              (std::vector<std::string>{"b.example.com:465", "a.example.com:465", "backup.example.com:587"}));
    // A draw of 60 stops at a (running sum 60 >= 60).
    EXPECT_EQ(targets_of(order_srv(records, scripted({60, 0}))),
              (std::vector<std::string>{"a.example.com:465", "b.example.com:465", "backup.example.com:587"}));
}

TEST(OrderSrv, WeightZeroIsChosenOnlyOnADrawOfZeroOrWhenAlone) {
    const std::vector<SrvRecord> records = {{0, 5, 465, "heavy.example.com"}, {0, 0, 465, "zero.example.com"}};
    EXPECT_EQ(targets_of(order_srv(records, scripted({0}))),
              (std::vector<std::string>{"zero.example.com:465", "heavy.example.com:465"}));
    EXPECT_EQ(targets_of(order_srv(records, scripted({1}))),
              (std::vector<std::string>{"heavy.example.com:465", "zero.example.com:465"}));
}

TEST(OrderSrv, WeightsSpreadTheFirstChoiceInProportion) {
    const std::vector<SrvRecord> records = {{0, 3, 465, "three"}, {0, 1, 465, "one"}};
    std::map<std::string, int> first;
    // Every draw in [0, 4]: 0..3 land on "three" (running sum 3 >= draw), 4 on "one".
    for (std::size_t draw = 0; draw <= 4; ++draw) ++first[order_srv(records, scripted({draw})).targets[0].target];
    EXPECT_EQ(first["three"], 4);
    EXPECT_EQ(first["one"], 1);
}

TEST(OrderSrv, LoneDotMeansNotOffered) {
    const auto lone = order_srv({{0, 0, 0, "."}}, scripted({}));
    EXPECT_TRUE(lone.not_offered);
    EXPECT_TRUE(lone.targets.empty());
    const auto mixed = order_srv({{0, 0, 0, "."}, {5, 1, 587, "mail.example.com"}}, scripted({}));
    EXPECT_FALSE(mixed.not_offered);
    EXPECT_EQ(targets_of(mixed), (std::vector<std::string>{"mail.example.com:587"}));
    EXPECT_TRUE(order_srv({}, scripted({})).targets.empty());
}

}  // namespace
}  // namespace cartero::dns
