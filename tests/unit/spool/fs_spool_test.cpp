#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "base/file_io.hpp"
#include "spool/segment.hpp"
#include "spool_fixture.hpp"

namespace cartero::spool {
namespace {

using testing::commit_now;
using testing::small_segments;

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::set<std::string> ids_of(const std::vector<QueuedMessage>& messages) {
    std::set<std::string> ids;
    for (const auto& message : messages) ids.insert(message.id);
    return ids;
}

std::vector<QueuedMessage> reopen(const std::filesystem::path& directory) {
    auto spool = open_fs_spool(small_segments(directory));
    auto messages = spool->recover();
    spool->close();
    return messages;
}

TEST(FsSpool, CommitThenRecoverRoundTrip) {
    const auto directory = testing::fresh_directory("roundtrip");
    std::string first, second;
    const std::string big(300000, 'b');
    {
        auto spool = open_fs_spool(small_segments(directory));
        ASSERT_TRUE(spool->recover().empty());
        first = commit_now(*spool, "Subject: one\r\n\r\n.\r\n", {"a@x", "b@x"});
        second = commit_now(*spool, big);
        spool->mark_done(first, 1);
        spool->close();
    }
    const auto recovered = reopen(directory);
    ASSERT_EQ(recovered.size(), 2u);
    EXPECT_EQ(recovered[0].id, first) << "recovered in ID (time) order";
    EXPECT_EQ(*recovered[0].data, "Subject: one\r\n\r\n.\r\n");
    EXPECT_EQ(recovered[0].envelope.recipients, (std::vector<std::string>{"a@x", "b@x"}));
    EXPECT_EQ(recovered[0].done, (std::vector<bool>{false, true}));
    EXPECT_EQ(*recovered[1].data, big);
    std::filesystem::remove_all(directory);
}

// RFC 3461 parameters and the origin (which decides DKIM signing and SRS)
// survive a restart, and a DONE mark (which makes recovery copy the message
// forward) keeps them too.
TEST(FsSpool, DsnParametersSurviveRecovery) {
    const auto directory = testing::fresh_directory("dsn");
    {
        auto spool = open_fs_spool(small_segments(directory));
        spool->recover();
        Envelope envelope = testing::envelope_to({"a@x", "b@x"});
        envelope.ret = DsnReturn::headers;
        envelope.envid = "ENV 1";
        envelope.recipient_dsn = {{smtp::notify_never, "", ""}, {smtp::notify_delay, "rfc822", "B@x"}};
        envelope.origin = Origin::trusted_network;
        std::promise<std::error_code> done;
        const std::string id = spool->new_id();
        spool->commit(id, envelope, std::make_shared<const std::string>("x"),
                      [&done](std::error_code error) { done.set_value(error); });
        ASSERT_FALSE(done.get_future().get());
        spool->mark_done(id, 0);
        spool->close();
    }
    for (int round = 0; round < 2; ++round) {
        const auto recovered = reopen(directory);
        ASSERT_EQ(recovered.size(), 1u) << "round " << round;
        const Envelope& got = recovered[0].envelope;
        EXPECT_EQ(got.ret, DsnReturn::headers);
        EXPECT_EQ(got.envid, "ENV 1");
        EXPECT_EQ(got.dsn(0), (RecipientDsn{smtp::notify_never, "", ""}));
        EXPECT_EQ(got.dsn(1), (RecipientDsn{smtp::notify_delay, "rfc822", "B@x"}));
        EXPECT_EQ(got.origin, Origin::trusted_network);
        EXPECT_EQ(recovered[0].done, (std::vector<bool>{true, false}));
    }
    std::filesystem::remove_all(directory);
}

TEST(FsSpool, DoneMessagesAreNotRecovered) {
    const auto directory = testing::fresh_directory("done");
    {
        auto spool = open_fs_spool(small_segments(directory));
        spool->recover();
        const auto id = commit_now(*spool, "x", {"a@x", "b@x"});
        spool->mark_done(id, 0);
        spool->mark_done(id, 1);
        spool->close();
    }
    EXPECT_TRUE(reopen(directory).empty());
    std::filesystem::remove_all(directory);
}

TEST(FsSpool, CommitBeforeRecoverIsRefused) {
    const auto directory = testing::fresh_directory("norecover");
    auto spool = open_fs_spool(small_segments(directory));
    EXPECT_THROW(commit_now(*spool, "x"), std::system_error);
    EXPECT_THROW(open_fs_spool(small_segments(directory)), std::system_error) << "the spool is locked";
    std::filesystem::remove_all(directory);
}

// A crash while the last batch was being written leaves its record cut at any
// byte: the earlier, acknowledged message must come back, the torn one not.
TEST(FsSpool, TornTailAtEveryOffsetIsCutOff) {
    const auto directory = testing::fresh_directory("torn");
    std::string kept, torn;
    {
        auto spool = open_fs_spool(small_segments(directory, 4096));
        spool->recover();
        kept = commit_now(*spool, "kept message");
        torn = commit_now(*spool, "torn message", {"a@x", "b@x"});
        spool->close();
    }
    const auto segments = list_segments(directory);
    ASSERT_EQ(segments.size(), 1u);
    const auto path = segment_path(directory, segments[0]);
    const std::string original = read_file(path);
    const SegmentScan scan = scan_segment(original);
    ASSERT_EQ(scan.records.size(), 2u);
    const std::size_t torn_start = scan.records[1].payload.data() - original.data() - record::header_size;
    // Padding after the payload is not checksummed: a cut there leaves the record whole.
    const std::size_t torn_end = scan.records[1].payload.data() + scan.records[1].payload.size() - original.data();
    for (std::size_t cut = torn_start; cut < torn_end; ++cut) {
        std::filesystem::remove_all(directory);
        std::filesystem::create_directories(directory);
        // Keep the zeros of the preallocation after the cut, as a real crash would.
        write_file(path, original.substr(0, cut) + std::string(original.size() - cut, '\0'));
        const auto ids = ids_of(reopen(directory));
        EXPECT_EQ(ids, std::set<std::string>{kept}) << "cut at " << cut << ": got " << ids.size() << " messages";
        EXPECT_FALSE(std::filesystem::exists(directory / "corrupt")) << "cut at " << cut;
    }
    std::filesystem::remove_all(directory);
}

TEST(FsSpool, DamagedRecordMovesSegmentToCorruptAfterSalvage) {
    const auto directory = testing::fresh_directory("damage");
    std::string before, damaged, after;
    {
        auto spool = open_fs_spool(small_segments(directory));
        spool->recover();
        before = commit_now(*spool, "before");
        damaged = commit_now(*spool, "damaged message body");
        after = commit_now(*spool, "after");
        spool->close();
    }
    const auto path = segment_path(directory, list_segments(directory).at(0));
    std::string bytes = read_file(path);
    const auto at = bytes.find("damaged message body");
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'D';
    write_file(path, bytes);
    EXPECT_EQ(ids_of(reopen(directory)), (std::set<std::string>{before, after}));
    EXPECT_TRUE(std::filesystem::exists(directory / "corrupt" / path.filename()));
    // The salvaged messages were rewritten durably: a second restart still has them.
    EXPECT_EQ(ids_of(reopen(directory)), (std::set<std::string>{before, after}));
    std::filesystem::remove_all(directory);
}

TEST(FsSpool, ConcurrentCommittersAllCompleteOnceAndRecover) {
    const auto directory = testing::fresh_directory("concurrent");
    constexpr int threads = 8, per_thread = 150;
    std::atomic<int> callbacks{0}, failures{0};
    std::vector<std::string> ids(threads * per_thread);
    {
        auto spool = open_fs_spool(small_segments(directory, 64 * 1024));
        spool->recover();
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    const std::string id = spool->new_id();
                    ids[t * per_thread + i] = id;
                    spool->commit(id, testing::envelope_to({"a@x"}),
                                  std::make_shared<const std::string>(std::string(1000, 'a' + t)),
                                  [&](std::error_code error) {
                                      ++callbacks;
                                      if (error) ++failures;
                                  });
                }
            });
        for (auto& worker : workers) worker.join();
        spool->close();  // drains the queue: every callback has run when it returns
    }
    EXPECT_EQ(callbacks.load(), threads * per_thread);
    EXPECT_EQ(failures.load(), 0);
    const auto recovered = reopen(directory);
    EXPECT_EQ(ids_of(recovered), std::set<std::string>(ids.begin(), ids.end()));
    std::filesystem::remove_all(directory);
}

TEST(FsSpool, SegmentsRotateAndFinishedOnesAreDeleted) {
    const auto directory = testing::fresh_directory("rotate");
    auto spool = open_fs_spool(small_segments(directory, 4096));
    spool->recover();
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(commit_now(*spool, std::string(1500, 'm')));
    EXPECT_GE(list_segments(directory).size(), 8u) << "1.5 KB messages in 4 KB segments";
    for (const auto& id : ids) spool->mark_done(id, 0);
    commit_now(*spool, "one more batch");  // carries the marks, then rotates
    spool.reset();
    const auto left = list_segments(directory).size();
    EXPECT_LE(left, 2u) << "got " << left << " segments left, want only the newest";
    EXPECT_EQ(reopen(directory).size(), 1u);
    std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace cartero::spool
