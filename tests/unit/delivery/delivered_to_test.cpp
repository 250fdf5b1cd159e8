// DeliveredTo: the forwarding-loop lookup (issue 8.3). Only the header block is
// read; addresses compare case-insensitively, with or without angle brackets.
#include "delivery/delivered_to.hpp"

#include <gtest/gtest.h>

namespace cartero::delivery {
namespace {

TEST(DeliveredTo, FieldIsTheBareAddress) {
    EXPECT_EQ(delivered_to_field("fwd@example.org"), "Delivered-To: fwd@example.org\r\n");
}

TEST(DeliveredTo, NamesWhatTheHeaderBlockNames) {
    const std::string message = delivered_to_field("a@one.test") + "Received: x\r\n" +
                                "delivered-to:  <B@Two.Test> \r\n" + "Subject: s\r\n\r\n" +
                                delivered_to_field("c@one.test");
    const DeliveredTo found = DeliveredTo::of(message);
    struct Case {
        const char* address;
        bool want;
    };
    for (const auto& c : std::vector<Case>{{"a@one.test", true},
                                           {"A@ONE.test", true},
                                           {"b@two.test", true},
                                           {"c@one.test", false},  // in the body
                                           {"a@one.tes", false},
                                           {"", false}})
        EXPECT_EQ(found.names(c.address), c.want) << c.address;
}

TEST(DeliveredTo, AMessageWithoutOneNamesNothing) {
    EXPECT_FALSE(DeliveredTo::of("Subject: s\r\n\r\nhi\r\n").names("a@one.test"));
    EXPECT_FALSE(DeliveredTo::of("").names(""));
}

}  // namespace
}  // namespace cartero::delivery
