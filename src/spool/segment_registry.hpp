// SegmentRegistry: which segment files may be deleted, and when.
//
// Every message has records in one or more segments: its MESSAGE copy (more
// than one copy after recovery relocated it) and DONE records written later.
// Recovery ORs the done bits of every record it finds, so deleting a segment
// must never leave an older record of a message without the newer records
// that mark its recipients done: that would bring a delivered recipient back.
// Hence two rules:
//   - a live message pins its newest copy and every segment after it holding
//     one of its DONE records;
//   - when a message is complete, the oldest segment still holding one of its
//     records anchors a chain: every newer segment with its records stays
//     pinned until the anchor is deleted, then the next one anchors, and so on.
// Segments are deleted oldest first (the caller fsyncs the directory after
// each unlink), so a deletion is durable before a later one can depend on it.
// The active segment is never deleted.
//
// Trust: pure bookkeeping, no I/O; used only by the committer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cartero::spool {

class SegmentRegistry {
public:
    // A new segment that receives appends from now on.
    void open_segment(std::uint64_t sequence);

    // A message whose newest copy is in `home`, with records in `segments`
    // (which must include home). A message already complete only anchors a chain.
    void add_message(const std::string& id, std::uint64_t home, std::vector<bool> done,
                     std::vector<std::uint64_t> segments);

    // Recipient `index` of `id` is done, recorded in segment `sequence`.
    // Unknown IDs and indexes are ignored (a duplicate or late mark).
    void mark(const std::string& id, std::size_t index, std::uint64_t sequence);

    // The newest STATE record of `id` is in segment `sequence`: that segment is
    // pinned while the message is live and this is its newest state (a STATE
    // supersedes the ones before, so their segments are not held for it).
    // Unknown IDs are ignored.
    void set_state(const std::string& id, std::uint64_t sequence);

    // The oldest segment that may be deleted now; call deleted() after unlinking it.
    std::optional<std::uint64_t> next_deletable() const;
    void deleted(std::uint64_t sequence);

    bool is_live(const std::string& id) const { return live_.contains(id); }
    std::size_t live_messages() const { return live_.size(); }
    std::size_t segments() const { return segments_.size(); }
    std::uint64_t active() const { return active_; }

private:
    struct Segment {
        std::size_t pins = 0;
        std::vector<std::vector<std::uint64_t>> chains;  // each: newer segments pinned until this one goes
    };
    struct Message {
        std::uint64_t home = 0;
        std::vector<bool> done;
        std::vector<std::uint64_t> segments;  // ascending, unique
        std::uint64_t state = 0;              // segment of the newest STATE record, pinned; 0 = none
    };

    void complete(Message& message);
    void anchor_chain(std::vector<std::uint64_t> chain);
    void pin(std::uint64_t sequence) { ++segments_[sequence].pins; }
    void unpin(std::uint64_t sequence);

    std::map<std::uint64_t, Segment> segments_;
    std::unordered_map<std::string, Message> live_;
    std::uint64_t active_ = 0;
};

}  // namespace cartero::spool
