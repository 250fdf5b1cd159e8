// Directory: alias resolution, loops, depth, unknown users, sender ownership.
#include "accounts/directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace cartero::accounts {
namespace {

std::string join(const std::optional<std::vector<Mailbox>>& mailboxes) {
    if (!mailboxes) return "nullopt";
    std::vector<std::string> addresses;
    for (const auto& m : *mailboxes) addresses.push_back(m.address());
    std::sort(addresses.begin(), addresses.end());
    std::string out;
    for (const auto& a : addresses) out += (out.empty() ? "" : ",") + a;
    return "[" + out + "]";
}

Directory sample() {
    std::vector<std::pair<std::string, std::string>> aliases = {
        {"postmaster@example.com", "alice@example.com"},
        {"team@example.com", "alice@example.com"},
        {"team@example.com", "Bob@example.com"},
        {"all@example.com", "team@example.com"},
        {"all@example.com", "carol@example.org"},  // remote member
        {"loop1@example.com", "loop2@example.com"},
        {"loop2@example.com", "loop1@example.com"},
        {"keep@example.com", "keep@example.com"},  // a user aliased to itself plus a copy
        {"keep@example.com", "archive@example.com"},
        {"ghost@example.com", "nobody@example.com"},  // every target unknown
        {"forward@example.com", "dave@example.net"},
        {"selfloop@example.com", "selfloop@example.com"},
    };
    // chain0 -> chain1 -> ... -> chain11 -> alice: deeper than max_alias_depth.
    for (int i = 0; i < 12; ++i)
        aliases.emplace_back("chain" + std::to_string(i) + "@example.com", "chain" + std::to_string(i + 1) + "@example.com");
    aliases.emplace_back("chain12@example.com", "alice@example.com");
    // short0 -> short1 -> alice: well within the bound.
    aliases.emplace_back("short0@example.com", "short1@example.com");
    aliases.emplace_back("short1@example.com", "alice@example.com");
    return Directory({"example.com", "Example.net.local"},
                     {"alice@example.com", "bob@example.com", "keep@example.com", "archive@example.com"},
                     std::move(aliases));
}

TEST(DirectoryResolve, Table) {
    const auto directory = sample();
    struct Case { std::string address, want; };
    const Case cases[] = {
        {"alice@example.com", "[alice@example.com]"},
        {"ALICE@Example.Com", "[alice@example.com]"},
        {"postmaster@example.com", "[alice@example.com]"},
        {"team@example.com", "[alice@example.com,bob@example.com]"},
        {"all@example.com", "[alice@example.com,bob@example.com]"},
        {"keep@example.com", "[archive@example.com,keep@example.com]"},
        {"short0@example.com", "[alice@example.com]"},
        {"forward@example.com", "[]"},          // only a remote target: accepted, nothing local
        {"someone@elsewhere.org", "[]"},        // not local: no local mailbox
        {"unknown@example.com", "nullopt"},
        {"loop1@example.com", "nullopt"},
        {"selfloop@example.com", "nullopt"},
        {"ghost@example.com", "nullopt"},
        {"chain0@example.com", "nullopt"},      // cut at max_alias_depth
        {"user%other.org@example.com", "nullopt"},
        {"user!other.org@example.com", "nullopt"},
        {"other.org!user@example.com", "nullopt"},
        {"\"alice@other.org\"@example.com", "nullopt"},
        {"\"alice\"@example.com", "nullopt"},
        {"alice@[127.0.0.1]", "[]"},            // address literal: not local
    };
    for (const auto& c : cases) {
        const auto got = join(directory.resolve(c.address));
        EXPECT_EQ(got, c.want) << "resolve(" << c.address << "): got " << got << ", want " << c.want;
    }
}

TEST(DirectoryRemoteTargets, FollowsAliasesOutward) {
    const auto directory = sample();
    EXPECT_EQ(directory.remote_targets("all@example.com"), std::vector<std::string>{"carol@example.org"});
    EXPECT_EQ(directory.remote_targets("forward@example.com"), std::vector<std::string>{"dave@example.net"});
    EXPECT_EQ(directory.remote_targets("x@Elsewhere.org"), std::vector<std::string>{"x@elsewhere.org"});
    EXPECT_TRUE(directory.remote_targets("alice@example.com").empty());
}

TEST(DirectoryMaySendAs, Table) {
    const auto directory = sample();
    struct Case { std::string user, address; bool want; };
    const Case cases[] = {
        {"alice@example.com", "alice@example.com", true},
        {"alice@example.com", "Alice@EXAMPLE.com", true},
        {"alice@example.com", "postmaster@example.com", true},
        {"alice@example.com", "team@example.com", true},
        {"bob@example.com", "team@example.com", true},
        {"bob@example.com", "postmaster@example.com", false},
        {"alice@example.com", "bob@example.com", false},
        {"alice@example.com", "forward@example.com", false},
        {"alice@example.com", "someone@elsewhere.org", false},
        {"mallory@example.com", "mallory@example.com", false},  // not a user
        {"alice@example.com", "loop1@example.com", false},
    };
    for (const auto& c : cases) {
        const bool got = directory.may_send_as(c.user, c.address);
        EXPECT_EQ(got, c.want) << "may_send_as(" << c.user << ", " << c.address << "): got " << got << ", want " << c.want;
    }
}

TEST(DirectoryRoutes, ExactDomainsOnly) {
    const Directory directory({"example.com"}, {"alice@example.com"}, {},
                              {{"Bench.Test", config::Transport::discard}});
    struct Case { std::string domain; bool routed, accepted; };
    const Case cases[] = {
        {"bench.test", true, true},
        {"BENCH.test", true, true},
        {"example.com", false, true},  // local: accepted, not routed
        {"sub.bench.test", false, false},
        {"bench.test.example.com", false, false},
        {"test", false, false},
        {"", false, false},
    };
    for (const auto& c : cases) {
        const config::Route* route = directory.route_for(c.domain);
        EXPECT_EQ(route != nullptr, c.routed) << "route_for(" << c.domain << ")";
        if (route != nullptr) {
            EXPECT_EQ(route->domain, "bench.test");
            EXPECT_EQ(route->transport, config::Transport::discard);
        }
        EXPECT_EQ(directory.accepts_domain(c.domain), c.accepted) << "accepts_domain(" << c.domain << ")";
    }
    EXPECT_FALSE(directory.is_local_domain("bench.test")) << "a routed domain is not local";
    EXPECT_EQ(directory.remote_targets("x@bench.test"), std::vector<std::string>{"x@bench.test"})
        << "the Directory leaves routing to the queue (scheduler/route.hpp)";
}

TEST(DirectoryLocalDomain, CaseInsensitive) {
    const auto directory = sample();
    EXPECT_TRUE(directory.is_local_domain("EXAMPLE.com"));
    EXPECT_TRUE(directory.is_local_domain("example.net.local"));
    EXPECT_FALSE(directory.is_local_domain("example.org"));
    EXPECT_FALSE(directory.is_local_domain("[127.0.0.1]"));
}

TEST(DirectoryQualify, BarePostmasterGoesToTheFirstLocalDomain) {
    const Directory directory({"example.com", "example.net"}, {}, {{"postmaster@example.com", "alice@example.com"}});
    const std::pair<std::string, std::string> cases[] = {
        {"postmaster", "postmaster@example.com"},
        {"postmaster@example.net", "postmaster@example.net"},
        {"bob@elsewhere.org", "bob@elsewhere.org"},
    };
    for (const auto& [given, want] : cases)
        EXPECT_EQ(directory.qualify(given), want) << "qualify(" << given << ")";
}

}  // namespace
}  // namespace cartero::accounts
