// JournalLedger: see sending_ledger.hpp for the windows, the reservation
// protocol and what a crash may lose.
#include "accounts/sending_ledger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "base/file_io.hpp"

namespace cartero::accounts {
namespace {

using std::chrono::milliseconds;

std::int64_t to_ms(LedgerTime t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// The journal is rewritten when it holds this many lines more than live entries
// and more than twice as many: at most one rewrite per that many commits.
constexpr std::size_t rewrite_slack = 10000;

bool in_window(LedgerTime time, LedgerTime now, std::chrono::hours window) { return time + window > now; }

// The moment the count of `times` (in the window ending `now`) drops below `limit`:
// the (n - limit)th oldest entry leaves the window then. Needs n >= limit >= 1.
LedgerTime frees_at(std::vector<LedgerTime> times, std::size_t limit, std::chrono::hours window) {
    std::sort(times.begin(), times.end());
    return times[times.size() - limit] + window;
}

}  // namespace

EffectiveLimits effective_limits(const config::Config& config, const SendingLimits& own, std::string_view account) {
    EffectiveLimits limits{config.limits.messages_per_hour, config.limits.messages_per_day,
                           config.limits.recipients_per_day};
    const auto at = account.rfind('@');
    if (at != std::string_view::npos) {
        const std::string_view domain = account.substr(at + 1);
        for (const config::DomainLimits& entry : config.domain_limits) {
            if (entry.domain != domain) continue;
            limits.per_hour = entry.messages_per_hour.value_or(limits.per_hour);
            limits.per_day = entry.messages_per_day.value_or(limits.per_day);
            limits.recipients_per_day = entry.recipients_per_day.value_or(limits.recipients_per_day);
        }
    }
    limits.per_hour = own.per_hour.value_or(limits.per_hour);
    limits.per_day = own.per_day.value_or(limits.per_day);
    limits.recipients_per_day = own.recipients_per_day.value_or(limits.recipients_per_day);
    return limits;
}

std::string_view to_string(Quota quota) {
    switch (quota) {
        case Quota::messages_per_hour: return "messages per hour";
        case Quota::messages_per_day: return "messages per day";
        case Quota::recipients_per_day: return "recipients per day";
    }
    return "messages";
}

JournalLedger::JournalLedger(std::filesystem::path journal, milliseconds sync_interval, bool read_only)
    : path_(std::move(journal)), read_only_(read_only), sync_interval_(sync_interval) {
    if (path_.empty()) return;
    load();
    if (read_only_) return;
    std::scoped_lock lock(mutex_);
    rewrite_locked(std::chrono::system_clock::now());
    flusher_ = std::thread([this] { flusher(); });
}

JournalLedger::~JournalLedger() {
    {
        std::scoped_lock lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (flusher_.joinable()) flusher_.join();
    if (fd_ >= 0) {
        ::fdatasync(fd_);
        ::close(fd_);
    }
}

// Lines "<unix ms> <recipients> <account>"; a torn last line (a crash inside
// write(2)) or anything unparsable is skipped: at worst one message undercounted.
void JournalLedger::load() {
    std::error_code error;
    base::UniqueFd fd = base::open_file(path_, O_RDONLY | O_CLOEXEC, error);
    if (error == std::errc::no_such_file_or_directory) return;
    std::string text;
    if (!error) error = base::read_whole(fd.get(), text);
    if (error) throw std::runtime_error("sending counters " + path_.string() + ": " + error.message());
    const LedgerTime now = std::chrono::system_clock::now();
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string::npos) break;
        const std::string_view line(text.data() + start, end - start);
        start = end + 1;
        const std::size_t first = line.find(' ');
        const std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
        if (second == std::string_view::npos || second + 1 >= line.size()) continue;
        std::int64_t ms = 0;
        std::size_t recipients = 0;
        if (std::from_chars(line.data(), line.data() + first, ms).ec != std::errc{} ||
            std::from_chars(line.data() + first + 1, line.data() + second, recipients).ec != std::errc{})
            continue;
        const LedgerTime time{milliseconds{ms}};
        if (!in_window(time, now, day)) continue;
        accounts_[std::string(line.substr(second + 1))].push_back(Entry{time, recipients, 0});
        ++live_entries_;
    }
}

// The journal without expired lines: a temporary file, fsynced, renamed over it.
void JournalLedger::rewrite_locked(LedgerTime now) {
    std::string text;
    live_entries_ = 0;
    for (auto& [account, entries] : accounts_) {
        prune_locked(entries, now);
        for (const Entry& entry : entries) {
            if (entry.reservation != 0) continue;
            text += std::to_string(to_ms(entry.time)) + ' ' + std::to_string(entry.recipients) + ' ' + account + '\n';
            ++live_entries_;
        }
    }
    const std::filesystem::path temporary = path_.string() + ".new";
    std::error_code error;
    {
        base::UniqueFd out = base::open_file(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, error);
        if (!error) error = base::write_all(out.get(), text);
        if (!error && ::fdatasync(out.get()) != 0) error = base::last_error();
    }
    if (!error && ::rename(temporary.c_str(), path_.c_str()) != 0) error = base::last_error();
    if (!error) error = base::fsync_directory(path_.parent_path());
    if (error) throw std::runtime_error("sending counters " + path_.string() + ": " + error.message());
    if (fd_ >= 0) ::close(fd_);
    base::UniqueFd appender = base::open_file(path_, O_WRONLY | O_APPEND | O_CLOEXEC, error);
    if (error) throw std::runtime_error("sending counters " + path_.string() + ": " + error.message());
    fd_ = appender.release();
    journal_lines_ = live_entries_;
}

// write(2) at once (a kill -9 after it loses nothing); fdatasync is the flusher's.
void JournalLedger::append_locked(const std::string& account, const Entry& entry) {
    if (fd_ < 0 || account.find_first_of("\r\n") != std::string::npos) return;
    const std::string line =
        std::to_string(to_ms(entry.time)) + ' ' + std::to_string(entry.recipients) + ' ' + account + '\n';
    if (base::write_all(fd_, line)) return;  // a full disk: undercount rather than refuse mail already accepted
    ++journal_lines_;
    ++live_entries_;
    dirty_ = true;
}

void JournalLedger::prune_locked(Entries& entries, LedgerTime now) const {
    std::erase_if(entries, [&](const Entry& entry) { return entry.reservation == 0 && !in_window(entry.time, now, day); });
}

void JournalLedger::flusher() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, sync_interval_);
        if (!dirty_ || fd_ < 0) continue;
        dirty_ = false;
        const int fd = fd_;
        lock.unlock();
        ::fdatasync(fd);  // outside the lock: sessions keep reserving meanwhile
        lock.lock();
    }
}

