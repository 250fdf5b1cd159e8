// directory_router: the routing order of route.hpp (route table, local domains,
// remote), exact route matches, and alias targets that land in a routed domain.
#include "scheduler/route.hpp"

#include <gtest/gtest.h>

namespace cartero::scheduler {
namespace {

std::shared_ptr<const accounts::Directory> directory() {
    static const auto snapshot = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.org"}, std::vector<std::string>{"alice@example.org"},
        std::vector<std::pair<std::string, std::string>>{{"sink@example.org", "load@bench.test"},
                                                         {"both@example.org", "alice@example.org"},
                                                         {"both@example.org", "load@bench.test"},
                                                         {"away@example.org", "friend@remote.example"},
                                                         {"postmaster@example.org", "alice@example.org"}},
        std::vector<config::Route>{{"bench.test", config::Transport::discard}});
    return snapshot;
}

// "unknown", or "mailboxes=[..] routed=[..] remote=[..]" with routed as "transport:address".
std::string show(const Route& route) {
    if (route.unknown) return "unknown";
    const auto list = [](const std::vector<std::string>& items) {
        std::string out;
        for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
        return "[" + out + "]";
    };
    std::vector<std::string> routed;
    for (const auto& r : route.routed) routed.push_back(std::string(config::to_string(r.transport)) + ":" + r.address);
    return "mailboxes=" + list(route.mailboxes) + " routed=" + list(routed) + " remote=" + list(route.remote);
}

TEST(DirectoryRouter, Table) {
    const Router route = directory_router(directory);
    struct Case { std::string recipient, want; };
    const Case cases[] = {
        {"load@bench.test", "mailboxes=[] routed=[discard:load@bench.test] remote=[]"},
        {"Anyone@BENCH.test", "mailboxes=[] routed=[discard:anyone@bench.test] remote=[]"},
        // Exact domain only: neither a sub-domain nor a longer name is routed.
        {"x@sub.bench.test", "mailboxes=[] routed=[] remote=[x@sub.bench.test]"},
        {"x@bench.test.example", "mailboxes=[] routed=[] remote=[x@bench.test.example]"},
        // Alias targets follow the same order.
        {"sink@example.org", "mailboxes=[] routed=[discard:load@bench.test] remote=[]"},
        {"both@example.org", "mailboxes=[alice@example.org] routed=[discard:load@bench.test] remote=[]"},
        {"away@example.org", "mailboxes=[] routed=[] remote=[friend@remote.example]"},
        {"alice@example.org", "mailboxes=[alice@example.org] routed=[] remote=[]"},
        {"nobody@example.org", "unknown"},
        // RFC 5321 4.5.1: a bare <Postmaster> reaches the first local domain's postmaster.
        {"postmaster", "mailboxes=[alice@example.org] routed=[] remote=[]"},
        {"friend@remote.example", "mailboxes=[] routed=[] remote=[friend@remote.example]"},
    };
    for (const auto& c : cases) {
        const std::string got = show(route(c.recipient));
        EXPECT_EQ(got, c.want) << c.recipient << ": got " << got << ", want " << c.want;
    }
}

// Remote targets reached through a local alias are forwards; a remote
// recipient itself is not. An SRS address of ours routes as the address it
// wraps, as a forward; a real user wins over the unwrapping.
TEST(DirectoryRouter, ForwardsAndSrsAddresses) {
    const SrsUnwrap unwrap = [](std::string_view address) -> std::optional<std::string> {
        if (address.starts_with("SRS0=ok=")) return std::string(address.substr(8, address.find('@') - 8)) + "@remote.example";
        return std::nullopt;
    };
    const Router route = directory_router(directory, unwrap);
    EXPECT_TRUE(route("away@example.org").forwarded);
    EXPECT_FALSE(route("friend@remote.example").forwarded);
    const Route bounce = route("SRS0=ok=friend@example.org");
    EXPECT_EQ(show(bounce), "mailboxes=[] routed=[] remote=[friend@remote.example]");
    EXPECT_TRUE(bounce.forwarded);
    EXPECT_EQ(show(route("SRS0=bad=friend@example.org")), "unknown");
    EXPECT_EQ(show(directory_router(directory)("SRS0=ok=friend@example.org")), "unknown");
}

}  // namespace
}  // namespace cartero::scheduler
