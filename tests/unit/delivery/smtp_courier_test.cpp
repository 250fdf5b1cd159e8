// SmtpCourier with a [[relay]] whose password file cannot be used at delivery
// time (issue 8): the delivery is deferred with the reason, and no connection
// is made, so no AUTH with an empty password ever reaches the relay.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "delivery/remote/smtp_courier.hpp"
#include "dns/zone_resolver.hpp"

namespace cartero::delivery {
namespace {

using namespace std::chrono_literals;

class RelayPassword : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("cartero-relay-pw-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        relay_.name = "smarthost";
        relay_.host = "127.0.0.1";
        relay_.tls = config::RelayTls::none;
        relay_.username = "alice";
        relay_.password_file = dir_ / "password";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write_password(const std::string& text) {
        std::ofstream(relay_.password_file) << text;
        std::filesystem::permissions(relay_.password_file, std::filesystem::perms::owner_read |
                                                               std::filesystem::perms::owner_write);
    }

    std::filesystem::path dir_;
    config::Relay relay_;
};

TEST_F(RelayPassword, ReadAtEachConnection) {
    write_password("s3cret\r\nignored\n");
    RelayCredentials got = relay_credentials(relay_);
    ASSERT_TRUE(got.credentials);
    EXPECT_EQ(got.credentials->username, "alice");
    EXPECT_EQ(got.credentials->password, "s3cret");
    EXPECT_EQ(got.problem, "");
    write_password("changed\n");
    EXPECT_EQ(relay_credentials(relay_).credentials->password, "changed");
}

TEST_F(RelayPassword, UnusableFileIsAProblemNotAnEmptyPassword) {
    {  // gone since the load
        const RelayCredentials got = relay_credentials(relay_);
        EXPECT_FALSE(got.credentials);
        EXPECT_NE(got.problem.find("relay smarthost: cannot use password file " + relay_.password_file.string() +
                                   ": No such file or directory; not sending AUTH without the password"),
                  std::string::npos)
            << got.problem;
        EXPECT_NE(got.problem.find("chmod 600 "), std::string::npos) << got.problem;
    }
    {  // opened to others since the load
        write_password("s3cret\n");
        std::filesystem::permissions(relay_.password_file, std::filesystem::perms::others_read,
                                     std::filesystem::perm_options::add);
        const RelayCredentials got = relay_credentials(relay_);
        EXPECT_FALSE(got.credentials);
        EXPECT_NE(got.problem.find("is open to group or others (mode 0604)"), std::string::npos) << got.problem;
    }
    {  // emptied
        write_password("");
        const RelayCredentials got = relay_credentials(relay_);
        EXPECT_FALSE(got.credentials);
        EXPECT_NE(got.problem.find("its first line is empty"), std::string::npos) << got.problem;
    }
}

// The courier defers (451 4.3.5) without connecting: the relay's port has a
// listener, and nothing reaches its queue of accepted connections.
TEST_F(RelayPassword, CourierDefersWithoutConnecting) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
    ASSERT_EQ(::listen(listener, 8), 0);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    relay_.port = ntohs(addr.sin_port);

    config::Config config;
    config.hostname = "client.test";
    config.data_dir = dir_;
    config.relays = {relay_};
    config.delivery.relay = relay_.name;
    config.delivery.connect_timeout = 5s;
    config.delivery.command_timeout = 5s;
    dns::ZoneResolver zone;
    SmtpCourier courier(config, zone);
    spool::QueuedMessage message;
    message.id = "PWTEST";
    message.envelope.sender = "alice@example.org";
    message.envelope.recipients = {"bob@example.net"};
    message.data = std::make_shared<const std::string>("Subject: hi\r\n\r\nhello\r\n");
    const auto outcomes = courier.deliver(message, "example.net", {RemoteRecipient{0, "bob@example.net"}});
    ASSERT_EQ(outcomes.size(), 1U);
    EXPECT_EQ(outcomes[0].status, DeliveryStatus::temporary);
    EXPECT_EQ(outcomes[0].reply.enhanced, "4.3.5");
    EXPECT_NE(outcomes[0].detail.find("cannot use password file"), std::string::npos) << outcomes[0].detail;
    EXPECT_LT(::accept(listener, nullptr, nullptr), 0) << "the courier connected to the relay";
    ::close(listener);
}

}  // namespace
}  // namespace cartero::delivery
