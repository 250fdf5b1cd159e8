// FsSpool commit path and committer thread; see fs_spool.hpp and docs/queue.md.
//
// Why a crash at each point of a batch is safe:
//   - before pwritev: nothing of the batch is on disk and no callback ran, so
//     no client got a 250; they retry.
//   - during pwritev or before fdatasync returns: some records may be on disk,
//     possibly torn. No callback ran. Recovery cuts a torn tail of the last
//     segment at the first invalid record; a record that did reach the disk
//     intact is recovered and delivered although its client saw no 250 (the
//     client may send it again: a duplicate, never a loss).
//   - after fdatasync, before or during the callbacks: every record of the
//     batch is durable; recovery returns them all.
//   - DONE records ride in the same batches and are synced the same way; one
//     lost in a crash means that recipient is delivered again (at-least-once).
#include "spool/fs_spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <random>
#include <spdlog/spdlog.h>

#include "base/file_io.hpp"

namespace cartero::spool {
namespace {

std::uint64_t random_nonce() {
    std::random_device random;
    return static_cast<std::uint64_t>(random()) << 32 | random();
}

void call_all(std::vector<std::function<void(std::error_code)>>& callbacks, std::error_code error) {
    for (auto& callback : callbacks) callback(error);
}

}  // namespace

FsSpool::FsSpool(FsSpoolOptions options) : options_(std::move(options)), nonce_(random_nonce()) {
    std::filesystem::create_directories(options_.directory);
    std::filesystem::permissions(options_.directory, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    std::error_code error;
    lock_ = base::open_file(options_.directory / "lock", O_RDWR | O_CREAT, error);
    if (error) throw std::system_error(error, "spool: cannot open " + (options_.directory / "lock").string());
    // Two processes appending to one spool would interleave records and reuse
    // segment numbers: refuse to start instead.
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
        throw std::system_error(base::last_error(), "spool: " + options_.directory.string() +
                                " is in use by another cartero process (stop it, or give this one another data_dir)");
}

FsSpool::~FsSpool() { close(); }

void FsSpool::commit(std::string id, Envelope envelope, std::shared_ptr<const std::string> data,
                     std::function<void(std::error_code)> done) {
    // Encoding (and the checksum over the data) runs on the caller's thread, so
    // sessions on every core share that work; the committer only writes.
    PendingCommit pending{id, envelope.recipients.size(),
                          record::encode_message(id, envelope, std::vector<bool>(envelope.recipients.size()),
                                                 std::move(data), nonce_),
                          std::move(done)};
    {
        std::lock_guard lock(mutex_);
        if (running_ && !stopping_) {
            commits_.push_back(std::move(pending));
            wake_.notify_one();
            return;
        }
    }
    pending.done(std::make_error_code(std::errc::operation_canceled));
}

void FsSpool::mark_done(const std::string& id, std::size_t index) {
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_) return;  // lost mark: that recipient may be delivered again
    marks_.push_back(PendingMark{id, static_cast<std::uint32_t>(index)});
    wake_.notify_one();
}

// Lazily durable like mark_done: rides with the next batch, or after done_linger.
void FsSpool::save_state(const std::string& id, const DeliveryState& state) {
    PendingState pending{id, record::encode_state(id, state, nonce_)};
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_) return;  // lost state: one attempt's bookkeeping, never mail
    states_.push_back(std::move(pending));
    wake_.notify_one();
}

void FsSpool::close() {
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
        stopping_ = true;
        wake_.notify_one();
    }
    committer_.join();  // the committer writes whatever was queued before it exits
    std::lock_guard lock(mutex_);
    running_ = false;
}

void FsSpool::run() {
    for (;;) {
        Batch batch = take_batch();
        if (!batch.commits.empty() || !batch.marks.empty() || !batch.states.empty()) write_batch(batch);
        if (batch.stopping) return;
    }
}

FsSpool::Batch FsSpool::take_batch() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return stopping_ || !commits_.empty() || !marks_.empty() || !states_.empty(); });
    // DONE marks alone may wait a little for commits to share a sync with.
    if (commits_.empty() && !stopping_)
        wake_.wait_for(lock, options_.done_linger, [this] { return stopping_ || !commits_.empty(); });
    Batch batch;
    batch.commits.swap(commits_);
    batch.marks.swap(marks_);
    batch.states.swap(states_);
    batch.stopping = stopping_ && batch.commits.empty() && batch.marks.empty() && batch.states.empty();
    return batch;
}

