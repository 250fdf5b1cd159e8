// Directory: an immutable in-memory snapshot of accounts, aliases, local
// domains and [[route]] domains, used on the session path without any I/O. The server reloads it
// from the AccountStore when the store changes (AccountStore::version()) and
// swaps it atomically (a shared_ptr<const Directory>).
//
// Trust: addresses passed in are untrusted (validated syntax only); lookups are
// exact-match map lookups on normalised keys, never patterns. Open-relay tricks
// (`user%other@local`, `user!other@local`, `"user@other"@local`) are just local
// parts that name no user, so they resolve to nothing: cartero never interprets
// '%', '!' or quotes inside a local part.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "accounts/address.hpp"
#include "config/config.hpp"

namespace cartero::accounts {

// A local mailbox: the account that owns a Maildir.
struct Mailbox {
    std::string localpart;  // lower-case (ASCII letters)
    std::string domain;     // A-label, lower-case
    std::string address() const { return localpart + "@" + domain; }
    friend bool operator==(const Mailbox&, const Mailbox&) = default;
};

// An account's own sending limits (`cartero user limits`, docs/limits.md
// "Sending quotas"); an unset one falls back to [[domain_limits]], then [limits].
struct SendingLimits {
    std::optional<std::size_t> per_hour;
    std::optional<std::size_t> per_day;
    std::optional<std::size_t> recipients_per_day;
    friend bool operator==(const SendingLimits&, const SendingLimits&) = default;
};

class Directory {
public:
    // Alias depth bound: deeper chains are cut (Postfix virtual_alias_recursion_limit
    // uses 1000; cartero's aliases are hand-written, 10 levels is plenty).
    static constexpr int max_alias_depth = 10;

    Directory() = default;
    // `aliases` are (source, target) pairs; a source with several targets appears
    // once per target. All strings are normalised here. `routes` come from the
    // config, which keeps their domains apart from `local_domains` (a domain in
    // both would be local here and routed by the queue, which asks route_for first).
    // `rules` are the [accounts] settings: the postmaster address and the
    // recipient delimiters (see delivery_key below).
    Directory(std::vector<std::string> local_domains, std::vector<std::string> users,
              std::vector<std::pair<std::string, std::string>> aliases, std::vector<config::Route> routes = {},
              config::Accounts rules = {},
              std::unordered_map<std::string, SendingLimits> sending_limits = {});

    // The limits set on this account (normalised address), all unset when none.
    SendingLimits sending_limits(std::string_view account) const;

    bool is_local_domain(std::string_view domain) const;
    bool is_user(std::string_view address) const;

    // RFC 5321 4.5.1: "RCPT TO:<Postmaster>" without a domain must be accepted
    // and reach the postmaster; it arrives here as "postmaster" and becomes
    // "postmaster@" + the first local domain of the config. Every other
    // address is returned unchanged.
    std::string qualify(std::string_view address) const;

    // RFC 5321 4.5.1: postmaster (any letter case) at a local domain, or bare
    // "Postmaster". Such a recipient is always accepted, whether or not its
    // mail has anywhere to go (postmaster_problem says when it has not).
    bool is_postmaster(std::string_view address) const;
    // Why mail to postmaster@ some local domain leads to no mailbox and no
    // remote address ("postmaster@b.example: ... create the alias ..."), or
    // nullopt. The server logs it as a warning whenever the snapshot changes.
    // `cartero` starts the command it suggests: the server passes the one that
    // reaches its own data ("cartero --config FILE"), so it works as printed.
    std::optional<std::string> postmaster_problem(std::string_view cartero = "cartero") const;

    // The [[route]] for exactly this domain (case-insensitive; no parent-domain
    // or wildcard match), or nullptr. Valid as long as this snapshot.
    const config::Route* route_for(std::string_view domain) const;
    // Domains cartero takes mail for from anyone, on every role: the local
    // domains and the routed ones (Postfix mydestination + relay_domains).
    // Everything else is relayed only for authenticated or trusted clients.
    bool accepts_domain(std::string_view domain) const;

    // The local mailboxes mail to `address` goes to, following aliases (bounded
    // depth, loops cut; an alias that lists its own source delivers to that user,
    // as Postfix virtual aliases do). nullopt when the address is in a local
    // domain and leads to no mailbox and no remote target (unknown user, or an
    // alias whose every target is unknown or a loop). An address outside the
    // local domains yields an empty list: its mail goes to remote_targets().
    std::optional<std::vector<Mailbox>> resolve(std::string_view address) const;
    // The non-local addresses mail to `address` is forwarded to: the address itself
    // when it is not local, or the remote targets its aliases lead to.
    std::vector<std::string> remote_targets(std::string_view address) const;

    // RFC 6409 6.1 / Postfix smtpd_sender_login_maps: `user` may use `address` as
    // MAIL FROM if it is the user's own address or an alias that resolves to
    // that user (for a group alias, every member may send as the group). A
    // subaddress counts as its owner's (alice may send as alice+news, as Gmail
    // allows), unless alice+news is itself a user or alias. The postmaster
    // fallback grants nothing: sending as postmaster@ needs an alias.
    bool may_send_as(std::string_view user, std::string_view address) const;

    // The key mail to the normalised `key` is delivered as, for an address in a
    // local domain: itself when it is a user or alias; else, for
    // "local<delim>extension", "local" when that is a user or alias (RFC 5233
    // subaddressing, Postfix recipient_delimiter: the first delimiter character
    // splits); else, for postmaster, accounts.postmaster (default
    // postmaster@<first local domain>). Any other key is returned unchanged.
    std::string delivery_key(const std::string& key) const;

private:
    struct Expansion {
        std::vector<Mailbox> mailboxes;
        std::vector<std::string> remote;
    };
    Expansion expand(const std::string& address) const;
    void expand_into(const std::string& address, int depth, std::unordered_set<std::string>& seen,
                     Expansion& out) const;
    bool exists(const std::string& key) const;
    std::string owner_key(const std::string& key) const;

    std::unordered_set<std::string> domains_;
    std::string primary_domain_;  // the first of local_domains, for qualify()
    std::unordered_set<std::string> users_;
    std::unordered_map<std::string, std::vector<std::string>> aliases_;
    std::unordered_map<std::string, config::Route> routes_;  // by domain
    std::string postmaster_;  // normalised accounts.postmaster, or postmaster@primary_domain_
    std::string delimiters_;  // accounts.recipient_delimiter
    std::unordered_map<std::string, SendingLimits> sending_limits_;  // by account, only those with limits set
};

}  // namespace cartero::accounts
