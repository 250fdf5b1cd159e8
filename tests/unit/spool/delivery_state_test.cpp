// STATE records (a message's delivery state, spool.hpp DeliveryState): the
// record round trip and its tolerance rules (record.hpp), and both spools
// giving the newest state back at recovery.
#include <gtest/gtest.h>

#include <thread>

#include "spool/record.hpp"
#include "spool/segment.hpp"
#include "spool_fixture.hpp"

namespace cartero::spool {
namespace {

using namespace std::chrono_literals;
using testing::commit_now;
using testing::fresh_directory;
using testing::small_segments;

DeliveryState sample_state() {
    DeliveryState state;
    state.attempts = 7;
    state.next_attempt = 1'750'000'123;
    state.held = true;
    state.delay_warned = true;
    state.recipients = {{RecipientOutcome::delivered, ""},
                        {RecipientOutcome::unknown, "connect to 127.0.0.1:1: Connection refused"},
                        {RecipientOutcome::bounced, "said: 550 5.1.1 no such user"}};
    return state;
}

bool same(const DeliveryState& a, const DeliveryState& b) {
    if (a.attempts != b.attempts || a.next_attempt != b.next_attempt || a.held != b.held ||
        a.delay_warned != b.delay_warned || a.recipients.size() != b.recipients.size())
        return false;
    for (std::size_t i = 0; i < a.recipients.size(); ++i)
        if (a.recipients[i].outcome != b.recipients[i].outcome || a.recipients[i].last_error != b.recipients[i].last_error)
            return false;
    return true;
}

// The payload of an encoded record, through the same reader recovery uses.
std::string payload_of(const std::string& encoded) {
    const auto view = record::read_at(encoded, 0, 42);
    EXPECT_EQ(view.status, record::View::Status::valid);
    EXPECT_EQ(view.type, record::Type::state);
    return std::string(view.payload);
}

TEST(StateRecord, RoundTrips) {
    const auto decoded = record::decode_state(payload_of(record::encode_state("0123456789ABCDEF", sample_state(), 42)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->id, "0123456789ABCDEF");
    EXPECT_TRUE(same(decoded->state, sample_state()));
}

TEST(StateRecord, LastErrorIsCutAtTheLimit) {
    DeliveryState state;
    state.recipients = {{RecipientOutcome::unknown, std::string(max_error_text + 500, 'e')}};
    const auto decoded = record::decode_state(payload_of(record::encode_state("ID", state, 42)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->state.recipients.at(0).last_error.size(), max_error_text);
}

// A later version may append fields and flag bits; this one reads what it knows.
TEST(StateRecord, ToleratesTrailingDataUnknownFlagsAndOutcomes) {
    std::string payload = payload_of(record::encode_state("ID", sample_state(), 42));
    payload += std::string("\x01\x02\x03later fields", 15);
    const std::size_t flags_at = 2 + 2 + 4 + 8;  // id length, "ID", attempts, next_attempt
    payload[flags_at] = static_cast<char>(payload[flags_at] | 0x80);
    const std::size_t first_outcome_at = flags_at + 1 + 4;
    payload[first_outcome_at] = 9;
    const auto decoded = record::decode_state(payload);
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->state.held);
    EXPECT_EQ(decoded->state.recipients.at(0).outcome, RecipientOutcome::unknown);
    EXPECT_EQ(decoded->state.recipients.at(1).last_error, sample_state().recipients[1].last_error);
}

// Every field is counted, so a cut anywhere before the end is seen.
TEST(StateRecord, TruncatedPayloadIsRefused) {
    const std::string payload = payload_of(record::encode_state("ID", sample_state(), 42));
    for (std::size_t cut = 0; cut < payload.size(); ++cut) {
        EXPECT_FALSE(record::decode_state(std::string_view(payload).substr(0, cut))) << "cut at " << cut;
    }
}

TEST(StateRecord, HugeRecipientCountIsDamageNotAnAllocation) {
    std::string payload = payload_of(record::encode_state("ID", DeliveryState{}, 42));
    const std::size_t count_at = 2 + 2 + 4 + 8 + 1;
    for (std::size_t i = 0; i < 4; ++i) payload[count_at + i] = '\xff';
    EXPECT_FALSE(record::decode_state(payload));
}

TEST(MemorySpoolState, RecoverReturnsTheLastSavedState) {
    auto spool = make_memory_spool();
    const auto id = commit_now(*spool, "data", {"a@x", "b@x", "c@x"});
    spool->save_state(id, DeliveryState{1, 5, false, false, {}});
    spool->save_state(id, sample_state());
    spool->save_state("unknown", sample_state());
    const auto recovered = spool->recover();
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_TRUE(same(recovered[0].state, sample_state()));
}

TEST(FsSpoolState, RecoverReturnsTheNewestStateAfterARestart) {
    const auto directory = fresh_directory("state");
    std::string id;
    {
        auto spool = open_fs_spool(small_segments(directory));
        EXPECT_TRUE(spool->recover().empty());
        id = commit_now(*spool, "Subject: s\r\n\r\nbody\r\n", {"a@x", "b@x", "c@x"});
        spool->save_state(id, DeliveryState{1, 100, false, false, {}});
        spool->save_state(id, sample_state());
        spool->close();
    }
    auto spool = open_fs_spool(small_segments(directory));
    const auto recovered = spool->recover();
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_EQ(recovered[0].id, id);
    EXPECT_TRUE(same(recovered[0].state, sample_state()));
    spool->close();
    std::filesystem::remove_all(directory);
}

// Each state supersedes the one before, so a deferred message pins only the
// segment of its newest state, not every segment it ever wrote one into.
TEST(FsSpoolState, OlderStateSegmentsAreReclaimed) {
    const auto directory = fresh_directory("state-segments");
    std::string id;
    {
        auto spool = open_fs_spool(small_segments(directory, 4096));
        EXPECT_TRUE(spool->recover().empty());
        id = commit_now(*spool, "Subject: s\r\n\r\nbody\r\n", {"a@x"});
        for (std::uint32_t attempt = 1; attempt <= 40; ++attempt) {
            spool->save_state(id, DeliveryState{attempt, attempt, false, false, {}});
            std::this_thread::sleep_for(10ms);  // written on its own (done_linger is 1 ms)
            // Other mail fills a new segment meanwhile and completes there.
            const auto other = commit_now(*spool, std::string(3000, 'x'), {"b@x"});
            spool->mark_done(other, 0);
            std::this_thread::sleep_for(10ms);
        }
        spool->close();
    }
    const auto segments = list_segments(directory);
    EXPECT_LE(segments.size(), 5u) << "segments holding only superseded states were kept";
    auto spool = open_fs_spool(small_segments(directory, 4096));
    const auto recovered = spool->recover();
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_EQ(recovered[0].id, id);
    EXPECT_EQ(recovered[0].state.attempts, 40u);
    spool->close();
    std::filesystem::remove_all(directory);
}

TEST(FsSpoolState, StateOfACompleteMessageIsIgnored) {
    const auto directory = fresh_directory("state-done");
    {
        auto spool = open_fs_spool(small_segments(directory));
        EXPECT_TRUE(spool->recover().empty());
        const auto id = commit_now(*spool, "data", {"a@x"});
        spool->save_state(id, sample_state());
        spool->mark_done(id, 0);
        spool->save_state(id, sample_state());  // late: after the message completed
        spool->close();
    }
    auto spool = open_fs_spool(small_segments(directory));
    EXPECT_TRUE(spool->recover().empty());
    spool->close();
    std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace cartero::spool