void FsSpool::write_batch(Batch& batch) {
    std::vector<std::string> done_records;
    done_records.reserve(batch.marks.size());
    for (const auto& mark : batch.marks) done_records.push_back(record::encode_done(mark.id, mark.index, nonce_));
    AppendBuffers buffers;
    for (const auto& pending : batch.commits) buffers.add(pending.encoded);
    for (const auto& done : done_records) buffers.add(done);
    for (const auto& state : batch.states) buffers.add(state.encoded);
    if (std::error_code error = rotate_if_full(buffers.size())) return fail_batch(batch, error);
    if (std::error_code error = append(buffers)) return fail_batch(batch, error);

    // Durable: answer the sessions first (they are waiting to send 250), then book-keep.
    std::vector<std::function<void(std::error_code)>> callbacks;
    for (auto& pending : batch.commits) {
        registry_.add_message(pending.id, active_.sequence, std::vector<bool>(pending.recipients),
                              {active_.sequence});
        callbacks.push_back(std::move(pending.done));
    }
    call_all(callbacks, {});
    for (const auto& mark : batch.marks) registry_.mark(mark.id, mark.index, active_.sequence);
    for (const auto& state : batch.states) registry_.set_state(state.id, active_.sequence);
    delete_unpinned_segments();
}

void AppendBuffers::add(const record::EncodedMessage& message) {
    static const std::string zeros(record::alignment, '\0');
    add_bytes(message.head.data(), message.head.size());
    add_bytes(message.data->data(), message.data->size());
    add_bytes(zeros.data(), message.padding);
}

void AppendBuffers::add(std::string_view encoded) { add_bytes(encoded.data(), encoded.size()); }

void AppendBuffers::add_bytes(const void* bytes, std::size_t length) {
    if (length == 0) return;
    buffers_.push_back(iovec{const_cast<void*>(bytes), length});
    size_ += length;
}

// One write and one sync for everything in `buffers`: the group commit.
std::error_code FsSpool::append(AppendBuffers& buffers) {
    if (std::error_code error = base::pwritev_all(active_.fd.get(), buffers.buffers(), active_.offset)) return error;
    if (::fdatasync(active_.fd.get()) != 0) return base::last_error();
    active_.offset += buffers.size();
    return {};
}

std::error_code FsSpool::rotate_if_full(std::uint64_t incoming) {
    const bool has_records = active_.offset > segment_header_size;
    const bool full = active_.offset + incoming > options_.segment_size && has_records;
    if (!full && !active_failed_) return {};
    // Give back the preallocated space of the finished segment. Not synced: if
    // the truncation is lost, the rest of the file is zeros, which recovery
    // reads as the end of the log.
    const int finished = active_.fd.get();
    if (::ftruncate(finished, static_cast<off_t>(active_.offset)) != 0)
        spdlog::warn("spool: cannot trim segment {}: {}", active_.sequence, base::last_error().message());
    if (std::error_code error = start_new_segment()) return error;
    active_failed_ = false;
    delete_unpinned_segments();
    return {};
}

// After a failed write or sync, the bytes past active_.offset are unknown (and
// after a failed fdatasync, so may be the page cache: see PostgreSQL's
// "fsyncgate"). Nothing acknowledged is affected, but further appends go to a
// fresh segment; the old one keeps its valid prefix and recovery salvages it.
void FsSpool::retire_active_after_failure() {
    active_failed_ = true;
    if (::ftruncate(active_.fd.get(), static_cast<off_t>(active_.offset)) != 0)
        spdlog::warn("spool: cannot cut failed write off segment {}: {}", active_.sequence,
                     base::last_error().message());
}

void FsSpool::fail_batch(Batch& batch, std::error_code error) {
    spdlog::error("spool: cannot write to segment {}: {}; {} messages refused", active_.sequence, error.message(),
                  batch.commits.size());
    retire_active_after_failure();
    {
        // The marks are not lost: they go out with the next batch.
        std::lock_guard lock(mutex_);
        marks_.insert(marks_.begin(), batch.marks.begin(), batch.marks.end());
        states_.insert(states_.begin(), std::make_move_iterator(batch.states.begin()),
                       std::make_move_iterator(batch.states.end()));
    }
    std::vector<std::function<void(std::error_code)>> callbacks;
    for (auto& pending : batch.commits) callbacks.push_back(std::move(pending.done));
    call_all(callbacks, error);
}

std::error_code FsSpool::start_new_segment() {
    OpenSegment next;
    const std::uint64_t sequence = active_.sequence + 1;
    if (std::error_code error = create_segment(options_.directory, sequence, nonce_, options_.segment_size, next))
        return error;
    active_ = std::move(next);
    registry_.open_segment(active_.sequence);
    return {};
}

// Oldest first, with a directory fsync after each unlink: a segment whose
// records a later one depends on must be gone for good before that later one
// goes (segment_registry.hpp). An unlink lost in a crash only brings back a
// segment whose messages are all done.
void FsSpool::delete_unpinned_segments() {
    while (auto sequence = registry_.next_deletable()) {
        std::error_code error;
        std::filesystem::remove(segment_path(options_.directory, *sequence), error);
        if (!error) error = base::fsync_directory(options_.directory);
        if (error) {
            spdlog::warn("spool: cannot delete segment {}: {}; will retry", *sequence, error.message());
            return;
        }
        registry_.deleted(*sequence);
    }
}

std::unique_ptr<Spool> open_fs_spool(const FsSpoolOptions& options) { return std::make_unique<FsSpool>(options); }

}  // namespace cartero::spool
