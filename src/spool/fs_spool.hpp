// FsSpool: the durable spool as an append-only segment log with group commit.
// Internal header shared by fs_spool.cpp (commit path) and fs_recovery.cpp;
// users go through spool.hpp. Design and durability argument: docs/queue.md.
//
// Threads: commit() and mark_done() run on any thread and only encode and
// enqueue; one committer thread owns the active segment, writes each batch with
// pwritev, syncs it with one fdatasync, then runs the callbacks. While it syncs,
// new commits pile up and form the next batch (group commit).
//
// Trust: envelopes come validated from smtp/ and policy/; message data is
// untrusted octets stored verbatim. Privileges: read/write in the spool
// directory only (mode 0700, owned by the cartero user).
#pragma once

#include <sys/uio.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.hpp"
#include "spool/queue_id.hpp"
#include "spool/record.hpp"
#include "spool/segment.hpp"
#include "spool/segment_registry.hpp"
#include "spool/spool.hpp"

namespace cartero::spool {

struct RecoveryFindings;  // what the segment scan found, defined in fs_recovery.cpp

// The iovecs of one append: records are referenced, never copied.
class AppendBuffers {
public:
    void add(const record::EncodedMessage& message);
    void add(std::string_view encoded);
    std::vector<iovec>& buffers() { return buffers_; }
    std::uint64_t size() const { return size_; }

private:
    void add_bytes(const void* bytes, std::size_t length);
    std::vector<iovec> buffers_;
    std::uint64_t size_ = 0;
};

class FsSpool final : public Spool {
public:
    explicit FsSpool(FsSpoolOptions options);
    ~FsSpool() override;

    std::string new_id() override { return ids_.next(); }
    void commit(std::string id, Envelope envelope, std::shared_ptr<const std::string> data,
                std::function<void(std::error_code)> done) override;
    void mark_done(const std::string& id, std::size_t index) override;
    void save_state(const std::string& id, const DeliveryState& state) override;
    std::vector<QueuedMessage> recover() override;
    void close() override;

private:
    struct PendingCommit {
        std::string id;
        std::size_t recipients = 0;
        record::EncodedMessage encoded;
        std::function<void(std::error_code)> done;
    };
    struct PendingMark {
        std::string id;
        std::uint32_t index = 0;
    };
    struct PendingState {
        std::string id;
        std::string encoded;  // a STATE record, encoded on the caller's thread
    };
    struct Batch {
        std::vector<PendingCommit> commits;
        std::vector<PendingMark> marks;
        std::vector<PendingState> states;
        bool stopping = false;
    };

    // Committer thread (fs_spool.cpp).
    void run();
    Batch take_batch();
    void write_batch(Batch& batch);
    std::error_code append(AppendBuffers& buffers);
    std::error_code rotate_if_full(std::uint64_t incoming);
    void retire_active_after_failure();
    void fail_batch(Batch& batch, std::error_code error);
    void delete_unpinned_segments();

    // Start-up (fs_recovery.cpp).
    void relocate_out_of_damaged(RecoveryFindings& findings);
    void rewrite_older_dones(RecoveryFindings& findings);
    void register_recovered(const RecoveryFindings& findings);
    void rewrite_damaged_states(RecoveryFindings& findings);
    void register_states(const RecoveryFindings& findings);
    void start_committer();
    std::error_code start_new_segment();

    FsSpoolOptions options_;
    base::UniqueFd lock_;
    std::uint64_t nonce_ = 0;
    QueueIdGenerator ids_;

    // Shared between callers and the committer.
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<PendingCommit> commits_;
    std::vector<PendingMark> marks_;
    std::vector<PendingState> states_;
    bool running_ = false;
    bool stopping_ = false;
    std::thread committer_;

    // Owned by the committer thread once it runs (by recover() before that).
    OpenSegment active_;
    bool active_failed_ = false;
    SegmentRegistry registry_;
};

}  // namespace cartero::spool
