#include "net/transaction_limits.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bounce/dsn.hpp"
#include "config/network.hpp"
#include "observe/logging.hpp"
#include "scheduler/delivery_queue.hpp"
#include "spool/spool.hpp"

namespace cartero::net {
namespace {

using namespace std::chrono_literals;

// "14:32 UTC", or "2026-12-06 14:32 UTC" when that is not today (UTC). Rounded
// up to the minute, so "accepted after" it is true.
std::string clock_text(accounts::LedgerTime when, accounts::LedgerTime now) {
    const auto minute = std::chrono::ceil<std::chrono::minutes>(when);
    const std::time_t at = std::chrono::system_clock::to_time_t(minute);
    const std::time_t today = std::chrono::system_clock::to_time_t(now);
    std::tm at_tm{};
    std::tm now_tm{};
    gmtime_r(&at, &at_tm);
    gmtime_r(&today, &now_tm);
    const bool same_day = at_tm.tm_yday == now_tm.tm_yday && at_tm.tm_year == now_tm.tm_year;
    char text[32];
    std::strftime(text, sizeof text, same_day ? "%H:%M UTC" : "%Y-%m-%d %H:%M UTC", &at_tm);
    return text;
}

}  // namespace

std::string quota_text(const accounts::QuotaRefusal& refusal, accounts::LedgerTime now, bool at_recipient) {
    return fmt::format("sending limit reached: {} {}; next {} accepted after {}", refusal.limit,
                       accounts::to_string(refusal.quota), at_recipient ? "recipient" : "message",
                       clock_text(refusal.next_accepted, now));
}

SessionLimits::SessionLimits(std::shared_ptr<const Runtime> runtime, Services& services, const smtp::PeerInfo& peer,
                             const std::string& session_id)
    : runtime_(std::move(runtime)), services_(services), peer_(peer), id_(session_id) {
    const config::Limits& limits = runtime_->config->limits;
    network_ = config::client_network(peer_.ip, static_cast<unsigned>(limits.client_ipv4_prefix),
                                      static_cast<unsigned>(limits.client_ipv6_prefix));
}

SessionLimits::~SessionLimits() { transaction_ended(); }

// Who the message counts against; nullopt = no quota (mail from the internet).
std::optional<std::string> SessionLimits::account_of(const smtp::SessionFacts& facts) const {
    if (facts.role == config::ListenerRole::local && peer_.local_uid) return "uid:" + std::to_string(*peer_.local_uid);
    if (!facts.auth_user.empty()) return facts.auth_user;
    if (peer_.trusted) return "[" + peer_.ip + "]";
    return std::nullopt;
}

accounts::EffectiveLimits SessionLimits::limits_for(const std::string& account) const {
    const auto directory = services_.directory ? services_.directory() : nullptr;
    return accounts::effective_limits(*runtime_->config,
                                      directory ? directory->sending_limits(account) : accounts::SendingLimits{},
                                      account);
}

std::optional<smtp::Reply> SessionLimits::admit_message(const smtp::SessionFacts& facts, const smtp::Address&) {
    const config::Config& config = *runtime_->config;
    transaction_ended();  // a new transaction never inherits an old reservation
    if (!peer_.trusted && !peer_.local_uid &&
        !services_.rates.admit_message(network_, config.limits.client_messages_per_minute, 1min,
                                       ClientRates::Clock::now())) {
        observe::security_event(id_, "client_rate", peer_.ip,
                                fmt::format("limit=\"{} messages per minute\"", config.limits.client_messages_per_minute));
        return smtp::make_reply(421, "4.7.0",
                                fmt::format("{} Error: too many messages from [{}]: limit {} per minute, try again later",
                                            config.hostname, peer_.ip, config.limits.client_messages_per_minute));
    }
    const auto account = account_of(facts);
    if (!account) return std::nullopt;
    account_ = *account;
    const auto now = std::chrono::system_clock::now();
    auto reserved = services_.ledger.reserve_message(account_, limits_for(account_), now);
    if (auto* refusal = std::get_if<accounts::QuotaRefusal>(&reserved)) return over_quota(*refusal, false);
    reservation_ = std::get<accounts::ReservationId>(reserved);
    return std::nullopt;
}

std::optional<smtp::Reply> SessionLimits::admit_recipient(const smtp::SessionFacts&, const smtp::Address&) {
    if (!reservation_) return std::nullopt;  // no quota, or the message goes on hold anyway
    const auto now = std::chrono::system_clock::now();
    const auto refusal = services_.ledger.reserve_recipient(*reservation_, limits_for(account_), now);
    if (!refusal) return std::nullopt;
    return over_quota(*refusal, true);
}

// defer: 451 4.7.1 naming the limit and when the next one fits. hold: the
// message is accepted and held, uncounted (it is not sent), postmaster told once.
std::optional<smtp::Reply> SessionLimits::over_quota(const accounts::QuotaRefusal& refusal, bool at_recipient) {
    const config::Config& config = *runtime_->config;
    const auto now = std::chrono::system_clock::now();
    const std::string text = quota_text(refusal, now, at_recipient);
    observe::security_event(id_, "sending_limit", peer_.ip,
                            fmt::format("account={} limit=\"{} {}\" action={}", account_, refusal.limit,
                                        accounts::to_string(refusal.quota), config::to_string(config.limits.on_exceed)));
    if (config.limits.on_exceed == config::OnExceed::defer) return smtp::make_reply(451, "4.7.1", text);
    if (reservation_) services_.ledger.release(*reservation_);
    reservation_.reset();
    if (!hold_) spdlog::warn("{}: account {} is over its sending limit ({}): its mail is held", id_, account_, text);
    hold_ = true;
    if (services_.hold_notices.first(account_)) notify_postmaster();
    return std::nullopt;
}

void SessionLimits::transaction_ended() {
    if (reservation_) services_.ledger.release(*reservation_);
    reservation_.reset();
    hold_ = false;
}

void SessionLimits::message_accepted() {
    if (reservation_) services_.ledger.commit(*reservation_, std::chrono::system_clock::now());
    reservation_.reset();
}

// One message to postmaster, from the null sender, queued like any other (the
// Bouncer's way): the first time an account's mail goes on hold in this run.
void SessionLimits::notify_postmaster() {
    const config::Config& config = *runtime_->config;
    const auto directory = services_.directory ? services_.directory() : nullptr;
    if (!directory) return;
    const std::string postmaster = directory->qualify("postmaster");
    const std::time_t now = std::time(nullptr);
    auto data = std::make_shared<std::string>(fmt::format(
        "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\n"
        "To: <{to}>\r\n"
        "Subject: Mail of {account} held: sending limit reached\r\n"
        "Date: {date}\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "The account {account} went over its sending limit, and limits.on_exceed\r\n"
        "is \"hold\": its further mail is accepted and held in the queue, not sent.\r\n"
        "A stolen password is the usual reason. Check the account, change its\r\n"
        "password, then look at the held mail:\r\n"
        "\r\n"
        "    cartero queue list\r\n"
        "    cartero queue release QUEUE-ID   (send it)\r\n"
        "    cartero queue delete QUEUE-ID    (drop it)\r\n"
        "\r\n"
        "This notice is sent once per account until cartero restarts.\r\n",
        fmt::arg("host", config.hostname), fmt::arg("to", postmaster), fmt::arg("account", account_),
        fmt::arg("date", bounce::format_date(now))));
    spool::Envelope envelope;
    envelope.recipients = {postmaster};
    envelope.received_at = now;
    envelope.origin = smtp::Origin::cartero;
    const std::string queue_id = services_.spool.new_id();
    Services& services = services_;
    services_.spool.commit(queue_id, envelope, data, [&services, queue_id, envelope, data](std::error_code error) {
        if (error) {
            spdlog::error("{}: notice to postmaster not queued: {}", queue_id, error.message());
            return;
        }
        services.queue.enqueue(spool::QueuedMessage{queue_id, envelope, std::vector<bool>(1, false), data});
    });
}

}  // namespace cartero::net
