// Bouncer; see bouncer.hpp.
#include "cli/bouncer.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <optional>

#include <spdlog/spdlog.h>

#include "bounce/dsn.hpp"

namespace cartero::cli {
namespace {

using scheduler::Action;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What bounce/ calls each outcome. A remote delivery to a server that offers
// DSN is "forwarded": that server reports from there on (RFC 3461 5.2.2).
bounce::Outcome outcome_of(const scheduler::RecipientNotice& notice) {
    switch (notice.action) {
        case Action::failed: return bounce::Outcome::failed;
        case Action::delayed: return bounce::Outcome::delayed;
        case Action::relayed: return bounce::Outcome::relayed;
        case Action::delivered: break;
    }
    return notice.outcome.remote_host.empty() ? bounce::Outcome::delivered : bounce::Outcome::forwarded;
}

// "mx.example.com[192.0.2.1]:25" -> "mx.example.com" (RFC 3464 2.3.5 Remote-MTA: dns; name).
std::string host_name(const std::string& remote_host) { return remote_host.substr(0, remote_host.find('[')); }

std::string reply_text(const smtp::Reply& reply) {
    std::string text = std::to_string(reply.code);
    if (!reply.enhanced.empty()) text += " " + reply.enhanced;
    return text + " " + reply.text;
}

bounce::RecipientStatus status_of(const scheduler::RecipientNotice& notice, std::int64_t now, std::int64_t retry_until) {
    const auto& outcome = notice.outcome;
    bounce::RecipientStatus status;
    status.index = notice.index;
    status.outcome = outcome_of(notice);
    status.status = outcome.reply.enhanced;
    status.remote_mta = host_name(outcome.remote_host);
    // The server's own words when one answered; ours otherwise (DNS, connection, expiry).
    const bool remote_reply = !outcome.remote_host.empty() && outcome.reply.code != 0;
    // A hostile server may answer with 100 lines of 2 KB; the DSN carries the
    // first spool::max_error_text octets of it, as the queue's records do.
    if (remote_reply) status.diagnostic = reply_text(outcome.reply).substr(0, spool::max_error_text);
    status.reason = outcome.detail.substr(0, spool::max_error_text);
    status.last_attempt = now;
    if (notice.action == Action::delayed) status.retry_until = retry_until;
    status.expired = notice.expired;
    return status;
}

// Postfix's words in the log: "sender non-delivery notification: QUEUEID".
std::string_view notification_name(bounce::ReportKind kind) {
    switch (kind) {
        case bounce::ReportKind::failure: return "non-delivery";
        case bounce::ReportKind::delay: return "delay";
        case bounce::ReportKind::success: return "delivery";
    }
    return "delivery";
}

}  // namespace

Bouncer::Bouncer(const config::Config& config, spool::Spool& spool)
    : settings_(settings_of(config)), spool_(spool) {}

Bouncer::Settings Bouncer::settings_of(const config::Config& config) {
    return {config.hostname, config.delivery.bounce_size_limit, config.delivery.queue_lifetime};
}

void Bouncer::update(const config::Config& config) {
    Settings fresh = settings_of(config);
    std::lock_guard lock(mutex_);
    settings_ = std::move(fresh);
}

Bouncer::Settings Bouncer::settings() const {
    std::lock_guard lock(mutex_);
    return settings_;
}

scheduler::Notifier Bouncer::notifier() {
    return [this](const spool::QueuedMessage& message, const std::vector<scheduler::RecipientNotice>& notices) {
        return notify(message, notices);
    };
}

// The failure report is waited for (the queue marks the bounced recipients
// done only once it is durable); delay and success reports are not.
bool Bouncer::notify(const spool::QueuedMessage& message, const std::vector<scheduler::RecipientNotice>& notices) {
    std::vector<std::optional<bounce::Outcome>> outcomes(message.envelope.recipients.size());
    for (const auto& notice : notices) outcomes.at(notice.index) = outcome_of(notice);
    const bounce::ReportPlan plan = bounce::plan_reports(message.envelope, outcomes);
    bool failure_queued = true;
    if (!plan.failure.empty()) {
        std::promise<bool> committed;
        auto queued = committed.get_future();
        send(message, notices, plan.failure, bounce::ReportKind::failure,
             [&committed](bool ok) { committed.set_value(ok); });
        failure_queued = queued.get();
    }
    if (!plan.delay.empty()) send(message, notices, plan.delay, bounce::ReportKind::delay, {});
    if (!plan.success.empty()) send(message, notices, plan.success, bounce::ReportKind::success, {});
    return failure_queued;
}

void Bouncer::send(const spool::QueuedMessage& message, const std::vector<scheduler::RecipientNotice>& notices,
                   const std::vector<std::size_t>& indexes, bounce::ReportKind kind, std::function<void(bool)> queued) {
    const std::int64_t now = unix_now();
    const Settings settings = this->settings();
    std::vector<bounce::RecipientStatus> recipients;
    for (const auto& notice : notices)
        if (std::find(indexes.begin(), indexes.end(), notice.index) != indexes.end())
            recipients.push_back(status_of(notice, now, message.envelope.received_at + settings.lifetime.count()));
    const std::string id = spool_.new_id();
    bounce::ReportInput input;
    input.kind = kind;
    input.hostname = settings.hostname;
    input.message_id = "<" + id + "@" + settings.hostname + ">";
    input.date = now;
    input.queue_id = message.id;
    input.boundary_seed = id;
    input.size_limit = settings.size_limit;
    input.queue_lifetime = settings.lifetime.count();
    auto composed = bounce::compose(input, message.envelope, recipients, *message.data);
    if (!composed) {  // nothing to send (compose's own rules): nothing to lose either
        if (queued) queued(true);
        return;
    }

    spool::Envelope envelope;
    envelope.sender = "";  // the null sender: a DSN is never bounced (RFC 5321 4.5.5)
    envelope.recipients = {message.envelope.sender};
    envelope.eight_bit = composed->eight_bit;
    envelope.smtputf8 = composed->smtputf8;
    envelope.received_at = now;
    envelope.origin = spool::Origin::cartero;  // ours: signed as this host (docs/dkim.md)
    auto data = std::make_shared<const std::string>(std::move(composed->bytes));
    spdlog::info("{}: sender {} notification: {}", message.id, notification_name(kind), id);
    spool_.commit(id, envelope, data, [this, id, envelope, data, queued = std::move(queued)](std::error_code error) {
        if (error) {
            spdlog::error("{}: notification not queued: {}", id, error.message());
            if (queued) queued(false);
            return;
        }
        spdlog::info("{}: from=<>, size={}, nrcpt=1 (queue active)", id, data->size());
        if (queue_ != nullptr) queue_->enqueue(spool::QueuedMessage{id, envelope, std::vector<bool>(1, false), data});
        if (queued) queued(true);
    });
}

}  // namespace cartero::cli
