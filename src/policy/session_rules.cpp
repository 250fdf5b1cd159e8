// SessionRules: each check is a small function returning the refusal or
// nullopt; check_mail/check_rcpt run them in the documented order. The reply
// texts are the contract in .notes/replies.md (Postfix wording, so operators and
// client diagnostics recognise them).
#include "policy/session_rules.hpp"

#include <initializer_list>

#include "base/idna.hpp"
#include "smtp/from_header.hpp"

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

// A From: address as it may appear in a reply: printable ASCII, bounded, so a
// hostile header cannot stretch or corrupt the reply line (RFC 5321 4.5.3.1.5).
std::string printable(std::string_view address) {
    constexpr std::size_t shown = 256;
    std::string out;
    for (char c : address.substr(0, shown)) out += (c > ' ' && c < 0x7f) ? c : '?';
    return address.size() > shown ? out + "..." : out;
}

// The same rule as sender_owned_by_user, for the author (RFC 5322 3.6.2):
// without it an authenticated user could write From: anyone@our.domain and
// have it DKIM-signed as our domain. Only authenticated sessions: the local
// socket (role local) may write any From:, as with Postfix's sendmail.
Refusal from_owned_by_user(const SessionFacts& facts, std::string_view header_block, const Directory& directory) {
    if (!is_submission(facts) || facts.auth_user.empty()) return std::nullopt;
    const smtp::FromField from = smtp::from_field(header_block);
    switch (from.status) {
        case smtp::FromField::Status::absent: return std::nullopt;
        case smtp::FromField::Status::several:
            return smtp::make_reply(550, "5.6.0", "Error: message has more than one From: header (RFC 5322 3.6)");
        case smtp::FromField::Status::unparseable:
            return smtp::make_reply(550, "5.6.0", "Error: From: header has no readable address");
        case smtp::FromField::Status::found: break;
    }
    for (const auto& address : from.addresses)
        if (!directory.may_send_as(facts.auth_user, address))
            return smtp::make_reply(553, "5.7.1", "<" + printable(address) +
                                                      ">: From: header address not owned by user " + facts.auth_user);
    return std::nullopt;
}

// A bounce coming back to an address our forwarding made (SRS, docs/delivery.md):
// nullopt when `recipient` is not such an address (a real user or alias of that
// name wins), else the verdict: accepted (an empty Refusal) or 550 5.1.1. The
// client gets no reason: the hash, the age and the secret are ours to know.
std::optional<Refusal> srs_bounce_address(const Address& recipient, const Directory& directory,
                                          const SessionRules::SrsCheck& check) {
    if (!check || !directory.is_local_domain(recipient.domain) || !smtp::srs::parse(recipient.local)) return std::nullopt;
    if (directory.resolve(recipient.str())) return std::nullopt;
    if (!check(recipient.local)) return Refusal{};
    return smtp::make_reply(550, "5.1.1", bracketed(recipient) + ": Recipient address rejected: invalid SRS address");
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
    if (auto srs = srs_bounce_address(recipient, *directory, settings_.srs)) return *srs;
    return first_refusal({recipient_domain_valid(recipient), recipient_known(recipient, *directory),
                          relay_permitted(facts, recipient, *directory)});
}

std::optional<Reply> SessionRules::check_message(const SessionFacts& facts, std::string_view header_block) const {
    if (!settings_.check_from_header) return std::nullopt;
    return from_owned_by_user(facts, header_block, *directory_());
}

}  // namespace cartero::policy
