#include "config/network.hpp"

#include <gtest/gtest.h>

#include "config/invalid_value.hpp"

namespace cartero::config {
namespace {

TEST(NetworkSet, Contains) {
    using namespace std::string_literals;
    const struct {
        std::vector<std::string> networks;
        std::string ip;
        bool want;
    } cases[] = {
        {{"127.0.0.0/8"}, "127.0.0.1", true},
        {{"127.0.0.0/8"}, "127.255.255.255", true},
        {{"127.0.0.0/8"}, "128.0.0.1", false},
        {{"192.0.2.0/24"}, "192.0.2.77", true},
        {{"192.0.2.0/24"}, "192.0.3.1", false},
        {{"192.0.2.128/25"}, "192.0.2.127", false},
        {{"192.0.2.128/25"}, "192.0.2.128", true},
        {{"0.0.0.0/0"}, "203.0.113.9", true},
        {{"0.0.0.0/0"}, "::1", false},  // an IPv4 range never covers native IPv6
        {{"192.0.2.1"}, "192.0.2.1", true},  // bare address = /32
        {{"192.0.2.1"}, "192.0.2.2", false},
        {{"::1/128"}, "::1", true},
        {{"::1"}, "::2", false},
        {{"2001:db8::/32"}, "2001:db8:ffff::1", true},
        {{"2001:db8::/32"}, "2001:db9::1", false},
        {{"::/0"}, "2001:db8::1", true},
        // IPv4-mapped IPv6, as a dual-stack socket reports IPv4 peers.
        {{"127.0.0.0/8"}, "::ffff:127.0.0.1", true},
        {{"127.0.0.0/8"}, "::FFFF:127.0.0.1", true},
        {{"10.0.0.0/8"}, "::ffff:127.0.0.1", false},
        {{"::ffff:10.0.0.0/104"}, "10.1.2.3", true},
        {{"10.0.0.0/8", "::1/128"}, "::1", true},
        {{}, "127.0.0.1", false},
        // Untrusted peer text: anything that is not exactly an address is outside.
        {{"0.0.0.0/0", "::/0"}, "", false},
        {{"0.0.0.0/0", "::/0"}, "localhost", false},
        {{"0.0.0.0/0", "::/0"}, "127.0.0.1\0garbage"s, false},
        {{"0.0.0.0/0", "::/0"}, "127.0.0.1 ", false},
        {{"0.0.0.0/0", "::/0"}, "fe80::1%eth0", false},
        {{"0.0.0.0/0", "::/0"}, "[::1]", false},
        {{"0.0.0.0/0", "::/0"}, "127.1", false},
    };
    for (const auto& c : cases) {
        const NetworkSet set = NetworkSet::parse(c.networks);
        EXPECT_EQ(set.contains(c.ip), c.want)
            << "contains(\"" << c.ip << "\") with " << c.networks.size() << " networks starting "
            << (c.networks.empty() ? "-" : c.networks.front()) << ": got " << !c.want << ", want " << c.want;
    }
}

TEST(NetworkSet, ParseRefusesBadEntries) {
    const struct {
        std::string entry;
        std::string want_in_message;
    } cases[] = {
        {"10.0.0.0/33", "prefix must be a number from 0 to 32"},
        {"::/129", "prefix must be a number from 0 to 128"},
        {"10.0.0.0/", "prefix"},
        {"10.0.0.0/-1", "prefix"},
        {"10.0.0.0/8x", "prefix"},
        {"10.0.0/8", "not an IP address"},
        {"example.org/24", "not an IP address"},
        {"", "not an IP address"},
        {"10.1.2.3/8", "bits set after the prefix"},
        {"2001:db8::1/32", "bits set after the prefix"},
    };
    for (const auto& c : cases) {
        try {
            NetworkSet::parse({"127.0.0.0/8", c.entry});
            ADD_FAILURE() << "\"" << c.entry << "\": got no error, want one containing \"" << c.want_in_message << "\"";
        } catch (const InvalidValue& error) {
            EXPECT_NE(std::string(error.what()).find(c.want_in_message), std::string::npos)
                << "\"" << c.entry << "\": got \"" << error.what() << "\", want \"" << c.want_in_message << "\"";
            EXPECT_EQ(error.element(), 1u) << "\"" << c.entry << "\": wrong element index";
        }
    }
}

TEST(NetworkSet, HostBitsErrorSuggestsTheNetwork) {
    try {
        NetworkSet::parse({"10.1.2.3/8"});
        FAIL() << "got no error";
    } catch (const InvalidValue& error) {
        EXPECT_EQ(error.fix(), "did you mean \"10.0.0.0/8\"?");
    }
}

TEST(ClientNetwork, MasksEachFamilyToItsPrefix) {
    struct Case { std::string ip; unsigned v4; unsigned v6; std::string want; };
    const Case cases[] = {
        {"192.0.2.77", 32, 64, "192.0.2.77/32"},
        {"192.0.2.77", 24, 64, "192.0.2.0/24"},
        {"::ffff:192.0.2.77", 24, 64, "192.0.2.0/24"},  // a dual-stack socket's IPv4 peer
        {"::ffff:192.0.2.77", 32, 64, "192.0.2.77/32"},
        {"2001:db8:1:2:aaaa::1", 32, 64, "2001:db8:1:2::/64"},
        {"2001:db8:1:2:ffff:ffff:ffff:ffff", 32, 64, "2001:db8:1:2::/64"},  // same /64, same network
        {"2001:db8:1:3::1", 32, 64, "2001:db8:1:3::/64"},
        {"2001:db8:1:2:aaaa::1", 32, 48, "2001:db8:1::/48"},
        {"2001:db8:1:2:aaaa::1", 32, 128, "2001:db8:1:2:aaaa::1/128"},
        {"::1", 32, 64, "::/64"},
        {"not an address", 32, 64, "not an address"},
        {"", 32, 64, ""},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(client_network(c.ip, c.v4, c.v6), c.want) << c.ip << " /" << c.v4 << " /" << c.v6;
    }
}

}  // namespace
}  // namespace cartero::config
