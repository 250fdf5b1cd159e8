// changed_keys and keep_restart_values against the schema's Reload marks.
#include "config/changes.hpp"

#include <gtest/gtest.h>

namespace cartero::config {
namespace {

std::string changed(const Config& running, const Config& fresh) { return key_list(changed_keys(running, fresh)); }

Config with_listener() {
    Config config;
    config.listeners.push_back({ListenerRole::mx, "127.0.0.1", 2525});
    return config;
}

TEST(ChangedKeys, NoneForEqualConfigs) {
    EXPECT_EQ(changed(with_listener(), with_listener()), "");
}

TEST(ChangedKeys, NamesGlobalKeysInTableOrder) {
    Config fresh = with_listener();
    fresh.limits.auth_queue = 5;
    fresh.data_dir = "/srv/mail";
    fresh.delivery.maildir = "{data_dir}/boxes/{domain}/{localpart}";
    EXPECT_EQ(changed(with_listener(), fresh), "data_dir, delivery.maildir, limits.auth_queue");
}

TEST(ChangedKeys, NamesTheEntryKeyThatDiffers) {
    Config fresh = with_listener();
    fresh.listeners.front().port = 25;
    EXPECT_EQ(changed(with_listener(), fresh), "listener.address");
    fresh = with_listener();
    fresh.listeners.front().role = ListenerRole::submission;
    EXPECT_EQ(changed(with_listener(), fresh), "listener.role");
}

TEST(ChangedKeys, AnEntryAddedOrRemovedChangesItsKeys) {
    Config fresh = with_listener();
    fresh.routes.push_back({"bench.test", Transport::discard});
    EXPECT_EQ(changed(with_listener(), fresh), "route.domain, route.transport");
    EXPECT_EQ(changed(fresh, with_listener()), "route.domain, route.transport");
    fresh = with_listener();
    fresh.listeners.push_back({ListenerRole::submission, "::1", 587});
    EXPECT_EQ(changed(with_listener(), fresh),
              "listener.role, listener.address, listener.proxy_protocol, listener.proxy_from");
}

TEST(KeepRestartValues, KeepsRestartKeysAndTakesTheRest) {
    Config running = with_listener();
    running.data_dir = "/srv/old";
    Config fresh;
    fresh.data_dir = "/srv/new";
    fresh.io_threads = 3;
    fresh.listeners.push_back({ListenerRole::submission, "127.0.0.1", 587});
    fresh.listeners.push_back({ListenerRole::mx, "::1", 25});
    fresh.local_domains = {"example.org"};
    fresh.limits.message_size = 4096;
    fresh.routes.push_back({"bench.test", Transport::discard});

    const Config applied = keep_restart_values(running, fresh);
    EXPECT_EQ(applied.data_dir, "/srv/old");
    EXPECT_EQ(applied.io_threads, running.io_threads);
    ASSERT_EQ(applied.listeners.size(), 1u);
    EXPECT_EQ(applied.listeners.front().port, 2525);
    EXPECT_EQ(applied.listeners.front().role, ListenerRole::mx);
    EXPECT_EQ(applied.local_domains, fresh.local_domains);
    EXPECT_EQ(applied.limits.message_size, 4096u);
    ASSERT_EQ(applied.routes.size(), 1u);
    // What is left to differ from the running config is only what reloads.
    for (const KeySpec* spec : changed_keys(running, applied))
        EXPECT_EQ(spec->reload, Reload::live) << spec->key;
}

}  // namespace
}  // namespace cartero::config
