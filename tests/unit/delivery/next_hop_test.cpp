#include "delivery/remote/next_hop.hpp"

#include <gtest/gtest.h>

#include "dns/zone_resolver.hpp"

namespace cartero::delivery {
namespace {

// Picks the first of equals: tests see the order the preferences give.
const dns::RandomBelow first = [](std::size_t) { return std::size_t{0}; };

config::Config with_relays() {
    config::Config config;
    config.relays = {{"gmail", "smtp.gmail.test", 587, config::RelayTls::starttls, "me", "/x"},
                     {"tunnel", "127.0.0.1", 2525, config::RelayTls::none, "", ""}};
    config.destinations = {{"bank.test", "", config::TlsPolicy::must}, {"lab.test", "tunnel", std::nullopt}};
    return config;
}

TEST(NextHop, FollowsDestinationsThenTheDefaultRelayThenMx) {
    config::Config config = with_relays();
    const struct {
        std::string relay_default;
        std::string domain;
        std::string want_name;
        TlsMode want_tls;
        std::uint16_t want_port;
    } cases[] = {
        {"", "example.test", "mx:example.test", TlsMode::opportunistic, 25},
        {"", "bank.test", "mx:bank.test", TlsMode::required, 25},
        {"", "lab.test", "relay:tunnel", TlsMode::none, 2525},
        {"gmail", "example.test", "relay:gmail", TlsMode::required, 587},
        {"gmail", "lab.test", "relay:tunnel", TlsMode::none, 2525},
        {"gmail", "bank.test", "mx:bank.test", TlsMode::required, 25},  // its own rules win
    };
    for (const auto& c : cases) {
        config.delivery.relay = c.relay_default;
        const NextHop hop = next_hop(config, c.domain);
        EXPECT_EQ(hop.name, c.want_name) << c.domain << " with delivery.relay=" << c.relay_default;
        EXPECT_EQ(hop.tls, c.want_tls) << c.domain;
        EXPECT_EQ(hop.port, c.want_port) << c.domain;
    }
}

std::vector<std::string> shown(const Peers& peers) {
    std::vector<std::string> out;
    for (const auto& peer : peers.peers) out.push_back(display(peer));
    return out;
}

TEST(PeersFor, MxHostsByPreferenceIpv6First) {
    dns::ZoneResolver zone;
    zone.add_mx("example.test", 20, "backup.example.test").add_mx("example.test", 10, "mx.example.test");
    zone.add_address("mx.example.test", "127.0.0.2").add_address("mx.example.test", "::1");
    zone.add_address("backup.example.test", "127.0.0.3");
    const Peers peers = peers_for(zone, next_hop(config::Config{}, "example.test"), "example.test", first);
    EXPECT_FALSE(peers.failure);
    EXPECT_EQ(shown(peers), (std::vector<std::string>{"mx.example.test[::1]:25", "mx.example.test[127.0.0.2]:25",
                                                      "backup.example.test[127.0.0.3]:25"}));
}

TEST(PeersFor, NoMxFallsBackToTheDomainsOwnAddress) {
    dns::ZoneResolver zone;
    zone.add_address("plain.test", "127.0.0.4");
    const Peers peers = peers_for(zone, next_hop(config::Config{}, "plain.test"), "plain.test", first);
    EXPECT_EQ(shown(peers), (std::vector<std::string>{"plain.test[127.0.0.4]:25"}));
}

TEST(PeersFor, FailuresApplyToEveryRecipient) {
    dns::ZoneResolver zone;
    zone.add_mx("null.test", 0, ".");
    zone.fail("broken.test");
    zone.add_mx("dangling.test", 10, "nowhere.dangling.test");
    const struct {
        std::string domain;
        DeliveryStatus want_status;
        std::string want_enhanced;
    } cases[] = {
        {"null.test", DeliveryStatus::permanent, "5.1.10"},
        {"missing.test", DeliveryStatus::permanent, "5.1.2"},
        {"broken.test", DeliveryStatus::temporary, "4.4.3"},
        {"dangling.test", DeliveryStatus::permanent, "5.4.4"},
    };
    for (const auto& c : cases) {
        const Peers peers = peers_for(zone, next_hop(config::Config{}, c.domain), c.domain, first);
        ASSERT_TRUE(peers.failure) << c.domain;
        EXPECT_TRUE(peers.peers.empty()) << c.domain;
        EXPECT_EQ(peers.failure->status, c.want_status) << c.domain << ": " << peers.failure->detail;
        EXPECT_EQ(peers.failure->reply.enhanced, c.want_enhanced) << c.domain << ": " << peers.failure->detail;
        EXPECT_FALSE(peers.failure->detail.empty()) << c.domain;
    }
}

TEST(PeersFor, RelayIsResolvedWithoutMxAndItsFailuresAreTemporary) {
    config::Config config = with_relays();
    config.delivery.relay = "gmail";
    dns::ZoneResolver zone;
    zone.add_mx("example.test", 10, "mx.example.test");  // not asked: the relay takes everything
    Peers peers = peers_for(zone, next_hop(config, "example.test"), "example.test", first);
    ASSERT_TRUE(peers.failure);
    EXPECT_EQ(peers.failure->status, DeliveryStatus::temporary) << "a relay typo must not bounce mail";
    zone.add_address("smtp.gmail.test", "127.0.0.5");
    peers = peers_for(zone, next_hop(config, "example.test"), "example.test", first);
    EXPECT_EQ(shown(peers), (std::vector<std::string>{"smtp.gmail.test[127.0.0.5]:587"}));
}

}  // namespace
}  // namespace cartero::delivery
