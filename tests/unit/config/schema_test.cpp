// The schema table against itself and against config.hpp's defaults.
#include "config/schema.hpp"

#include <gtest/gtest.h>

#include <set>

namespace cartero::config {
namespace {

TEST(Schema, KeysAreUniqueAndDocumented) {
    std::set<std::string_view> seen;
    for (const KeySpec& spec : schema()) {
        EXPECT_TRUE(seen.insert(spec.key).second) << spec.key << ": listed twice";
        EXPECT_FALSE(spec.doc.empty()) << spec.key << ": no doc line";
        EXPECT_EQ(find_key(spec.key), &spec) << spec.key;
    }
    EXPECT_EQ(find_key("no.such.key"), nullptr);
}

TEST(Schema, EntryKeysLiveInTheirArrayOfTables) {
    const struct {
        std::string_view prefix;
        Scope scope;
    } tables[] = {{"listener.", Scope::listener}, {"route.", Scope::route}};
    for (const auto& table : tables) {
        for (const KeySpec& spec : schema()) {
            EXPECT_EQ(spec.scope == table.scope, spec.key.starts_with(table.prefix)) << spec.key;
        }
    }
}

bool is_numeric(Kind kind) { return kind == Kind::count || kind == Kind::size || kind == Kind::duration; }

std::int64_t as_number(const Value& value) {
    if (const auto* duration = std::get_if<std::chrono::milliseconds>(&value)) {
        return duration->count();
    }
    return std::get<std::int64_t>(value);
}

TEST(Schema, DefaultsAreWithinBounds) {
    for (const KeySpec& spec : schema()) {
        if (!is_numeric(spec.kind)) {
            continue;
        }
        EXPECT_LE(spec.bounds.min, spec.bounds.max) << spec.key;
        if (spec.scope != Scope::global) {
            continue;  // entry keys ([[relay]] port) have no default
        }
        const std::int64_t got = as_number(spec.load(Config{}));
        EXPECT_GE(got, spec.bounds.min) << spec.key << ": default " << default_text(spec) << " below minimum";
        EXPECT_LE(got, spec.bounds.max) << spec.key << ": default " << default_text(spec) << " above maximum";
    }
}

// Storing the default back must work and change nothing: this proves each
// row's Kind matches the C++ type of the field it stores into.
TEST(Schema, DefaultsSurviveStoreAndLoad) {
    for (const KeySpec& spec : schema()) {
        if (spec.scope != Scope::global) {
            continue;
        }
        Config config;
        const Value before = spec.load(config);
        ASSERT_NO_THROW(spec.store(config, before)) << spec.key;
        EXPECT_EQ(default_text(spec), format_value(spec.kind, spec.load(config))) << spec.key;
    }
}

TEST(Schema, ListenerKeysStoreIntoTheLastListener) {
    Config config;
    config.listeners.emplace_back();
    find_key("listener.role")->store(config, std::string("submission"));
    find_key("listener.address")->store(config, std::string("[::1]:587"));
    EXPECT_EQ(config.listeners.back().role, ListenerRole::submission);
    EXPECT_EQ(config.listeners.back().host, "::1");
    EXPECT_EQ(config.listeners.back().port, 587);
    EXPECT_EQ(default_text(*find_key("listener.role")), "(required)");
}

TEST(Schema, RouteKeysStoreIntoTheLastRoute) {
    Config config;
    config.routes.emplace_back();
    find_key("route.domain")->store(config, std::string("Bench.Test"));
    find_key("route.transport")->store(config, std::string("discard"));
    EXPECT_EQ(config.routes.back().domain, "bench.test");
    EXPECT_EQ(config.routes.back().transport, Transport::discard);
    EXPECT_EQ(default_text(*find_key("route.domain")), "(required)");
}

// keep_restart_values restores an entry scope whole, so its keys must agree.
TEST(Schema, EntryScopesShareOneReloadMode) {
    for (const KeySpec& spec : schema()) {
        if (spec.scope == Scope::global) continue;
        for (const KeySpec& other : schema()) {
            if (other.scope == spec.scope) {
                EXPECT_EQ(spec.reload, other.reload) << spec.key << " and " << other.key;
            }
        }
    }
}

TEST(Schema, EntryKeysLoadTheLastEntry) {
    Config config;
    config.listeners.push_back({ListenerRole::mx, "127.0.0.1", 25});
    config.listeners.push_back({ListenerRole::submission, "::1", 587});
    EXPECT_EQ(find_key("listener.role")->load(config), Value(std::string("submission")));
    EXPECT_EQ(find_key("listener.address")->load(config), Value(std::string("[::1]:587")));
    config.destinations.push_back({"example.com", "", std::nullopt});
    EXPECT_EQ(find_key("destination.tls")->load(config), Value(std::monostate{}));
    config.destinations.back().tls = TlsPolicy::must;
    EXPECT_EQ(find_key("destination.tls")->load(config), Value(std::string("must")));
}

TEST(Schema, DefaultTextLooksLikeToml) {
    const struct {
        std::string_view key;
        std::string_view want;
    } cases[] = {
        {"hostname", "\"localhost\""},
        {"local_domains", "[\"localhost\"]"},
        {"trusted_networks", "[]"},
        {"limits.message_size", "\"10MiB\""},
        {"limits.command_timeout", "\"5m\""},
        {"limits.auth_failure_delay", "\"1s\""},
        {"limits.recipients_per_message", "1000"},
        {"smtp.received_auth_user", "false"},
        {"tls.cert", "\"\""},
    };
    for (const auto& c : cases) {
        const KeySpec* spec = find_key(c.key);
        ASSERT_NE(spec, nullptr) << c.key;
        EXPECT_EQ(default_text(*spec), c.want) << c.key;
    }
}

}  // namespace
}  // namespace cartero::config
