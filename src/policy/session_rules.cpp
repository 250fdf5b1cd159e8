// SessionRules: each check is a small function returning the refusal or
// nullopt; check_mail/check_rcpt run them in the documented order. The reply
// texts are the contract in .notes/replies.md (Postfix wording, so operators and
// client diagnostics recognise them).
#include "policy/session_rules.hpp"

#include <initializer_list>

#include "base/idna.hpp"

namespace cartero::policy {
namespace {

using accounts::Directory;
using smtp::Address;
using smtp::Reply;
using smtp::SessionFacts;
using Refusal = std::optional<Reply>;

// Role local (`cartero sendmail`) is not submission here: like Postfix's
// sendmail/postdrop, a local user may give any envelope sender, "<>" included;
// the Received header names the uid that submitted (smtp/received.cpp).
bool is_submission(const SessionFacts& facts) {
    return facts.role == smtp::Role::submission || facts.role == smtp::Role::submissions;
}

std::string bracketed(const Address& address) { return "<" + address.str() + ">"; }

Refusal null_sender_only_on_mx(const SessionFacts& facts, const Address& sender) {
    if (!is_submission(facts) || !sender.null()) return std::nullopt;
    return smtp::make_reply(553, "5.7.1", "<>: Sender address rejected: null sender not allowed for submission");
}

// The session already demands AUTH before MAIL on submission; an empty user
// here still fails closed rather than letting anyone send as anyone.
Refusal sender_owned_by_user(const SessionFacts& facts, const Address& sender, const Directory& directory) {
    if (!is_submission(facts) || sender.null()) return std::nullopt;
    if (facts.auth_user.empty()) return smtp::make_reply(530, "5.7.0", "Authentication required");
    if (directory.may_send_as(facts.auth_user, sender.str())) return std::nullopt;
    return smtp::make_reply(553, "5.7.1",
                            bracketed(sender) + ": Sender address rejected: not owned by user " + facts.auth_user);
}

// RFC 5890 2.3.2.1: a domain that is not valid IDNA (an "xn--" label that does
// not decode, a code point UTS #46 disallows) names no host; refused as syntax
// rather than compared, relayed or looked up.
Refusal recipient_domain_valid(const Address& recipient) {
    if (recipient.domain.empty() || recipient.domain.front() == '[' || base::ascii_domain(recipient.domain))
        return std::nullopt;
    return smtp::make_reply(501, "5.1.3", "Bad recipient address syntax");
}

Refusal recipient_known(const Address& recipient, const Directory& directory) {
    if (!directory.is_local_domain(recipient.domain) || directory.resolve(recipient.str())) return std::nullopt;
    return smtp::make_reply(550, "5.1.1",
                            bracketed(recipient) + ": Recipient address rejected: User unknown in local recipient table");
}

// Local and [[route]] domains are ours to take from anyone; only their exact
// names match, so a routed "bench.test" opens neither "a.bench.test" nor any other domain.
Refusal relay_permitted(const SessionFacts& facts, const Address& recipient, const Directory& directory) {
    if (directory.accepts_domain(recipient.domain)) return std::nullopt;
    if (!facts.auth_user.empty() || (facts.peer != nullptr && facts.peer->trusted)) return std::nullopt;
    return smtp::make_reply(554, "5.7.1", bracketed(recipient) + ": Relay access denied");
}

Refusal first_refusal(std::initializer_list<Refusal> checks) {
    for (const auto& refusal : checks)
        if (refusal) return refusal;
    return std::nullopt;
}

}  // namespace

std::optional<Reply> SessionRules::check_mail(const SessionFacts& facts, const Address& sender) const {
    const auto directory = directory_();
    return first_refusal({null_sender_only_on_mx(facts, sender), sender_owned_by_user(facts, sender, *directory)});
}

std::optional<Reply> SessionRules::check_rcpt(const SessionFacts& facts, const Address& /*sender*/,
                                              const Address& recipient) const {
    const auto directory = directory_();
    // RFC 5321 4.5.1: postmaster at every local domain, and "<Postmaster>" without
    // a domain, MUST be accepted; the Directory says where its mail goes.
    if (directory->is_postmaster(recipient.str())) return std::nullopt;
    return first_refusal({recipient_domain_valid(recipient), recipient_known(recipient, *directory),
                          relay_permitted(facts, recipient, *directory)});
}

}  // namespace cartero::policy
