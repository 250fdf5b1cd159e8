#include "delivery/local/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

namespace cartero::delivery {
namespace {

namespace fs = std::filesystem;

struct MaildirFixture : ::testing::Test {
    fs::path root = fs::temp_directory_path() / ("cartero-maildir-" + std::to_string(::getpid()));
    fs::path elsewhere = root.string() + "-elsewhere";
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
    static std::string contents(const fs::path& file) {
        std::ifstream in(file, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    // The fixture's message under another queue ID: a copy name is per message
    // and mailbox, so each distinct copy a test wants needs its own message.
    spool::QueuedMessage numbered(int number) const {
        auto copy = message;
        copy.id = "ID" + std::to_string(number);
        return copy;
    }
    std::unique_ptr<MaildirCourier> make_courier(MaildirOptions options) {
        return std::make_unique<MaildirCourier>(
            root, [this](std::string_view local, std::string_view domain) { return root / domain / local; },
            "mx.example.org", options);
    }
};

// Both ways of making a copy: O_TMPFILE + linkat, and the classic tmp/ + rename fallback.
const std::pair<std::string, MaildirOptions> strategies[] = {
    {"O_TMPFILE+linkat", {.open_mailboxes = 32, .anonymous_files = true}},
    {"tmp/+rename", {.open_mailboxes = 32, .anonymous_files = false}},
};

bool supports_tmpfile(const fs::path& directory) {
    const int fd = ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
}

timespec modified(const fs::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mtim;
}

bool operator==(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

std::size_t open_descriptors() {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

std::size_t regular_files_below(const fs::path& directory) {
    std::size_t count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(directory)) count += entry.is_regular_file() ? 1 : 0;
    return count;
}

// A distinct body per copy, so a lost or mixed-up copy shows.
std::string body(int thread, int index) {
    return "Subject: " + std::to_string(thread) + "/" + std::to_string(index) + "\r\n\r\n" +
           std::string(static_cast<std::size_t>(100 + thread * 37 + index), static_cast<char>('a' + (index % 26))) +
           "\r\n";
}

TEST_F(MaildirFixture, DeliversByteExactIntoNew) {
    for (const auto& [label, options] : strategies) {
        SCOPED_TRACE(label);
        fs::remove_all(root / "example.org");
        const auto outcome = make_courier(options)->deliver(message, "alice@example.org");
        ASSERT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
        const auto mailbox = root / "example.org" / "alice";
        const auto files = files_in(mailbox / "new");
        ASSERT_EQ(files.size(), 1u);
        EXPECT_EQ(contents(files[0]), "Return-Path: <s@example.net>\r\nDelivered-To: alice@example.org\r\n" + *message.data);
        EXPECT_EQ(fs::status(files[0]).permissions(), fs::perms::owner_read | fs::perms::owner_write);
        EXPECT_TRUE(files_in(mailbox / "tmp").empty());
        EXPECT_TRUE(fs::is_directory(mailbox / "cur"));
        EXPECT_EQ(fs::status(mailbox / "new").permissions(), fs::perms::owner_all);
    }
}

// The anonymous path never touches tmp/ (no entry is created or removed there,
// so its mtime stays); the classic fallback creates and renames one per copy.
TEST_F(MaildirFixture, AnonymousFilesLeaveTmpAloneAndTheFallbackUsesIt) {
    if (!supports_tmpfile(root)) GTEST_SKIP() << root << " does not support O_TMPFILE";
    for (const auto& [label, options] : strategies) {
        SCOPED_TRACE(label);
        auto courier = make_courier(options);
        ASSERT_EQ(courier->deliver(numbered(1), "alice@example.org").status, DeliveryStatus::delivered);
        const auto tmp = root / "example.org" / "alice" / "tmp";
        const auto before = modified(tmp);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the filesystem's timestamp granularity
        ASSERT_EQ(courier->deliver(numbered(2), "alice@example.org").status, DeliveryStatus::delivered);
        EXPECT_EQ(modified(tmp) == before, options.anonymous_files) << "tmp/ mtime changed: " << !(modified(tmp) == before);
        EXPECT_TRUE(files_in(tmp).empty());
    }
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
    for (const auto& [label, options] : strategies) {
        auto courier = make_courier(options);
        for (const auto& c : cases) {
            fs::remove_all(root);
            fs::create_directories(c.link.parent_path());
            if (c.link != mailbox && c.link != root / "example.org") fs::create_directories(mailbox);
            fs::create_directory_symlink(elsewhere, c.link);
            const auto outcome = courier->deliver(message, "alice@example.org");
            EXPECT_EQ(outcome.status, DeliveryStatus::temporary) << label << " " << c.name << ": got " << to_string(outcome.status);
            EXPECT_TRUE(files_in(elsewhere).empty()) << label << " " << c.name << ": something was written through the symlink";
        }
    }
}

// The courier keeps a mailbox's directories open; a symlink planted after
// they were opened must still be refused, and a mailbox moved away must not
// keep receiving mail under its old name's descriptors.
TEST_F(MaildirFixture, KeptMailboxesAreCheckedAgainstTheirNames) {
    const auto mailbox = root / "example.org" / "alice";
    const fs::path planted[] = {mailbox / "new", mailbox / "tmp", mailbox, root / "example.org"};
    for (const auto& [label, options] : strategies) {
        for (const auto& link : planted) {
            SCOPED_TRACE(label + " " + link.string());
            fs::remove_all(root);
            fs::remove_all(elsewhere);
            fs::create_directories(root);
            auto courier = make_courier(options);
            ASSERT_EQ(courier->deliver(numbered(1), "alice@example.org").status, DeliveryStatus::delivered);
            fs::create_directories(elsewhere);
            fs::rename(link, elsewhere / "moved");
            fs::create_directory_symlink(elsewhere, link);
            const auto moved = regular_files_below(elsewhere);
            EXPECT_EQ(courier->deliver(numbered(2), "alice@example.org").status, DeliveryStatus::temporary);
            EXPECT_EQ(regular_files_below(elsewhere), moved) << "written through the symlink or into the moved directory";
            // Moved away and nothing in its place: the next copy goes to a new mailbox at the name.
            fs::remove(link);
            ASSERT_EQ(courier->deliver(numbered(2), "alice@example.org").status, DeliveryStatus::delivered);
            EXPECT_EQ(regular_files_below(elsewhere), moved) << "delivered into the moved directory";
            EXPECT_EQ(files_in(mailbox / "new").size(), link == mailbox / "tmp" ? 2u : 1u);
        }
    }
}

// The delivery queue's workers deliver to one mailbox at once: every copy
// lands in new/ byte for byte, none lost, none left in tmp/.
TEST_F(MaildirFixture, ConcurrentDeliveriesToOneMailboxAllLand) {
    constexpr int threads = 8, per_thread = 40;
    for (const auto& [label, options] : strategies) {
        SCOPED_TRACE(label);
        fs::remove_all(root / "example.org");
        auto courier = make_courier(options);
        std::vector<std::string> want;
        std::vector<std::thread> workers;
        std::atomic<int> failures{0};
        for (int t = 0; t < threads; ++t) {
            for (int i = 0; i < per_thread; ++i)
                want.push_back("Return-Path: <s@example.net>\r\nDelivered-To: alice@example.org\r\n" + body(t, i));
            workers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    auto copy = numbered(t * per_thread + i);
                    copy.data = std::make_shared<const std::string>(body(t, i));
                    if (courier->deliver(copy, "alice@example.org").status != DeliveryStatus::delivered) ++failures;
                }
            });
        }
        for (auto& worker : workers) worker.join();
        EXPECT_EQ(failures, 0);
        std::vector<std::string> got;
        for (const auto& file : files_in(root / "example.org" / "alice" / "new")) got.push_back(contents(file));
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
        EXPECT_EQ(got.size(), want.size());
        EXPECT_TRUE(got == want) << "copies differ from what was delivered";
        EXPECT_TRUE(files_in(root / "example.org" / "alice" / "tmp").empty());
    }
}

// At most open_mailboxes mailboxes keep descriptors: delivering to many
// mailboxes does not grow the process's descriptor table past that bound.
TEST_F(MaildirFixture, OpenMailboxesAreBounded) {
    constexpr std::size_t kept = 2, mailboxes = 20, per_mailbox = 5;  // root, domain, mailbox, tmp/, new/
    auto courier = make_courier({.open_mailboxes = kept, .anonymous_files = true});
    const auto before = open_descriptors();
    for (int round = 0; round < 2; ++round)
        for (std::size_t i = 0; i < mailboxes; ++i) {
            const auto outcome = courier->deliver(numbered(round), "user" + std::to_string(i) + "@example.org");
            ASSERT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
        }
    EXPECT_LE(open_descriptors(), before + kept * per_mailbox);
    EXPECT_GE(open_descriptors(), before + kept * per_mailbox) << "the last mailboxes were not kept open";
    for (std::size_t i = 0; i < mailboxes; ++i)
        EXPECT_EQ(files_in(root / "example.org" / ("user" + std::to_string(i)) / "new").size(), 2u) << i;
}

TEST_F(MaildirFixture, UnwritableMailboxIsTemporary) {
    if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
    fs::create_directories(root / "example.org");
    fs::permissions(root / "example.org", fs::perms::owner_read | fs::perms::owner_exec);
    const auto outcome = make_courier({})->deliver(message, "alice@example.org");
    EXPECT_EQ(outcome.status, DeliveryStatus::temporary) << outcome.detail;
    fs::permissions(root / "example.org", fs::perms::owner_all);
}

// Copy names: the same for one message and mailbox at every attempt (what
// lets a retry find the copy), different for another message or mailbox, and
// valid Maildir unique names: "time.unique.host", one path component, no ':'.
TEST(Maildir, CopyNamesAreDeterministicValidMaildirNames) {
    EXPECT_EQ(maildir_host("a/b:c.example"), "a\\057b\\072c.example");
    MaildirCourier courier("/nonexistent", {}, "h/x");
    spool::QueuedMessage message{"0DS5Q3Z7W0J2ABCD", {"s@example.net", {"alice@example.org"}, "", false, false, 1700000000},
                                 {false}, std::make_shared<const std::string>("x")};
    const std::string name = courier.copy_name(message, "alice@example.org");
    EXPECT_EQ(name, courier.copy_name(message, "alice@example.org"));
    EXPECT_TRUE(name.starts_with("1700000000.Q0DS5Q3Z7W0J2ABCDR")) << name;
    EXPECT_TRUE(name.ends_with(".h\\057x")) << name;
    EXPECT_EQ(name.find('/'), std::string::npos) << name;
    EXPECT_EQ(name.find(':'), std::string::npos) << name;
    EXPECT_EQ(std::count(name.begin(), name.end(), '.'), 2) << name;
    EXPECT_NE(name, courier.copy_name(message, "bob@example.org"));
    auto other = message;
    other.id = "0DS5Q3Z7W0J2ABCE";
    EXPECT_NE(name, courier.copy_name(other, "alice@example.org"));
    other.id = "a/b:c.d";  // not a spool queue ID: escaped, still one component
    const std::string escaped = courier.copy_name(other, "alice@example.org");
    EXPECT_EQ(escaped.find('/'), std::string::npos) << escaped;
    EXPECT_EQ(escaped.find(':'), std::string::npos) << escaped;
    EXPECT_EQ(std::count(escaped.begin(), escaped.end(), '.'), 2) << escaped;
}

// Issue 8, section 5: a copy made before a crash whose done mark was lost is
// found after the restart, in new/ or in cur/ where a mail client moved it,
// and not made again; with both ways of making copies.
TEST_F(MaildirFixture, RecoveredMessageFindsItsCopyInNewOrCurAndMakesNoOther) {
    for (const auto& [label, options] : strategies) {
        SCOPED_TRACE(label);
        fs::remove_all(root / "example.org");
        const auto mailbox = root / "example.org" / "alice";
        ASSERT_EQ(make_courier(options)->deliver(message, "alice@example.org").status, DeliveryStatus::delivered);
        auto recovered = message;
        recovered.recovered = true;
        // The restart: a new courier, the same message again.
        auto outcome = make_courier(options)->deliver(recovered, "alice@example.org");
        EXPECT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
        EXPECT_NE(outcome.detail.find("already delivered"), std::string::npos) << outcome.detail;
        ASSERT_EQ(files_in(mailbox / "new").size(), 1u) << "a second copy in new/";
        // A mail client read it: new/<name> -> cur/<name>:2,S
        const auto copy = files_in(mailbox / "new").at(0);
        fs::rename(copy, mailbox / "cur" / (copy.filename().string() + ":2,S"));
        outcome = make_courier(options)->deliver(recovered, "alice@example.org");
        EXPECT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
        EXPECT_NE(outcome.detail.find("already delivered"), std::string::npos) << outcome.detail;
        EXPECT_TRUE(files_in(mailbox / "new").empty()) << "a second copy in new/ after the client moved the first";
        EXPECT_EQ(files_in(mailbox / "cur").size(), 1u);
        EXPECT_TRUE(files_in(mailbox / "tmp").empty());
        // Another mailbox of the same message is not mistaken for it.
        EXPECT_EQ(make_courier(options)->deliver(recovered, "bob@example.org").status, DeliveryStatus::delivered);
        EXPECT_EQ(files_in(root / "example.org" / "bob" / "new").size(), 1u);
    }
}

// The O_TMPFILE path needs no lookup: linkat refuses the existing name, which
// says the copy is there (e.g. an attempt whose outcome was lost in this run).
TEST_F(MaildirFixture, ExistingNameInNewIsAlreadyDelivered) {
    if (!supports_tmpfile(root)) GTEST_SKIP() << root << " does not support O_TMPFILE";
    auto courier = make_courier({.open_mailboxes = 32, .anonymous_files = true});
    ASSERT_EQ(courier->deliver(message, "alice@example.org").status, DeliveryStatus::delivered);
    const auto outcome = courier->deliver(message, "alice@example.org");
    EXPECT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
    EXPECT_NE(outcome.detail.find("already delivered"), std::string::npos) << outcome.detail;
    EXPECT_EQ(files_in(root / "example.org" / "alice" / "new").size(), 1u);
}

// The classic protocol: a tmp/<name> left by a crash before its rename is this
// copy's own and does not block the retry.
TEST_F(MaildirFixture, LeftoverTmpFileOfACrashedAttemptIsReplaced) {
    auto courier = make_courier({.open_mailboxes = 32, .anonymous_files = false});
    const auto mailbox = root / "example.org" / "alice";
    fs::create_directories(mailbox / "tmp");
    std::ofstream(mailbox / "tmp" / courier->copy_name(message, "alice@example.org")) << "half a message";
    const auto outcome = courier->deliver(message, "alice@example.org");
    ASSERT_EQ(outcome.status, DeliveryStatus::delivered) << outcome.detail;
    const auto files = files_in(mailbox / "new");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(contents(files[0]), "Return-Path: <s@example.net>\r\nDelivered-To: alice@example.org\r\n" + *message.data);
    EXPECT_TRUE(files_in(mailbox / "tmp").empty());
}

}  // namespace
}  // namespace cartero::delivery
