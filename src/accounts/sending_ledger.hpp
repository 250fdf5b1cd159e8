// SendingLedger: how much each account has sent lately, for the per-account
// sending quotas (messages per hour, messages per day, recipients per day;
// docs/limits.md "Sending quotas"). The one interface every counter of those
// quotas sits behind: today JournalLedger (in process, durable in a journal
// file under data_dir); issue 14 adds a shared one (Redis) for several nodes.
//
// Windows slide: a message counts for exactly one hour and one day after it
// was accepted, never until a calendar boundary (a midnight reset would let a
// stolen account send two days' worth in two minutes). The ledger keeps one
// entry per message (time, recipients) for the longest window, so every count
// is exact and "when is the next message accepted" is the time the oldest
// entry that keeps the account at its cap leaves the window.
//
// Exact under concurrency (reserve, then commit or release): a session
// reserves one message at MAIL and one recipient at each RCPT while holding
// the ledger's lock, so the check and the count are one step; twenty sessions
// of one account at its last free message get one reservation and nineteen
// refusals. A reservation counts like a sent message until it is committed
// (the 250 after the spool commit: its time becomes the acceptance time) or
// released (RSET, a refused or failed message, a dropped connection). A
// session therefore never overshoots, and a crash mid-transaction loses only
// reservations, which were never accepted mail.
//
// Durability: each commit appends one line to the journal with write(2)
// before the 250 is sent, so a kill -9 loses nothing (the kernel has the
// line); the file is fdatasync'ed in batches, every `sync_interval`, so an
// operating-system crash or power loss undercounts by at most the messages of
// the last interval. The journal is rewritten without expired lines at open
// and whenever it holds many more lines than live entries.
//
// Trust: account keys come from the session (an authenticated account, "uid:N"
// for the local socket, "[ip]" for a trusted network); they are written as
// the last field of a line and refused if they contain a line break.
// Privileges: read/write access to data_dir.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>

#include "accounts/directory.hpp"
#include "config/config.hpp"

namespace cartero::accounts {

using LedgerTime = std::chrono::system_clock::time_point;

// The limits in force for one account, after account > domain > [limits].
struct EffectiveLimits {
    std::size_t per_hour = 0;
    std::size_t per_day = 0;
    std::size_t recipients_per_day = 0;
};

// The one precedence rule: the account's own limits (`cartero user limits`),
// else its domain's [[domain_limits]], else [limits]. `account` is an address,
// or a key without a domain ("uid:1000", "[192.0.2.7]") that gets [limits].
EffectiveLimits effective_limits(const config::Config& config, const SendingLimits& own, std::string_view account);

enum class Quota { messages_per_hour, messages_per_day, recipients_per_day };

// "messages per hour", "messages per day", "recipients per day".
std::string_view to_string(Quota);

// Why a reservation was refused: the limit, its value, and the first moment a
// message (or recipient) fits again.
struct QuotaRefusal {
    Quota quota;
    std::size_t limit = 0;
    LedgerTime next_accepted;
};

// What an account has used: counts in the windows ending `now`, and when each
// count next goes down (nullopt when it is zero).
struct QuotaUsage {
    std::size_t last_hour = 0;
    std::size_t last_day = 0;
    std::size_t recipients_last_day = 0;
    std::optional<LedgerTime> hour_frees_at;
    std::optional<LedgerTime> day_frees_at;
    std::optional<LedgerTime> recipients_free_at;
};

using ReservationId = std::uint64_t;

class SendingLedger {
public:
    virtual ~SendingLedger() = default;
    // One message for `account`, if it fits in every window.
    virtual std::variant<ReservationId, QuotaRefusal> reserve_message(const std::string& account,
                                                                     const EffectiveLimits& limits,
                                                                     LedgerTime now) = 0;
    // One more recipient on a reservation, if the recipients cap allows it.
    virtual std::optional<QuotaRefusal> reserve_recipient(ReservationId id, const EffectiveLimits& limits,
                                                          LedgerTime now) = 0;
    // The message was accepted (250): it counts from `now`, durably.
    virtual void commit(ReservationId id, LedgerTime now) = 0;
    // The transaction ended without a message: the reservation is dropped.
    virtual void release(ReservationId id) = 0;
    virtual QuotaUsage usage(const std::string& account, LedgerTime now) const = 0;
};

class JournalLedger final : public SendingLedger {
public:
    // `journal` empty: in memory only (unit tests). `read_only`: load and
    // answer usage() (`cartero user show` while the server runs); never writes.
    // Throws std::runtime_error when the journal cannot be opened or written.
    explicit JournalLedger(std::filesystem::path journal = {},
                           std::chrono::milliseconds sync_interval = std::chrono::seconds(1),
                           bool read_only = false);
    ~JournalLedger() override;
    JournalLedger(const JournalLedger&) = delete;
    JournalLedger& operator=(const JournalLedger&) = delete;

    std::variant<ReservationId, QuotaRefusal> reserve_message(const std::string& account,
                                                             const EffectiveLimits& limits,
                                                             LedgerTime now) override;
    std::optional<QuotaRefusal> reserve_recipient(ReservationId id, const EffectiveLimits& limits,
                                                  LedgerTime now) override;
    void commit(ReservationId id, LedgerTime now) override;
    void release(ReservationId id) override;
    QuotaUsage usage(const std::string& account, LedgerTime now) const override;

    void set_sync_interval(std::chrono::milliseconds interval);  // limits.sending_counter_sync, on reload

    static constexpr std::chrono::hours hour{1};
    static constexpr std::chrono::hours day{24};

private:
    struct Entry {
        LedgerTime time;
        std::size_t recipients = 0;
        ReservationId reservation = 0;  // non-zero while reserved, not yet committed
    };
    using Entries = std::deque<Entry>;

    void load();
    void rewrite_locked(LedgerTime now);
    void append_locked(const std::string& account, const Entry& entry);
    void prune_locked(Entries& entries, LedgerTime now) const;
    void flusher();
    Entry* find_reservation_locked(ReservationId id, std::string** account);

    std::filesystem::path path_;
    bool read_only_ = false;
    int fd_ = -1;

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entries> accounts_;
    std::unordered_map<ReservationId, std::string> reservations_;  // id -> account
    ReservationId next_id_ = 1;
    std::size_t journal_lines_ = 0;
    std::size_t live_entries_ = 0;

    // Batched fdatasync (group commit of the journal).
    std::condition_variable wake_;
    bool dirty_ = false;
    bool stopping_ = false;
    std::chrono::milliseconds sync_interval_;
    std::thread flusher_;
};

// `<data_dir>/sending-counters`: the journal of the server's JournalLedger.
inline std::filesystem::path sending_counters_path(const std::filesystem::path& data_dir) {
    return data_dir / "sending-counters";
}

}  // namespace cartero::accounts
