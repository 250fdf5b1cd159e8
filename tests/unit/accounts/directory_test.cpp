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

// Domains meet as A-labels (base/idna.hpp), whichever form the config, the
// store or the client used.
TEST(DirectoryIdna, ULabelAndALabelAreOneDomain) {
    const std::string u = "b\xC3\xBC" "cher.example", a = "xn--bcher-kva.example";
    struct Case { std::string configured, user, recipient; };
    const Case cases[] = {
        {a, "alice@" + a, "alice@" + u},
        {u, "alice@" + u, "alice@" + a},
        {a, "alice@" + u, "Alice@XN--BCHER-KVA.example"},
        {"B\xC3\x9C" "CHER.example", "alice@" + a, "alice@" + u + "."},
    };
    for (const auto& c : cases) {
        const Directory directory({c.configured}, {c.user}, {{"sales@" + u, "alice@" + a}},
                                  {{"r\xC3\xA9" "seau.example", config::Transport::discard}});
        const std::string where = "configured " + c.configured + ", user " + c.user + ", rcpt " + c.recipient;
        EXPECT_TRUE(directory.is_local_domain(u)) << where;
        EXPECT_TRUE(directory.is_local_domain(a)) << where;
        EXPECT_EQ(join(directory.resolve(c.recipient)), "[alice@" + a + "]") << where;
        EXPECT_EQ(join(directory.resolve("sales@" + a)), "[alice@" + a + "]") << where;
        EXPECT_TRUE(directory.may_send_as("alice@" + u, "alice@" + a)) << where;
        EXPECT_NE(directory.route_for("xn--rseau-bsa.example"), nullptr) << where;
        EXPECT_TRUE(directory.accepts_domain("R\xC3\x89" "SEAU.example")) << where;
    }
}

TEST(DirectoryIdna, InvalidIdnaIsNeverLocal) {
    const Directory directory({"xn--bcher-kva.example"}, {"alice@xn--bcher-kva.example"}, {});
    EXPECT_FALSE(directory.is_local_domain("xn--zz.example"));
    EXPECT_EQ(join(directory.resolve("alice@xn--zz.example")), "[]");
    EXPECT_EQ(directory.remote_targets("x@B\xC3\x9C" "CHER.de"), std::vector<std::string>{"x@xn--bcher-kva.de"})
        << "a remote U-label domain goes to the queue, and so to the resolver, as its A-label";
}

// RFC 5321 4.5.1 and accounts.postmaster.
TEST(DirectoryPostmaster, Table) {
    struct Case { std::string configured, address, want; };
    const std::vector<std::pair<std::string, std::string>> aliases = {
        {"postmaster@a.example", "alice@a.example"},     // the default target
        {"postmaster@c.example", "carol@c.example"},     // a domain's own alias wins
    };
    const Case cases[] = {
        // Unset: every local domain's postmaster goes to postmaster@<first local domain>.
        {"", "postmaster@a.example", "[alice@a.example]"},
        {"", "postmaster@b.example", "[alice@a.example]"},
        {"", "PostMaster@B.Example", "[alice@a.example]"},
        {"", "postmaster@c.example", "[carol@c.example]"},
        {"", "postmaster", "[alice@a.example]"},           // bare, qualified by route.cpp; here as given
        {"", "postmaster@elsewhere.org", "[]"},            // not ours: remote
        // Configured: used for domains without their own postmaster.
        {"bob@b.example", "postmaster@b.example", "[bob@b.example]"},
        {"bob@b.example", "postmaster@a.example", "[alice@a.example]"},
        {"bob@b.example", "postmaster@c.example", "[carol@c.example]"},
        {"ops@a.example", "postmaster@b.example", "nullopt"},  // configured, but names nobody
        {"admin@remote.example", "postmaster@b.example", "[]"},  // remote: accepted, forwarded
        // postmaster+tag follows the same way once the tag is cut.
        {"", "postmaster+dmarc@b.example", "[alice@a.example]"},
    };
    for (const auto& c : cases) {
        const Directory directory({"a.example", "b.example", "c.example"},
                                  {"alice@a.example", "bob@b.example", "carol@c.example"}, aliases, {},
                                  config::Accounts{c.configured, "+"});
        const auto want_address = c.address == "postmaster" ? std::string("postmaster@a.example") : c.address;
        const auto got = join(directory.resolve(want_address));
        EXPECT_EQ(got, c.want) << "accounts.postmaster \"" << c.configured << "\": resolve(" << c.address
                               << "): got " << got << ", want " << c.want;
    }
    const Directory remote({"a.example", "b.example"}, {}, {}, {}, config::Accounts{"admin@remote.example", "+"});
    EXPECT_EQ(remote.remote_targets("postmaster@b.example"), std::vector<std::string>{"admin@remote.example"});
}

