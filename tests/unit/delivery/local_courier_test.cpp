// LocalCourier: which courier each mailbox goes to ([[lmtp]] per domain, then
// delivery.lmtp, then the Maildir), one LMTP courier per address, and a reload
// that keeps the couriers (and their connections) whose address is unchanged.
// The couriers here are stand-ins that say who they are: this tests the
// choice, not delivery (lmtp_test.cpp and maildir_test.cpp do that).
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "delivery/local/local_courier.hpp"

namespace cartero::delivery {
namespace {

class NamedCourier final : public Courier {
public:
    explicit NamedCourier(std::string name) : name_(std::move(name)) {}
    DeliveryOutcome deliver(const spool::QueuedMessage&, std::string_view recipient) override {
        return DeliveryOutcome{DeliveryStatus::delivered, {}, name_ + " <" + std::string(recipient) + ">"};
    }

private:
    std::string name_;
};

// Makes "lmtp <address> #<n>" couriers and counts how many were made per address.
struct Factory {
    std::map<std::string, int> made;
    LocalCourier::LmtpFactory function() {
        return [this](const std::string& address, const config::Config&) {
            const int n = ++made[address];
            return std::make_shared<NamedCourier>("lmtp " + address + " #" + std::to_string(n));
        };
    }
};

config::Config config_with(std::vector<config::LmtpServer> servers, std::string fallback = {}) {
    config::Config config;
    config.local_domains = {"a.test", "b.test", "c.test", "d.test"};
    config.lmtp_servers = std::move(servers);
    config.delivery.lmtp = std::move(fallback);
    return config;
}

std::string where(LocalCourier& courier, const std::string& recipient) {
    spool::QueuedMessage message;
    message.data = std::make_shared<const std::string>("Subject: x\r\n\r\n");
    return courier.deliver(message, recipient).detail;
}

TEST(LocalCourier, ChoosesByTheMailboxDomain) {
    const struct {
        std::vector<config::LmtpServer> servers;
        std::string fallback;
        std::string recipient;
        std::string want;
    } cases[] = {
        {{}, "", "bob@a.test", "maildir <bob@a.test>"},
        {{{"a.test", "unix:/run/a"}}, "", "bob@a.test", "lmtp unix:/run/a #1 <bob@a.test>"},
        {{{"a.test", "unix:/run/a"}}, "", "bob@b.test", "maildir <bob@b.test>"},
        {{{"a.test", "unix:/run/a"}}, "127.0.0.1:24", "bob@b.test", "lmtp 127.0.0.1:24 #1 <bob@b.test>"},
        {{{"a.test", "unix:/run/a"}}, "127.0.0.1:24", "bob@a.test", "lmtp unix:/run/a #1 <bob@a.test>"},
        // The address is passed on as given; only the domain lookup ignores case.
        {{{"a.test", "unix:/run/a"}}, "", "Bob@A.Test", "lmtp unix:/run/a #1 <Bob@A.Test>"},
        // Exact domains: a sub-domain is another domain.
        {{{"a.test", "unix:/run/a"}}, "", "bob@x.a.test", "maildir <bob@x.a.test>"},
    };
    for (const auto& c : cases) {
        NamedCourier maildir("maildir");
        Factory factory;
        LocalCourier courier(config_with(c.servers, c.fallback), maildir, factory.function());
        EXPECT_EQ(where(courier, c.recipient), c.want) << c.recipient;
    }
}

TEST(LocalCourier, OneLmtpCourierPerAddress) {
    NamedCourier maildir("maildir");
    Factory factory;
    LocalCourier courier(config_with({{"a.test", "unix:/run/shared"}, {"b.test", "unix:/run/shared"},
                                      {"c.test", "unix:/run/other"}},
                                     "unix:/run/shared"),
                         maildir, factory.function());
    EXPECT_EQ(factory.made, (std::map<std::string, int>{{"unix:/run/other", 1}, {"unix:/run/shared", 1}}));
    EXPECT_EQ(where(courier, "x@a.test"), "lmtp unix:/run/shared #1 <x@a.test>");
    EXPECT_EQ(where(courier, "x@b.test"), "lmtp unix:/run/shared #1 <x@b.test>");
    EXPECT_EQ(where(courier, "x@d.test"), "lmtp unix:/run/shared #1 <x@d.test>");
}

TEST(LocalCourier, UpdateKeepsUnchangedServersAndDropsOthers) {
    NamedCourier maildir("maildir");
    Factory factory;
    LocalCourier courier(config_with({{"a.test", "unix:/run/a"}, {"b.test", "unix:/run/b"}}), maildir,
                         factory.function());
    courier.update(config_with({{"a.test", "unix:/run/a"}, {"c.test", "unix:/run/c"}}));
    EXPECT_EQ(where(courier, "x@a.test"), "lmtp unix:/run/a #1 <x@a.test>") << "kept, not made again";
    EXPECT_EQ(where(courier, "x@b.test"), "maildir <x@b.test>") << "no longer an LMTP domain";
    EXPECT_EQ(where(courier, "x@c.test"), "lmtp unix:/run/c #1 <x@c.test>");
    courier.update(config_with({}));
    EXPECT_EQ(where(courier, "x@a.test"), "maildir <x@a.test>");
    courier.update(config_with({{"a.test", "unix:/run/a"}}));
    EXPECT_EQ(where(courier, "x@a.test"), "lmtp unix:/run/a #2 <x@a.test>") << "dropped earlier, so made anew";
}

// A courier keeps the options it was made with (LHLO name, timeouts): when
// they change, SIGHUP must make it anew, or the old ones would stay until restart.
TEST(LocalCourier, UpdateMakesCouriersAnewWhenTheirOptionsChange) {
    NamedCourier maildir("maildir");
    Factory factory;
    LocalCourier courier(config_with({{"a.test", "unix:/run/a"}}), maildir, factory.function());
    config::Config slower = config_with({{"a.test", "unix:/run/a"}});
    slower.delivery.command_timeout = std::chrono::seconds(600);
    courier.update(slower);
    EXPECT_EQ(where(courier, "x@a.test"), "lmtp unix:/run/a #2 <x@a.test>") << "new command_timeout";
    config::Config renamed = slower;
    renamed.hostname = "mx.example.org";
    courier.update(renamed);
    EXPECT_EQ(where(courier, "x@a.test"), "lmtp unix:/run/a #3 <x@a.test>") << "new LHLO name";
    courier.update(renamed);
    EXPECT_EQ(where(courier, "x@a.test"), "lmtp unix:/run/a #3 <x@a.test>") << "same options: kept";
}

}  // namespace
}  // namespace cartero::delivery
