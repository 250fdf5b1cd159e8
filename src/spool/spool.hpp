// Spool: where accepted mail lives until every recipient is delivered or bounced.
//
// The contract that the 250 reply rests on (ARCHITECTURE "Durable before 250"):
// commit() calls its completion with success only once the message data and its
// envelope are on stable storage. Commits from many sessions are batched so one
// sync covers many messages (group commit).
//
// Trust: the envelope was validated by smtp/ and policy/ (the DSN fields by
// smtp/dsn_params.hpp: printable ASCII only); the data is untrusted octets stored
// verbatim and never interpreted by the spool.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "smtp/dsn_params.hpp"
#include "smtp/origin.hpp"

namespace cartero::spool {

// The DSN facts (RFC 3461) are smtp/'s types: the spool stores them, bounce/ reads them.
using smtp::DsnReturn;
using smtp::RecipientDsn;
using smtp::Origin;

struct Envelope {
    std::string sender;                   // "local@domain"; "" for the null sender
    std::vector<std::string> recipients;  // "local@domain", in RCPT order
    std::string auth_user;                // authenticated submitter, "" if none
    bool smtputf8 = false;
    bool eight_bit = false;
    std::int64_t received_at = 0;         // unix seconds
    // RFC 3461 DSN parameters. New fields carry default initializers so the envelopes
    // built field by field elsewhere stay complete (and -Wmissing-field-initializers quiet).
    DsnReturn ret = DsnReturn::unset;     // MAIL RET=
    std::string envid = {};               // MAIL ENVID=, decoded; "" = none
    // RCPT NOTIFY= and ORCPT=, parallel to `recipients`. It may be shorter (envelopes
    // made by code that knows nothing of DSN): read it through dsn(i).
    std::vector<RecipientDsn> recipient_dsn = {};
    // Where the message entered (smtp/origin.hpp): whether cartero may DKIM-sign
    // it and whether forwarded copies need SRS. Decided by the session at accept time.
    Origin origin = Origin::internet;

    const RecipientDsn& dsn(std::size_t index) const {
        static const RecipientDsn none;
        return index < recipient_dsn.size() ? recipient_dsn[index] : none;
    }
};

// How far delivery of a message has come, so a restart resumes where it
// stopped instead of retrying everything at once with no history. Written by
// the queue after each attempt and on hold/release, lazily durable like
// mark_done: a state lost in a crash costs the bookkeeping of one attempt
// (one early retry, one attempt not counted), never mail.
enum class RecipientOutcome : std::uint8_t { unknown = 0, delivered = 1, bounced = 2 };

struct RecipientState {
    RecipientOutcome outcome = RecipientOutcome::unknown;  // of a done recipient; unknown while pending
    std::string last_error = {};                           // the last failure, "" if none
};

struct DeliveryState {
    std::uint32_t attempts = 0;      // failed attempts so far
    std::int64_t next_attempt = 0;   // unix seconds; 0 = at once
    bool held = false;               // `cartero queue hold`: no delivery until released
    bool delay_warned = false;       // the RFC 3461 delay notice went out
    std::vector<RecipientState> recipients = {};  // parallel to the envelope's; may be shorter
};

// Octets of a recipient's last error kept in the spool; longer text is cut.
// An SMTP reply line is at most 512 octets (RFC 5321 4.5.3.1.5): this keeps
// one whole reply plus the context a courier adds (host, phase), and bounds
// what one deferred message can make the spool write per attempt.
inline constexpr std::size_t max_error_text = 1000;

struct QueuedMessage {
    std::string id;                           // queue ID
    Envelope envelope;
    std::vector<bool> done;                   // per recipient: delivered or bounced
    std::shared_ptr<const std::string> data;  // full message (trace header included)
    DeliveryState state = {};                 // from the spool's newest STATE record, if any
    // Queued by an earlier run (set by DeliveryQueue::recover): a crash may have
    // come after a copy was made and before its done mark was durable, so
    // couriers that can find such a copy look for it (maildir.hpp).
    bool recovered = false;
};

class Spool {
public:
    virtual ~Spool() = default;

    // A new queue ID: unique across restarts, safe as a file name, sortable by time.
    virtual std::string new_id() = 0;

    // Makes the message durable. `done` is called exactly once, from a spool
    // thread, with {} once data and envelope are on stable storage, or an error.
    virtual void commit(std::string id, Envelope envelope, std::shared_ptr<const std::string> data,
                        std::function<void(std::error_code)> done) = 0;

    // Records that recipient `index` of message `id` needs no more delivery
    // (delivered or bounced). When every recipient is done the message is deleted.
    // Durable lazily: a crash just before may deliver that recipient again
    // (at-least-once), never lose it.
    virtual void mark_done(const std::string& id, std::size_t index) = 0;

    // Records the delivery state of message `id`, replacing the one before.
    // Durable lazily, like mark_done; recover() returns the newest one that
    // reached the disk. Unknown IDs (a message already complete) are ignored.
    virtual void save_state(const std::string& id, const DeliveryState& state) = 0;

    // Every committed message with at least one recipient not done, data loaded.
    // Called once at start, before any commit. Damaged records go to corrupt/.
    virtual std::vector<QueuedMessage> recover() = 0;

    // Flushes pending marks and stops the spool threads.
    virtual void close() = 0;
};

struct FsSpoolOptions {
    std::filesystem::path directory;      // data_dir/spool
    // A segment file is closed and a new one started once it holds this many
    // octets (docs/queue.md). Smaller means faster reclaiming of disk space,
    // larger means fewer file creations (each costs a directory fsync).
    std::uint64_t segment_size = 64 * 1024 * 1024;
    // How long DONE marks may wait for a commit batch to share its sync before
    // they get a sync of their own (they are lazily durable by contract).
    std::chrono::milliseconds done_linger{100};
};

// Creates the directory if needed and takes its lock (one process per spool).
// Throws std::system_error when the directory cannot be used: a startup error.
std::unique_ptr<Spool> open_fs_spool(const FsSpoolOptions& options);
std::unique_ptr<Spool> make_memory_spool();

}  // namespace cartero::spool