void JournalLedger::set_sync_interval(milliseconds interval) {
    std::scoped_lock lock(mutex_);
    sync_interval_ = interval;
}

JournalLedger::Entry* JournalLedger::find_reservation_locked(ReservationId id, std::string** account) {
    const auto owner = reservations_.find(id);
    if (owner == reservations_.end()) return nullptr;
    auto& entries = accounts_[owner->second];
    const auto entry = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.reservation == id; });
    if (entry == entries.end()) return nullptr;
    if (account != nullptr) *account = &owner->second;
    return &*entry;
}

namespace {

// Whether one more recipient fits in the day's cap; if not, when it will: the
// oldest entries leave the window until the sum is below the cap.
std::optional<QuotaRefusal> recipients_refusal(std::vector<std::pair<LedgerTime, std::size_t>> entries,
                                               std::size_t cap) {
    std::size_t sum = 0;
    for (const auto& entry : entries) sum += entry.second;
    if (sum < cap) return std::nullopt;
    std::sort(entries.begin(), entries.end());
    LedgerTime frees = entries.empty() ? LedgerTime{} : entries.back().first + JournalLedger::day;
    for (const auto& [time, count] : entries) {
        sum -= count;
        if (sum < cap) {
            frees = time + JournalLedger::day;
            break;
        }
    }
    return QuotaRefusal{Quota::recipients_per_day, cap, frees};
}

}  // namespace

