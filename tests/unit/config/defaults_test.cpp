#include <gtest/gtest.h>

#include "config/config.hpp"

namespace cartero::config {
namespace {

TEST(EmbeddedDefault, Values) {
    const Config got = embedded_default("/home/ana/.cartero");
    EXPECT_TRUE(got.source.empty());
    EXPECT_EQ(got.hostname, "localhost");
    EXPECT_EQ(got.data_dir, "/home/ana/.cartero");
    EXPECT_EQ(got.local_domains, std::vector<std::string>{"localhost"});
    EXPECT_TRUE(got.trusted_networks.empty()) << "the default must not relay for anyone without AUTH";
    EXPECT_EQ(got.tls.cert, "/home/ana/.cartero/tls/cert.pem");
    EXPECT_EQ(got.tls.key, "/home/ana/.cartero/tls/key.pem");
    EXPECT_EQ(got.log_level, "info");
    EXPECT_TRUE(got.log_file.empty());

    const struct {
        ListenerRole role;
        std::uint16_t port;
    } want_listeners[] = {
        {ListenerRole::mx, 2525}, {ListenerRole::submission, 2587}, {ListenerRole::submissions, 2465}};
    ASSERT_EQ(got.listeners.size(), std::size(want_listeners));
    for (std::size_t i = 0; i < got.listeners.size(); ++i) {
        EXPECT_EQ(got.listeners[i].role, want_listeners[i].role) << "listener " << i;
        EXPECT_EQ(got.listeners[i].host, "127.0.0.1") << "listener " << i << ": default must stay on loopback";
        EXPECT_EQ(got.listeners[i].port, want_listeners[i].port) << "listener " << i;
    }
}

TEST(EmbeddedDefault, RelativeHomeBecomesAbsolute) {
    const Config got = embedded_default("var");
    EXPECT_TRUE(got.data_dir.is_absolute()) << "got " << got.data_dir;
    EXPECT_EQ(got.data_dir, (std::filesystem::current_path() / "var").lexically_normal());
}

TEST(ListenerRoleNames, RoundTrip) {
    for (ListenerRole role : {ListenerRole::mx, ListenerRole::submission, ListenerRole::submissions}) {
        EXPECT_EQ(listener_role_from_string(to_string(role)), role) << to_string(role);
    }
    EXPECT_EQ(listener_role_from_string("MX"), std::nullopt);
    EXPECT_EQ(listener_role_from_string("smtp"), std::nullopt);
}

TEST(TransportNames, RoundTrip) {
    const auto names = transport_names();
    ASSERT_FALSE(names.empty());
    for (const std::string_view name : names) {
        const auto transport = transport_from_string(name);
        ASSERT_TRUE(transport) << name;
        EXPECT_EQ(to_string(*transport), name);
    }
    EXPECT_EQ(transport_from_string("DISCARD"), std::nullopt);
    EXPECT_EQ(transport_from_string("lmtp"), std::nullopt) << "not a transport until issue 4 adds it";
}

}  // namespace
}  // namespace cartero::config
