#include "delivery/local/maildir.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

namespace cartero::delivery {
namespace {

namespace fs = std::filesystem;

struct MaildirFixture : ::testing::Test {
    fs::path root = fs::temp_directory_path() / ("cartero-maildir-" + std::to_string(::getpid()));
    fs::path elsewhere = root.string() + "-elsewhere";
    MaildirCourier courier{root, [this](std::string_view local, std::string_view domain) {
                               return root / domain / local;
                           }, "mx.example.org"};
    spool::QueuedMessage message{"ID", {"s@example.net", {"alice@example.org"}, "", false, false, 0}, {false},
                                 std::make_shared<const std::string>("Subject: t\r\n\r\nbody\r\n.line\r\n")};

    void SetUp() override {
        fs::remove_all(root);
        fs::remove_all(elsewhere);
        fs::create_directories(root);
        fs::create_directories(elsewhere);
    }
    void TearDown() override {
        fs::remove_all(root);
        fs::remove_all(elsewhere);
    }
    static std::vector<fs::path> files_in(const fs::path& directory) {
        std::vector<fs::path> files;
        if (fs::exists(directory))
            for (const auto& entry : fs::directory_iterator(directory)) files.push_back(entry.path());
        return files;
    }
};

TEST_F(MaildirFixture, DeliversByteExactIntoNew) {
    const auto outcome = courier.deliver(message, "alice@example.org");
    ASSERT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
    const auto mailbox = root / "example.org" / "alice";
    const auto files = files_in(mailbox / "new");
    ASSERT_EQ(files.size(), 1u);
    std::ifstream in(files[0], std::ios::binary);
    const std::string got{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(got, "Return-Path: <s@example.net>\r\nDelivered-To: alice@example.org\r\n" + *message.data);
    EXPECT_TRUE(files_in(mailbox / "tmp").empty());
    EXPECT_TRUE(fs::is_directory(mailbox / "cur"));
    EXPECT_EQ(fs::status(mailbox / "new").permissions(), fs::perms::owner_all);
}

TEST_F(MaildirFixture, SymlinksBelowTheRootAreRefused) {
    struct Case {
        std::string name;
        fs::path link;  // replaced by a symlink to `elsewhere`
    };
    const auto mailbox = root / "example.org" / "alice";
    const Case cases[] = {
        {"new", mailbox / "new"},
        {"tmp", mailbox / "tmp"},
        {"mailbox", mailbox},
        {"domain", root / "example.org"},
    };
    for (const auto& c : cases) {
        fs::remove_all(root);
        fs::create_directories(c.link.parent_path());
        if (c.link != mailbox && c.link != root / "example.org") fs::create_directories(mailbox);
        fs::create_directory_symlink(elsewhere, c.link);
        const auto outcome = courier.deliver(message, "alice@example.org");
        EXPECT_EQ(outcome.status, DeliveryStatus::temporary) << c.name << ": got " << to_string(outcome.status);
        EXPECT_TRUE(files_in(elsewhere).empty()) << c.name << ": something was written through the symlink";
    }
}

TEST_F(MaildirFixture, UnwritableMailboxIsTemporary) {
    if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
    fs::create_directories(root / "example.org");
    fs::permissions(root / "example.org", fs::perms::owner_read | fs::perms::owner_exec);
    const auto outcome = courier.deliver(message, "alice@example.org");
    EXPECT_EQ(outcome.status, DeliveryStatus::temporary) << outcome.detail;
    fs::permissions(root / "example.org", fs::perms::owner_all);
}

TEST(Maildir, UniqueNamesEscapeTheHostName) {
    EXPECT_EQ(maildir_host("a/b:c.example"), "a\\057b\\072c.example");
    MaildirCourier courier("/nonexistent", {}, "h/x");
    const std::string first = courier.unique_name(), second = courier.unique_name();
    EXPECT_NE(first, second);
    EXPECT_TRUE(first.ends_with(".h\\057x")) << first;
    EXPECT_NE(first.find(".M"), std::string::npos) << first;
    EXPECT_NE(first.find("P" + std::to_string(::getpid()) + "Q"), std::string::npos) << first;
}

}  // namespace
}  // namespace cartero::delivery