std::variant<ReservationId, QuotaRefusal> JournalLedger::reserve_message(const std::string& account,
                                                                        const EffectiveLimits& limits,
                                                                        LedgerTime now) {
    std::scoped_lock lock(mutex_);
    Entries& entries = accounts_[account];
    prune_locked(entries, now);
    std::vector<LedgerTime> hour_times;
    std::vector<LedgerTime> day_times;
    std::vector<std::pair<LedgerTime, std::size_t>> recipients;
    for (const Entry& entry : entries) {
        day_times.push_back(entry.time);
        recipients.emplace_back(entry.time, entry.recipients);
        if (in_window(entry.time, now, hour)) hour_times.push_back(entry.time);
    }
    if (hour_times.size() >= limits.per_hour)
        return QuotaRefusal{Quota::messages_per_hour, limits.per_hour, frees_at(hour_times, limits.per_hour, hour)};
    if (day_times.size() >= limits.per_day)
        return QuotaRefusal{Quota::messages_per_day, limits.per_day, frees_at(day_times, limits.per_day, day)};
    // A message needs at least one recipient: refused at MAIL when none fits.
    if (auto refusal = recipients_refusal(std::move(recipients), limits.recipients_per_day)) return *refusal;
    const ReservationId id = next_id_++;
    entries.push_back(Entry{now, 0, id});
    reservations_.emplace(id, account);
    return id;
}

std::optional<QuotaRefusal> JournalLedger::reserve_recipient(ReservationId id, const EffectiveLimits& limits,
                                                             LedgerTime now) {
    std::scoped_lock lock(mutex_);
    std::string* account = nullptr;
    Entry* reserved = find_reservation_locked(id, &account);
    if (reserved == nullptr) return std::nullopt;  // released already: nothing to count against
    std::vector<std::pair<LedgerTime, std::size_t>> recipients;
    for (const Entry& entry : accounts_[*account])
        if (in_window(entry.time, now, day)) recipients.emplace_back(entry.time, entry.recipients);
    if (auto refusal = recipients_refusal(std::move(recipients), limits.recipients_per_day)) return refusal;
    ++reserved->recipients;
    return std::nullopt;
}

void JournalLedger::commit(ReservationId id, LedgerTime now) {
    std::scoped_lock lock(mutex_);
    std::string* account = nullptr;
    Entry* reserved = find_reservation_locked(id, &account);
    if (reserved == nullptr) return;
    reserved->time = now;  // counted from acceptance (the 250), not from MAIL
    reserved->reservation = 0;
    const std::string owner = *account;
    append_locked(owner, *reserved);
    reservations_.erase(id);
    if (!read_only_ && fd_ >= 0 && journal_lines_ > rewrite_slack && journal_lines_ > 2 * live_entries_) {
        try {
            rewrite_locked(now);
        } catch (const std::exception&) {
            // keep appending to the old journal; the next rewrite tries again
        }
    }
}

void JournalLedger::release(ReservationId id) {
    std::scoped_lock lock(mutex_);
    const auto owner = reservations_.find(id);
    if (owner == reservations_.end()) return;
    std::erase_if(accounts_[owner->second], [&](const Entry& entry) { return entry.reservation == id; });
    reservations_.erase(owner);
}

QuotaUsage JournalLedger::usage(const std::string& account, LedgerTime now) const {
    std::scoped_lock lock(mutex_);
    QuotaUsage usage;
    const auto found = accounts_.find(account);
    if (found == accounts_.end()) return usage;
    for (const Entry& entry : found->second) {
        if (entry.reservation != 0 || !in_window(entry.time, now, day)) continue;
        const auto earliest = [](std::optional<LedgerTime>& slot, LedgerTime t) {
            if (!slot || t < *slot) slot = t;
        };
        ++usage.last_day;
        earliest(usage.day_frees_at, entry.time + day);
        if (entry.recipients > 0) {
            usage.recipients_last_day += entry.recipients;
            earliest(usage.recipients_free_at, entry.time + day);
        }
        if (in_window(entry.time, now, hour)) {
            ++usage.last_hour;
            earliest(usage.hour_frees_at, entry.time + hour);
        }
    }
    return usage;
}

}  // namespace cartero::accounts
