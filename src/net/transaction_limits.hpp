// SessionLimits: the smtp::TransactionLimits of one connection. It counts what
// the session does against the limits kept across sessions (docs/limits.md):
//   - messages per minute from the client network (ClientRates), 421 4.7.0 and close;
//   - the sending quotas of the submitting account (accounts::SendingLedger):
//     an authenticated account, the local uid of the submission socket
//     ("uid:1000"), or, for an unauthenticated client of trusted_networks, its
//     address ("[192.0.2.7]"); 451 4.7.1, or with limits.on_exceed = hold the
//     message is accepted and held in the queue.
// Mail from the internet to local users (role mx, not trusted) has no quota.
//
// The reservation protocol (sending_ledger.hpp): one message reserved at MAIL,
// one recipient more at each RCPT, committed by message_accepted() once the
// spool commit succeeded (before the 250), released by transaction_ended() or
// the destructor (connection lost) otherwise. Only the connection's own thread
// calls it.
//
// Trust: facts come from the session (the account is the authenticated one,
// never a client-chosen sender).
#pragma once

#include <optional>
#include <string>

#include "accounts/sending_ledger.hpp"
#include "net/services.hpp"
#include "smtp/session.hpp"

namespace cartero::net {

class SessionLimits final : public smtp::TransactionLimits {
public:
    SessionLimits(std::shared_ptr<const Runtime> runtime, Services& services, const smtp::PeerInfo& peer,
                  const std::string& session_id);
    ~SessionLimits() override;
    SessionLimits(const SessionLimits&) = delete;
    SessionLimits& operator=(const SessionLimits&) = delete;

    std::optional<smtp::Reply> admit_message(const smtp::SessionFacts& facts, const smtp::Address& sender) override;
    std::optional<smtp::Reply> admit_recipient(const smtp::SessionFacts& facts,
                                               const smtp::Address& recipient) override;
    void transaction_ended() override;

    // The spool commit succeeded: what was reserved counts from now, durably.
    void message_accepted();
    // This message goes on hold (limits.on_exceed = hold and the account is over).
    bool hold() const { return hold_; }
    // The client network key (limits.client_ipv4_prefix / client_ipv6_prefix).
    const std::string& network() const { return network_; }

private:
    std::optional<std::string> account_of(const smtp::SessionFacts& facts) const;
    accounts::EffectiveLimits limits_for(const std::string& account) const;
    std::optional<smtp::Reply> over_quota(const accounts::QuotaRefusal& refusal, bool at_recipient);
    void notify_postmaster();

    std::shared_ptr<const Runtime> runtime_;
    Services& services_;
    const smtp::PeerInfo& peer_;
    const std::string& id_;
    std::string network_;  // the client network key (limits.client_ipv4_prefix / client_ipv6_prefix)

    std::string account_;  // of the transaction in progress
    std::optional<accounts::ReservationId> reservation_;
    bool hold_ = false;
};

// "sending limit reached: 100 messages per hour; next message accepted after
// 14:32 UTC" (the date too when it is not today in UTC): the 451 4.7.1 text.
std::string quota_text(const accounts::QuotaRefusal& refusal, accounts::LedgerTime now, bool at_recipient);

}  // namespace cartero::net
