// SessionRules: cartero's MAIL and RCPT policy, the smtp::SessionPolicy the
// server hands every session. Pure (STYLE rule 12): decisions come from the
// SessionFacts and the current accounts::Directory snapshot, no I/O, no clock,
// no state kept between calls.
//
// Checks, in this order (the first refusal wins; docs/accounts.md lists them):
//   MAIL  null_sender_only_on_mx   submission roles refuse "<>" (RFC 6409 has no use for it;
//                                  bounces come from the MTA itself)
//         sender_owned_by_user     submission roles: the authenticated user must own the
//                                  sender (RFC 6409 6.1, Postfix reject_sender_login_mismatch)
//   DATA  from_owned_by_user       authenticated sessions (policy.check_from_header): every
//   (eom)                          address in the From: header must be the user's own, like
//                                  MAIL FROM; exactly one From: field (RFC 5322 3.6); a
//                                  message without one passes (nothing to impersonate, and
//                                  it is not DKIM-signed: docs/dkim.md)
//   RCPT  bare postmaster        "<Postmaster>" without a domain is always accepted (RFC 5321 4.5.1)
//         srs_bounce_address       a local-domain recipient that is no user or alias but an
//                                  SRS address (SRS0=...): accepted when it verifies (hash
//                                  and delivery.srs_max_age), else 550 5.1.1 (docs/delivery.md)
//         recipient_known          a local-domain recipient must resolve to a mailbox or a
//                                  forward (550 5.1.1 at RCPT, not a bounce later)
//         relay_permitted          domains other than the local and [[route]] ones only for
//                                  authenticated users or trusted peers (RFC 5321 3.9 / 7.1:
//                                  no open relay)
// Role local (the submission socket of `cartero sendmail`) skips the two MAIL
// checks: local users may use any sender, as with Postfix's sendmail; they relay
// because the session counts them as authenticated (smtp/session.hpp PeerInfo).
// A [[route]] domain is accepted from anyone like a local domain but has no
// user check (Postfix relay_domains): its transport decides what happens.
// Local and routed domains live in the Directory, so a reload swaps users,
// aliases and domains together.
//
// Open-relay tricks are not special cases: `user%other@local`, `user!other@local`
// and `"user@other"@local` are local parts naming no user (550 5.1.1);
// `@local:user@other` arrives with its source route dropped by smtp/, as
// user@other (relay check); an address literal `user@[127.0.0.1]` is not a local
// domain (relay check).
//
// Trust: addresses are untrusted but already parsed by smtp/address.hpp.
// Privileges: none.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "accounts/directory.hpp"
#include "smtp/session.hpp"
#include "smtp/srs.hpp"

namespace cartero::policy {

struct SessionRulesSettings {
    // Why an SRS local part is not a valid SRS address of ours (nullopt: it is).
    // Given by the server, which holds the secret and the clock.
    using SrsCheck = std::function<std::optional<smtp::srs::Problem>(std::string_view local_part)>;

    bool check_from_header = true;  // policy.check_from_header
    SrsCheck srs = {};              // none: SRS addresses are unknown users
};

class SessionRules final : public smtp::SessionPolicy {
public:
    // Returns the snapshot in force now (the server swaps it on reload).
    using DirectoryGetter = std::function<std::shared_ptr<const accounts::Directory>()>;

    using SrsCheck = SessionRulesSettings::SrsCheck;
    using Settings = SessionRulesSettings;

    explicit SessionRules(DirectoryGetter directory, Settings settings = {})
        : directory_(std::move(directory)), settings_(std::move(settings)) {}

    std::optional<smtp::Reply> check_mail(const smtp::SessionFacts& facts, const smtp::Address& sender) const override;
    std::optional<smtp::Reply> check_rcpt(const smtp::SessionFacts& facts, const smtp::Address& sender,
                                          const smtp::Address& recipient) const override;
    std::optional<smtp::Reply> check_message(const smtp::SessionFacts& facts,
                                             std::string_view header_block) const override;

private:
    DirectoryGetter directory_;
    Settings settings_;
};

}  // namespace cartero::policy
