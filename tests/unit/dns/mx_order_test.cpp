// order_mx: RFC 5321 5.1 ordering, RFC 7505 null MX, implicit MX, errors.
#include "dns/mx_order.hpp"

#include <gtest/gtest.h>

#include <set>

namespace cartero::dns {
namespace {

// A random source that returns scripted picks (mod bound) and records bounds.
struct Scripted {
    std::vector<std::size_t> picks;
    std::vector<std::size_t> bounds;
    std::size_t next = 0;
    RandomBelow source() {
        return [this](std::size_t bound) {
            bounds.push_back(bound);
            const auto pick = next < picks.size() ? picks[next] : 0;
            ++next;
            return pick % bound;
        };
    }
};

MxAnswer ok(std::vector<MxRecord> records) {
    MxAnswer answer;
    answer.status = Status::ok;
    answer.records = std::move(records);
    answer.null_mx = is_null_mx(answer.records);
    return answer;
}

MxAnswer status(Status s, std::string error = {}) {
    MxAnswer answer;
    answer.status = s;
    answer.error = std::move(error);
    return answer;
}

std::string hosts(const MxHosts& got) {
    std::string out;
    for (const auto& h : got.hosts) out += (out.empty() ? "" : " ") + std::to_string(h.preference) + ":" + h.host;
    return out;
}

TEST(OrderMx, Table) {
    struct Case {
        std::string name;
        MxAnswer answer;
        std::vector<std::size_t> picks;  // consumed by the shuffle of equal preferences
        MxVerdict verdict;
        std::string want;                // "pref:host ..." in order; or a piece of the error
        bool implicit = false;
    };
    const Case cases[] = {
        {"by preference", ok({{20, "b"}, {10, "a"}, {30, "c"}}), {}, MxVerdict::ok, "10:a 20:b 30:c"},
        // Fisher-Yates over {x, y, z}: bound 3 picks 0 (swap z,x -> z y x), bound 2 picks 0 (swap y,z -> y z x).
        {"equal preferences shuffled", ok({{10, "x"}, {10, "y"}, {10, "z"}}), {0, 0}, MxVerdict::ok, "10:y 10:z 10:x"},
        {"equal preferences, identity picks", ok({{10, "x"}, {10, "y"}, {10, "z"}}), {2, 1}, MxVerdict::ok,
         "10:x 10:y 10:z"},
        {"shuffle stays inside its preference", ok({{5, "p"}, {10, "x"}, {10, "y"}, {20, "q"}}), {0}, MxVerdict::ok,
         "5:p 10:y 10:x 20:q"},
        {"duplicate host kept at its best preference", ok({{20, "a"}, {10, "a"}, {15, "b"}}), {}, MxVerdict::ok,
         "10:a 15:b"},
        {"null MX", ok({{0, "."}}), {}, MxVerdict::permanent, "null MX"},
        {"'.' among real hosts is dropped", ok({{0, "."}, {10, "a"}}), {}, MxVerdict::ok, "10:a"},
        {"only '.' targets, not a null MX", ok({{10, "."}}), {}, MxVerdict::permanent, "no usable MX host"},
        {"empty ok answer (all records malformed)", ok({}), {}, MxVerdict::permanent, "no usable MX host"},
        {"nodata: implicit MX", status(Status::nodata), {}, MxVerdict::ok, "0:example.org", true},
        {"nxdomain", status(Status::nxdomain), {}, MxVerdict::permanent, "does not exist"},
        {"nxdomain keeps the resolver's words", status(Status::nxdomain, "domain example.org does not exist"), {},
         MxVerdict::permanent, "domain example.org does not exist"},
        {"temporary", status(Status::temporary, "DNS server failure (SERVFAIL) for example.org MX"), {},
         MxVerdict::temporary, "SERVFAIL"},
    };
    for (const auto& c : cases) {
        Scripted random;
        random.picks = c.picks;
        const auto got = order_mx("Example.org.", c.answer, random.source());
        EXPECT_EQ(got.verdict, c.verdict) << c.name << ": got " << to_string(got.verdict) << " (" << got.error
                                          << "), want " << to_string(c.verdict);
        if (c.verdict == MxVerdict::ok) {
            EXPECT_EQ(hosts(got), c.want) << c.name;
            EXPECT_TRUE(got.error.empty()) << c.name << ": " << got.error;
        } else {
            EXPECT_TRUE(got.hosts.empty()) << c.name << ": got hosts " << hosts(got);
            EXPECT_NE(got.error.find(c.want), std::string::npos) << c.name << ": got error \"" << got.error
                                                                  << "\", want it to contain \"" << c.want << "\"";
        }
        EXPECT_EQ(got.implicit, c.implicit) << c.name;
    }
}

TEST(OrderMx, AsksTheRandomSourceOnlyForGroupsOfEqualPreference) {
    Scripted random;
    (void)order_mx("example.org", ok({{10, "a"}, {20, "b"}, {20, "c"}, {30, "d"}}), random.source());
    EXPECT_EQ(random.bounds, (std::vector<std::size_t>{2}));
}

TEST(OrderMx, EveryOrderOfEqualHostsOccurs) {
    // Load spreading (RFC 5321 5.1) with the production source: over many draws
    // each of the 6 orders of three equal hosts appears.
    const auto random = default_random();
    std::set<std::string> seen;
    for (int i = 0; i < 2000 && seen.size() < 6; ++i) {
        seen.insert(hosts(order_mx("example.org", ok({{10, "x"}, {10, "y"}, {10, "z"}}), random)));
    }
    EXPECT_EQ(seen.size(), 6u);
}

TEST(OrderMx, CarriesTheSecureFlag) {
    auto answer = ok({{10, "a"}});
    answer.secure = true;
    Scripted random;
    EXPECT_TRUE(order_mx("example.org", answer, random.source()).secure);
    answer.secure = false;
    EXPECT_FALSE(order_mx("example.org", answer, random.source()).secure);
}

}  // namespace
}  // namespace cartero::dns
