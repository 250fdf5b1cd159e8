// ZoneResolver: the in-memory Resolver answers as an authoritative server
// would, and the shared front (name checks, IP literals) behaves the same for
// every implementation.
#include "dns/zone_resolver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dns/mx_order.hpp"

namespace cartero::dns {
namespace {

std::vector<std::string> strings(const std::vector<boost::asio::ip::address>& addresses) {
    std::vector<std::string> out;
    for (const auto& a : addresses) out.push_back(a.to_string());
    return out;
}

// ZoneResolver holds a mutex, so tests fill one in place.
void fill_example(ZoneResolver& zone) {
    zone.add_mx("example.org", 10, "mx1.example.org")
        .add_mx("example.org", 20, "mx2.example.org")
        .add_address("mx1.example.org", "192.0.2.1")
        .add_address("mx1.example.org", "2001:db8::1")
        .add_address("mx2.example.org", "192.0.2.2")
        .add_cname("alias.example.org", "mx1.example.org")
        .add_cname("loop1.example.org", "loop2.example.org")
        .add_cname("loop2.example.org", "loop1.example.org")
        .add_mx("null.example", 0, ".")
        .add_address("a-only.example", "192.0.2.3")
        .add_txt("sel._domainkey.example.org", "v=DKIM1; p=" + std::string(400, 'A'))
        .add_tlsa("_25._tcp.mx1.example.org", TlsaRecord{3, 1, 1, "\x01\x02"})
        .fail("broken.example");
}

TEST(ZoneResolver, StatusesAsAnAuthoritativeServerGivesThem) {
    ZoneResolver zone;
    fill_example(zone);
    struct Case { std::string name; std::string question; Status want; };
    const Case cases[] = {
        {"MX records", "example.org", Status::ok},
        {"null MX is still records", "null.example", Status::ok},
        {"name with A only: MX nodata", "a-only.example", Status::nodata},
        {"no such name", "nowhere.example", Status::nxdomain},
        {"empty non-terminal is nodata (RFC 8020)", "_domainkey.example.org", Status::nodata},
        {"SERVFAIL is temporary", "broken.example", Status::temporary},
        {"CNAME loop is temporary", "loop1.example.org", Status::temporary},
        {"invalid name is nxdomain", "exa mple.org", Status::nxdomain},
        {"case and trailing dot do not matter", "EXAMPLE.org.", Status::ok},
    };
    for (const auto& c : cases) {
        const auto got = zone.mx(c.question);
        EXPECT_EQ(got.status, c.want) << c.name << ": got " << to_string(got.status) << " (" << got.error << "), want "
                                      << to_string(c.want);
        EXPECT_EQ(got.error.empty(), c.want == Status::ok) << c.name << ": error \"" << got.error << "\"";
    }
}

TEST(ZoneResolver, MxRecordsAndNullMx) {
    ZoneResolver zone;
    fill_example(zone);
    const auto mx = zone.mx("example.org");
    EXPECT_EQ(mx.records, (std::vector<MxRecord>{{10, "mx1.example.org"}, {20, "mx2.example.org"}}));
    EXPECT_FALSE(mx.null_mx);
    EXPECT_TRUE(zone.mx("null.example").null_mx);
}

TEST(ZoneResolver, AddressesOfBothFamiliesAndCnames) {
    ZoneResolver zone;
    fill_example(zone);
    struct Case { std::string host; Status status; std::vector<std::string> v6, v4; };
    const Case cases[] = {
        {"mx1.example.org", Status::ok, {"2001:db8::1"}, {"192.0.2.1"}},
        {"mx2.example.org", Status::ok, {}, {"192.0.2.2"}},
        {"alias.example.org", Status::ok, {"2001:db8::1"}, {"192.0.2.1"}},  // MX target that is a CNAME
        {"192.0.2.77", Status::ok, {}, {"192.0.2.77"}},                      // MX target that is an IP literal
        {"2001:db8::77", Status::ok, {"2001:db8::77"}, {}},
        {"fe80::1%lo", Status::nxdomain, {}, {}},                            // scoped: not taken
        {"example.org", Status::nodata, {}, {}},
        {"nowhere.example", Status::nxdomain, {}, {}},
        {"broken.example", Status::temporary, {}, {}},
    };
    for (const auto& c : cases) {
        const auto got = zone.addresses(c.host);
        EXPECT_EQ(got.status, c.status) << c.host << ": got " << to_string(got.status) << " (" << got.error << ")";
        EXPECT_EQ(strings(got.ipv6), c.v6) << c.host;
        EXPECT_EQ(strings(got.ipv4), c.v4) << c.host;
    }
}

TEST(ZoneResolver, IpLiteralsAndBadNamesAreNotAsked) {
    ZoneResolver zone;
    fill_example(zone);
    (void)zone.addresses("192.0.2.9");
    (void)zone.mx("bad..name");
    (void)zone.txt("");
    EXPECT_EQ(zone.queries(), 0);
    (void)zone.addresses("mx1.example.org");
    EXPECT_EQ(zone.queries(), 2) << "one AAAA and one A question";
}

TEST(ZoneResolver, TxtAndTlsa) {
    ZoneResolver zone;
    fill_example(zone);
    const auto txt = zone.txt("sel._domainkey.example.org");
    ASSERT_EQ(txt.status, Status::ok);
    ASSERT_EQ(txt.records.size(), 1u);
    EXPECT_EQ(txt.records[0], "v=DKIM1; p=" + std::string(400, 'A'));
    const auto tlsa = zone.tlsa("_25._tcp.mx1.example.org");
    ASSERT_EQ(tlsa.status, Status::ok);
    EXPECT_EQ(tlsa.records, (std::vector<TlsaRecord>{{3, 1, 1, "\x01\x02"}}));
    EXPECT_FALSE(tlsa.secure);
    zone.set_secure(true);
    EXPECT_TRUE(zone.tlsa("_25._tcp.mx1.example.org").secure);
    EXPECT_EQ(zone.tlsa("_25._tcp.mx2.example.org").status, Status::nxdomain);
}

TEST(ZoneResolver, Srv) {
    ZoneResolver zone;
    zone.add_srv("_submissions._tcp.example.org", SrvRecord{0, 1, 465, "Mail.Example.org."})
        .add_srv("_submission._tcp.example.org", SrvRecord{0, 0, 0, "."});
    const auto got = zone.srv("_submissions._tcp.example.org");
    ASSERT_EQ(got.status, Status::ok) << got.error;
    EXPECT_EQ(got.records, (std::vector<SrvRecord>{{0, 1, 465, "mail.example.org"}}));
    EXPECT_EQ(zone.srv("_submission._tcp.example.org").records, (std::vector<SrvRecord>{{0, 0, 0, "."}}));
    EXPECT_EQ(zone.srv("_imaps._tcp.example.org").status, Status::nxdomain);
}

TEST(ZoneResolver, ChangesAreSeenByOtherThreads) {
    ZoneResolver zone;
    fill_example(zone);
    std::atomic<bool> seen{false};
    std::thread reader([&] {
        for (int i = 0; i < 1'000'000 && !seen; ++i) {
            if (zone.mx("late.example").status == Status::ok) seen = true;
        }
    });
    zone.add_mx("late.example", 5, "mx.late.example");
    reader.join();
    EXPECT_TRUE(seen);
}

TEST(ZoneResolver, FeedsOrderMx) {
    // The path delivery takes: mx() -> order_mx() -> addresses() of each host.
    ZoneResolver zone;
    fill_example(zone);
    const auto hosts = order_mx("example.org", zone.mx("example.org"), default_random());
    ASSERT_EQ(hosts.verdict, MxVerdict::ok);
    ASSERT_EQ(hosts.hosts.size(), 2u);
    EXPECT_EQ(hosts.hosts[0].host, "mx1.example.org");
    EXPECT_EQ(order_mx("a-only.example", zone.mx("a-only.example"), default_random()).hosts[0].host, "a-only.example");
    EXPECT_EQ(order_mx("null.example", zone.mx("null.example"), default_random()).verdict, MxVerdict::permanent);
    EXPECT_EQ(order_mx("nowhere.example", zone.mx("nowhere.example"), default_random()).verdict, MxVerdict::permanent);
    EXPECT_EQ(order_mx("broken.example", zone.mx("broken.example"), default_random()).verdict, MxVerdict::temporary);
}

}  // namespace
}  // namespace cartero::dns