TEST(DirectoryPostmaster, IsPostmasterAtEveryLocalDomainOnly) {
    const Directory directory({"a.example", "xn--bcher-kva.example"}, {}, {});
    struct Case { std::string address; bool want; };
    const Case cases[] = {
        {"postmaster@a.example", true},         {"PostMaster@A.EXAMPLE", true},
        {"postmaster", true},                   {"POSTMASTER", true},
        {"postmaster@b\xC3\xBC" "cher.example", true},
        {"postmaster@elsewhere.org", false},    {"postmaster+x@a.example", false},
        {"postmasters@a.example", false},       {"\"postmaster\"@a.example", false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(directory.is_postmaster(c.address), c.want) << "is_postmaster(" << c.address << ")";
}

TEST(DirectoryPostmaster, ProblemWhenItHasNowhereToGo) {
    const Directory nowhere({"a.example", "b.example"}, {"alice@a.example"}, {});
    const auto problem = nowhere.postmaster_problem();
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("postmaster@a.example"), std::string::npos) << *problem;
    EXPECT_NE(problem->find("accounts.postmaster"), std::string::npos) << *problem;
    const Directory aliased({"a.example", "b.example"}, {"alice@a.example"}, {{"postmaster@a.example", "alice@a.example"}});
    EXPECT_FALSE(aliased.postmaster_problem()) << *aliased.postmaster_problem();
    const Directory configured({"a.example", "b.example"}, {"alice@a.example"}, {}, {},
                               config::Accounts{"alice@a.example", "+"});
    EXPECT_FALSE(configured.postmaster_problem()) << *configured.postmaster_problem();
}

// Subaddresses (RFC 5233), accounts.recipient_delimiter.
TEST(DirectorySubaddress, Table) {
    struct Case { std::string delimiters, address, want; };
    const Case cases[] = {
        {"+", "alice+news@example.com", "[alice@example.com]"},
        {"+", "Alice+News@EXAMPLE.com", "[alice@example.com]"},
        {"+", "alice+@example.com", "[alice@example.com]"},
        {"+", "alice+a+b@example.com", "[alice@example.com]"},       // the first delimiter splits
        {"+", "team+x@example.com", "[alice@example.com]"},          // an alias has subaddresses too
        {"+", "alice+exact@example.com", "[bob@example.com]"},       // an exact user or alias wins
        {"+", "bob+x@example.com", "[bob@example.com]"},
        {"+", "+alice@example.com", "nullopt"},                      // no base before the delimiter
        {"+", "nobody+x@example.com", "nullopt"},
        {"+", "alice-news@example.com", "nullopt"},                  // '-' is not a delimiter here
        {"+", "alice+news@elsewhere.org", "[]"},                     // not local: left alone
        {"+-", "alice-news@example.com", "[alice@example.com]"},     // a set of delimiters
        {"+-", "alice+news@example.com", "[alice@example.com]"},
        {"", "alice+news@example.com", "nullopt"},                   // disabled
        {"", "alice+exact@example.com", "[bob@example.com]"},
        {"+", "SRS0=HHH=TT=example.org=bob@example.com", "nullopt"},  // SRS local parts: no '+', untouched
    };
    for (const auto& c : cases) {
        const Directory directory({"example.com"}, {"alice@example.com", "bob@example.com"},
                                  {{"team@example.com", "alice@example.com"}, {"alice+exact@example.com", "bob@example.com"}},
                                  {}, config::Accounts{"", c.delimiters});
        const auto got = join(directory.resolve(c.address));
        EXPECT_EQ(got, c.want) << "recipient_delimiter \"" << c.delimiters << "\": resolve(" << c.address
                               << "): got " << got << ", want " << c.want;
    }
}

TEST(DirectorySubaddress, MaySendAsOwnSubaddress) {
    const Directory directory({"example.com"}, {"alice@example.com", "bob@example.com"},
                              {{"alice+exact@example.com", "bob@example.com"}}, {}, config::Accounts{"", "+"});
    struct Case { std::string user, address; bool want; };
    const Case cases[] = {
        {"alice@example.com", "alice+news@example.com", true},   // as Gmail: the tag is hers
        {"bob@example.com", "alice+news@example.com", false},
        {"alice@example.com", "alice+exact@example.com", false},  // an alias of bob's
        {"bob@example.com", "alice+exact@example.com", true},
        {"alice@example.com", "postmaster@example.com", false},   // the postmaster fallback grants nothing
    };
    for (const auto& c : cases)
        EXPECT_EQ(directory.may_send_as(c.user, c.address), c.want) << "may_send_as(" << c.user << ", " << c.address << ")";
    const Directory off({"example.com"}, {"alice@example.com"}, {}, {}, config::Accounts{"", ""});
    EXPECT_FALSE(off.may_send_as("alice@example.com", "alice+news@example.com"));
}

}  // namespace
}  // namespace cartero::accounts
