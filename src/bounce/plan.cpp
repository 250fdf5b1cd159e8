// Which recipients are reported, in which kind of DSN (RFC 3461 4.1, 5.2); see dsn.hpp.
#include "bounce/dsn.hpp"

namespace cartero::bounce {

namespace {

// RFC 3461 4.1: "If the NOTIFY parameter is not specified, ... the MTA ... SHOULD
// issue a DSN if the delivery fails or is delayed", i.e. as if FAILURE,DELAY.
std::uint8_t effective_notify(std::uint8_t notify) {
    return notify == 0 ? static_cast<std::uint8_t>(smtp::notify_failure | smtp::notify_delay) : notify;
}

}  // namespace

std::optional<ReportKind> report_for(std::string_view sender, const spool::RecipientDsn& dsn, Outcome outcome) {
    if (sender.empty()) return std::nullopt;  // RFC 5321 6.1: never notify the null sender
    const std::uint8_t notify = effective_notify(dsn.notify);
    const auto wants = [&](smtp::NotifyBit bit) { return (notify & bit) != 0; };
    switch (outcome) {
        case Outcome::failed: return wants(smtp::notify_failure) ? std::optional(ReportKind::failure) : std::nullopt;
        case Outcome::delayed: return wants(smtp::notify_delay) ? std::optional(ReportKind::delay) : std::nullopt;
        // RFC 3461 5.2.2: relayed to a non-DSN peer, a "relayed" DSN stands in for "delivered".
        case Outcome::delivered:
        case Outcome::relayed: return wants(smtp::notify_success) ? std::optional(ReportKind::success) : std::nullopt;
        // RFC 3461 5.2.1: the DSN-capable peer got NOTIFY/ORCPT and reports from here on.
        case Outcome::forwarded: return std::nullopt;
    }
    return std::nullopt;
}

ReportPlan plan_reports(const spool::Envelope& envelope, const std::vector<std::optional<Outcome>>& outcomes) {
    ReportPlan plan;
    for (std::size_t i = 0; i < outcomes.size() && i < envelope.recipients.size(); ++i) {
        if (!outcomes[i]) continue;
        const auto kind = report_for(envelope.sender, envelope.dsn(i), *outcomes[i]);
        if (!kind) continue;
        auto& list = *kind == ReportKind::failure ? plan.failure : *kind == ReportKind::delay ? plan.delay : plan.success;
        list.push_back(i);
    }
    return plan;
}

}  // namespace cartero::bounce
