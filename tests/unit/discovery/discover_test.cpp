// The steps of `cartero discover` that need only DNS, over the zone resolver
// (STYLE rule 11: the second real Resolver), and the probe's ranking.
#include "discovery/discover.hpp"

#include <gtest/gtest.h>

#include "dns/zone_resolver.hpp"

namespace cartero::discovery {
namespace {

const Address alice{"alice", "example.org"};

TEST(FromTable, AddressDomainInTheTable) {
    const auto s = from_table(Address{"bob", "gmail.com"});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->source, Source::table);
    EXPECT_EQ(s->provider, "Gmail");
    EXPECT_EQ(s->outgoing.at(0).host, "smtp.gmail.com");
    EXPECT_EQ(s->username, "bob@gmail.com");
    EXPECT_FALSE(from_table(alice));
}

TEST(FromSrv, SubmissionsBeforeSubmissionInPriorityOrder) {
    dns::ZoneResolver zone;
    zone.add_srv("_submission._tcp.example.org", {0, 1, 587, "mail.example.org"})
        .add_srv("_submissions._tcp.example.org", {10, 1, 465, "backup.example.org"})
        .add_srv("_submissions._tcp.example.org", {0, 1, 465, "mail.example.org"});
    StepReport report;
    const auto s = from_srv(zone, alice, report);
    ASSERT_TRUE(s);
    EXPECT_TRUE(report.found);
    ASSERT_EQ(s->outgoing.size(), 3u);
    EXPECT_EQ(s->outgoing[0].host + ":" + std::to_string(s->outgoing[0].port), "mail.example.org:465");
    EXPECT_EQ(s->outgoing[0].security, Security::ssl);
    EXPECT_EQ(s->outgoing[1].host, "backup.example.org");
    EXPECT_EQ(s->outgoing[2].port, 587);
    EXPECT_EQ(s->outgoing[2].security, Security::starttls);
    EXPECT_EQ(s->where, "_submissions._tcp.example.org");
    EXPECT_TRUE(s->username.empty()) << "SRV says nothing of the user name";
}

TEST(FromSrv, DotTargetMeansNotOffered) {
    dns::ZoneResolver zone;
    zone.add_srv("_submissions._tcp.example.org", {0, 0, 0, "."})
        .add_srv("_submission._tcp.example.org", {0, 0, 587, "mail.example.org"});
    StepReport report;
    const auto s = from_srv(zone, alice, report);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->outgoing.size(), 1u);
    EXPECT_EQ(s->outgoing[0].security, Security::starttls);
    EXPECT_NE(report.details.at(0).find("not offered"), std::string::npos) << report.details[0];

    dns::ZoneResolver none;
    none.add_srv("_submissions._tcp.example.org", {0, 0, 0, "."});
    StepReport empty;
    EXPECT_FALSE(from_srv(none, alice, empty));
    EXPECT_FALSE(empty.found);
}

TEST(FromMx, GoogleMxMeansWorkspace) {
    dns::ZoneResolver zone;
    zone.add_mx("example.org", 5, "alt1.aspmx.l.google.com").add_mx("example.org", 1, "aspmx.l.google.com");
    StepReport report;
    const auto s = from_mx(zone, alice, report);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->source, Source::mx);
    EXPECT_EQ(s->where, "aspmx.l.google.com");
    EXPECT_EQ(s->provider, "Google Workspace");
    EXPECT_EQ(s->outgoing.at(0).host, "smtp.gmail.com");

    dns::ZoneResolver m365;
    m365.add_mx("example.org", 0, "example-org.mail.protection.outlook.com");
    EXPECT_EQ(from_mx(m365, alice, report)->provider, "Microsoft 365 (Exchange Online)");

    dns::ZoneResolver own;
    own.add_mx("example.org", 10, "mx.example.org");
    StepReport unknown;
    EXPECT_FALSE(from_mx(own, alice, unknown));
    EXPECT_NE(unknown.details.at(0).find("no known provider"), std::string::npos);
}

PortProbe probe(const char* host, std::uint16_t port, Speaks speaks, std::vector<std::string> auth = {"PLAIN"}) {
    PortProbe p;
    p.host = host;
    p.port = p.dialled = port;
    p.speaks = speaks;
    p.auth = std::move(auth);
    return p;
}

TEST(FromProbes, SslTlsThenStarttls587AndPort25OnlyWhenAlone) {
    const std::vector<PortProbe> probes = {
        probe("smtp.example.org", 25, Speaks::starttls, {}),
        probe("smtp.example.org", 587, Speaks::starttls),
        probe("mail.example.org", 465, Speaks::implicit_tls),
        probe("mail.example.org", 587, Speaks::plaintext),
        probe("smtp.example.org", 465, Speaks::timed_out),
    };
    const auto s = from_probes(probes);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->outgoing.size(), 2u) << "plaintext and silent ports are not offered, 25 not when 587 works";
    EXPECT_EQ(s->outgoing[0].host + ":" + std::to_string(s->outgoing[0].port), "mail.example.org:465");
    EXPECT_EQ(s->outgoing[1].host + ":" + std::to_string(s->outgoing[1].port), "smtp.example.org:587");
    EXPECT_TRUE(s->outgoing[0].auth_from_server);
    EXPECT_TRUE(s->notes.empty());

    const auto only25 = from_probes({probe("smtp.example.org", 25, Speaks::starttls, {})});
    ASSERT_TRUE(only25);
    EXPECT_EQ(only25->notes, std::vector<Note>{Note::port_25_not_for_clients});
    EXPECT_FALSE(from_probes({probe("smtp.example.org", 25, Speaks::plaintext)}));
}

TEST(Discover, UnknownDomainEverythingNxdomainQuickly) {
    dns::ZoneResolver zone;  // nothing exists
    DiscoverOptions options;
    options.probe.timeout = std::chrono::seconds(2);
    const auto start = std::chrono::steady_clock::now();
    const auto d = discover(zone, Address{"x", "nowhere.test"}, options);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_FALSE(d.settings);
    ASSERT_EQ(d.steps.size(), 5u);
    for (const auto& step : d.steps) EXPECT_FALSE(step.found);
    ASSERT_EQ(d.probes.size(), 6u);
    for (const auto& p : d.probes) EXPECT_EQ(p.speaks, Speaks::no_host) << p.host << ":" << p.port;
}

}  // namespace
}  // namespace cartero::discovery
