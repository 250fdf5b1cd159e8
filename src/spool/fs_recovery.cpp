// FsSpool start-up: rebuilds the queue from the segment files.
//
// Each segment is read whole and scanned (segment.hpp). Then:
//   - a garbage tail in the LAST segment is a torn batch (crash mid-write): it
//     was never synced, so no client got a 250 for it; the file is cut back to
//     its last valid record and synced;
//   - a garbage tail in any other segment, or invalid bytes with valid records
//     after them in any segment, is damage: the valid records are salvaged,
//     the live messages (and done bits) they carry are rewritten into the new
//     active segment and synced, and only then the file moves to corrupt/ for
//     the operator, so nothing readable is lost and nothing is deleted;
//   - a segment without a valid first record also goes to corrupt/.
// Done bits are the OR of every copy and DONE record of a message, so records
// may be found in any order and more than once. A crash during recovery is
// safe: every step either leaves the old files in place or has already made
// their contents durable elsewhere.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <spdlog/spdlog.h>

#include "base/file_io.hpp"
#include "spool/fs_spool.hpp"

namespace cartero::spool {

struct RecoveryFindings {
    struct Found {
        QueuedMessage message;
        std::uint64_t home = 0;                // segment of the newest copy
        std::vector<std::uint64_t> segments;  // every segment with a record of it
        std::uint64_t state_segment = 0;      // segment of its newest STATE record; 0 = none
    };
    std::map<std::string, Found> messages;  // ordered by ID, which is time order
    std::vector<std::pair<record::Done, std::uint64_t>> dones;
    std::vector<std::pair<record::State, std::uint64_t>> states;  // in log order: the last one wins
    // DONE records older than the newest copy of their message: that segment
    // will not be kept for them (the registry pins a live message's segments
    // from its newest copy on), so recover() writes them again.
    std::vector<record::Done> older_than_copy;
    std::set<std::uint64_t> damaged;
    std::vector<std::uint64_t> healthy;
};

namespace {

bool all_done(const std::vector<bool>& done) {
    return std::all_of(done.begin(), done.end(), [](bool d) { return d; });
}

void add_copy(std::map<std::string, RecoveryFindings::Found>& messages, QueuedMessage message,
              std::uint64_t sequence) {
    auto [it, inserted] = messages.try_emplace(message.id);
    auto& found = it->second;
    if (inserted || found.message.done.size() != message.done.size()) {
        found.message = std::move(message);
    } else {
        for (std::size_t i = 0; i < message.done.size(); ++i)
            if (message.done[i]) found.message.done[i] = true;
    }
    found.home = sequence;
    found.segments.push_back(sequence);
}

void cut_torn_tail(const std::filesystem::path& path, std::size_t valid_end) {
    spdlog::warn("spool: {}: cutting a torn write at offset {} (a crash before its sync)", path.string(),
                 valid_end);
    std::error_code error;
    base::UniqueFd fd = base::open_file(path, O_WRONLY, error);
    if (!error && (::ftruncate(fd.get(), static_cast<off_t>(valid_end)) != 0 || ::fdatasync(fd.get()) != 0))
        error = base::last_error();
    if (error) throw std::system_error(error, "spool: cannot cut the torn tail of " + path.string());
}

void move_to_corrupt(const std::filesystem::path& directory, std::uint64_t sequence) {
    const auto corrupt = directory / "corrupt";
    std::filesystem::create_directories(corrupt);
    const auto from = segment_path(directory, sequence);
    std::filesystem::rename(from, corrupt / from.filename());
    for (const auto& changed : {corrupt, directory})
        if (auto error = base::fsync_directory(changed))
            throw std::system_error(error, "spool: cannot sync " + changed.string());
    spdlog::error("spool: moved damaged segment {} to {}", from.filename().string(), corrupt.string());
}

// Reads one segment into `findings`.
void load_segment(const std::filesystem::path& directory, std::uint64_t sequence, bool last,
                  RecoveryFindings& findings) {
    const auto path = segment_path(directory, sequence);
    std::error_code error;
    base::UniqueFd fd = base::open_file(path, O_RDONLY, error);
    std::string bytes;
    if (!error) error = base::read_whole(fd.get(), bytes);
    if (error) throw std::system_error(error, "spool: cannot read " + path.string());
    const SegmentScan scan = scan_segment(bytes);
    if (!scan.header) {
        spdlog::error("spool: {} has no valid segment header", path.string());
        findings.damaged.insert(sequence);
        return;
    }
    if (scan.garbage_tail && last && !scan.holes) {
        cut_torn_tail(path, scan.valid_end);
    } else if (scan.garbage_tail || scan.holes) {
        spdlog::error("spool: {} is damaged; salvaging {} valid records", path.string(), scan.records.size());
        findings.damaged.insert(sequence);
    }
    for (const auto& view : scan.records) {
        if (view.type == record::Type::message) {
            if (auto message = record::decode_message(view.payload))
                add_copy(findings.messages, std::move(*message), sequence);
            else
                findings.damaged.insert(sequence);
        } else if (view.type == record::Type::done) {
            if (auto done = record::decode_done(view.payload)) findings.dones.emplace_back(std::move(*done), sequence);
        } else if (view.type == record::Type::state) {
            if (auto state = record::decode_state(view.payload)) findings.states.emplace_back(std::move(*state), sequence);
        }
    }
    if (!findings.damaged.contains(sequence)) findings.healthy.push_back(sequence);
}

void apply_dones(RecoveryFindings& findings) {
    for (const auto& [done, sequence] : findings.dones) {
        const auto found = findings.messages.find(done.id);
        // Unknown ID: its message's segment was deleted once it was complete.
        if (found == findings.messages.end() || done.index >= found->second.message.done.size()) continue;
        found->second.message.done[done.index] = true;
        if (sequence < found->second.home)
            findings.older_than_copy.push_back(done);
        else
            found->second.segments.push_back(sequence);
    }
}

// Segments are read oldest first and records in file order, so the last
// STATE of a message is its newest. States of unknown IDs (complete
// messages) are dropped.
void apply_states(RecoveryFindings& findings) {
    for (auto& [state, sequence] : findings.states) {
        const auto found = findings.messages.find(state.id);
        if (found == findings.messages.end()) continue;
        found->second.message.state = std::move(state.state);
        found->second.state_segment = sequence;
    }
    findings.states.clear();
}

}  // namespace

std::vector<QueuedMessage> FsSpool::recover() {
    {
        std::lock_guard lock(mutex_);
        if (running_) throw std::logic_error("spool: recover() called twice");
    }
    RecoveryFindings findings;
    const auto sequences = list_segments(options_.directory);
    for (auto sequence : sequences) load_segment(options_.directory, sequence, sequence == sequences.back(), findings);
    apply_dones(findings);
    apply_states(findings);

    active_.sequence = sequences.empty() ? 0 : sequences.back();
    if (auto error = start_new_segment()) throw std::system_error(error, "spool: cannot create a segment");
    rewrite_damaged_states(findings);  // before relocation moves the damaged files away
    relocate_out_of_damaged(findings);
    rewrite_older_dones(findings);
    register_recovered(findings);
    register_states(findings);
    delete_unpinned_segments();

    std::vector<QueuedMessage> live;
    for (auto& [id, found] : findings.messages) {
        if (auto stamp = queue_id_stamp(id)) ids_.advance_past(*stamp);
        if (!all_done(found.message.done)) live.push_back(std::move(found.message));
    }
    start_committer();
    spdlog::info("spool: recovered {} queued messages from {} segments", live.size(), sequences.size());
    return live;
}

// Rewrites into the active segment what the damaged segments held that is
// still needed: live messages whose newest copy is there (with their done
// bits), and the done bits of other messages with DONE records there. One
// sync; only then are the damaged files moved away.
void FsSpool::relocate_out_of_damaged(RecoveryFindings& findings) {
    if (findings.damaged.empty()) return;
    std::vector<record::EncodedMessage> copies;
    std::vector<std::string> dones;
    for (auto& [id, found] : findings.messages) {
        auto& segments = found.segments;
        const auto before = segments.size();
        std::erase_if(segments, [&](std::uint64_t s) { return findings.damaged.contains(s); });
        if (segments.size() == before) continue;
        const auto& message = found.message;
        if (findings.damaged.contains(found.home) && !all_done(message.done)) {
            copies.push_back(record::encode_message(id, message.envelope, message.done, message.data, nonce_));
            found.home = active_.sequence;
        } else {
            for (std::uint32_t i = 0; i < message.done.size(); ++i)
                if (message.done[i]) dones.push_back(record::encode_done(id, i, nonce_));
        }
        segments.push_back(active_.sequence);
    }
    AppendBuffers buffers;
    for (const auto& copy : copies) buffers.add(copy);
    for (const auto& done : dones) buffers.add(done);
    if (auto error = append(buffers)) throw std::system_error(error, "spool: cannot salvage damaged segments");
    for (auto sequence : findings.damaged) move_to_corrupt(options_.directory, sequence);
}

// Without this, deleting the segment of such a DONE would bring its recipient
// back as undelivered at the next start (found by fuzz/recovery_fuzzer).
void FsSpool::rewrite_older_dones(RecoveryFindings& findings) {
    if (findings.older_than_copy.empty()) return;
    std::vector<std::string> dones;
    for (const auto& done : findings.older_than_copy) {
        dones.push_back(record::encode_done(done.id, done.index, nonce_));
        findings.messages.at(done.id).segments.push_back(active_.sequence);
    }
    AppendBuffers buffers;
    for (const auto& encoded : dones) buffers.add(encoded);
    if (auto error = append(buffers)) throw std::system_error(error, "spool: cannot rewrite done marks");
}

void FsSpool::register_recovered(const RecoveryFindings& findings) {
    for (auto sequence : findings.healthy) registry_.open_segment(sequence);
    registry_.open_segment(active_.sequence);
    for (const auto& [id, found] : findings.messages)
        registry_.add_message(id, found.home, found.message.done, found.segments);
}

// A live message's newest STATE found in a damaged segment is written again
// (synced) into the active segment; otherwise it would go to corrupt/ with
// the file and the message would restart its retries from nothing.
void FsSpool::rewrite_damaged_states(RecoveryFindings& findings) {
    std::vector<std::string> states;
    for (auto& [id, found] : findings.messages) {
        if (found.state_segment == 0 || !findings.damaged.contains(found.state_segment) || all_done(found.message.done))
            continue;
        states.push_back(record::encode_state(id, found.message.state, nonce_));
        found.state_segment = active_.sequence;
    }
    if (states.empty()) return;
    AppendBuffers buffers;
    for (const auto& encoded : states) buffers.add(encoded);
    if (auto error = append(buffers)) throw std::system_error(error, "spool: cannot rewrite delivery states");
}

// The segment of each live message's newest STATE stays while that is its newest.
void FsSpool::register_states(const RecoveryFindings& findings) {
    for (const auto& [id, found] : findings.messages)
        if (found.state_segment != 0 && !all_done(found.message.done)) registry_.set_state(id, found.state_segment);
}

void FsSpool::start_committer() {
    std::lock_guard lock(mutex_);
    running_ = true;
    committer_ = std::thread([this] { run(); });
}

}  // namespace cartero::spool
