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
//   RCPT  bare postmaster        "<Postmaster>" without a domain is always accepted (RFC 5321 4.5.1)
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

namespace cartero::policy {

class SessionRules final : public smtp::SessionPolicy {
public:
    // Returns the snapshot in force now (the server swaps it on reload).
    using DirectoryGetter = std::function<std::shared_ptr<const accounts::Directory>()>;

    explicit SessionRules(DirectoryGetter directory) : directory_(std::move(directory)) {}

    std::optional<smtp::Reply> check_mail(const smtp::SessionFacts& facts, const smtp::Address& sender) const override;
    std::optional<smtp::Reply> check_rcpt(const smtp::SessionFacts& facts, const smtp::Address& sender,
                                          const smtp::Address& recipient) const override;

private:
    DirectoryGetter directory_;
};

}  // namespace cartero::policy
