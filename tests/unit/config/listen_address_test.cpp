#include "config/listen_address.hpp"

#include <gtest/gtest.h>

#include "config/invalid_value.hpp"

namespace cartero::config {
namespace {

TEST(ParseListenAddress, Accepts) {
    const struct {
        std::string_view text;
        std::string_view host;
        std::uint16_t port;
    } cases[] = {
        {"127.0.0.1:25", "127.0.0.1", 25},
        {"0.0.0.0:587", "0.0.0.0", 587},
        {"[::1]:465", "::1", 465},
        {"[::]:25", "::", 25},
        {"[0:0:0:0:0:0:0:1]:25", "::1", 25},  // canonical spelling
        {"127.0.0.1:0", "127.0.0.1", 0},
        {"127.0.0.1:65535", "127.0.0.1", 65535},
    };
    for (const auto& c : cases) {
        const ListenAddress got = parse_listen_address(c.text);
        EXPECT_EQ(got.host, c.host) << c.text << ": got host " << got.host << ", want " << c.host;
        EXPECT_EQ(got.port, c.port) << c.text << ": got port " << got.port << ", want " << c.port;
    }
}

TEST(ParseListenAddress, Refuses) {
    const struct {
        std::string_view text;
        std::string_view want_in_message;
    } cases[] = {
        {"127.0.0.1", "missing \":PORT\""},
        {"127.0.0.1:", "port must be"},
        {"127.0.0.1:65536", "port must be"},
        {"127.0.0.1:-1", "port must be"},
        {"127.0.0.1:25x", "port must be"},
        {"localhost:25", "is not an IP address"},
        {"::1:25", "needs brackets"},
        {"[::1]25", "missing \"]:PORT\""},
        {"[127.0.0.1]:25", "not an IPv6 address"},
        {"", "missing \":PORT\""},
    };
    for (const auto& c : cases) {
        try {
            const ListenAddress got = parse_listen_address(c.text);
            ADD_FAILURE() << "\"" << c.text << "\": got " << got.host << " port " << got.port << ", want an error";
        } catch (const InvalidValue& error) {
            EXPECT_NE(std::string(error.what()).find(c.want_in_message), std::string::npos)
                << "\"" << c.text << "\": got \"" << error.what() << "\", want \"" << c.want_in_message << "\"";
        }
    }
}

TEST(ListenAddressesOverlap, Table) {
    const struct {
        ListenAddress a, b;
        bool want;
    } cases[] = {
        {{"127.0.0.1", 25}, {"127.0.0.1", 25}, true},
        {{"127.0.0.1", 25}, {"127.0.0.1", 587}, false},
        {{"127.0.0.1", 25}, {"127.0.0.2", 25}, false},
        {{"0.0.0.0", 25}, {"127.0.0.1", 25}, true},
        {{"127.0.0.1", 25}, {"0.0.0.0", 25}, true},
        {{"0.0.0.0", 25}, {"::1", 25}, false},
        {{"::", 25}, {"127.0.0.1", 25}, true},
        {{"127.0.0.1", 0}, {"127.0.0.1", 0}, false},  // two free ports
    };
    for (const auto& c : cases) {
        EXPECT_EQ(listen_addresses_overlap(c.a, c.b), c.want)
            << c.a.host << ":" << c.a.port << " vs " << c.b.host << ":" << c.b.port << ": got " << !c.want
            << ", want " << c.want;
    }
}

}  // namespace
}  // namespace cartero::config
