// Directory: alias expansion and sender ownership on an immutable snapshot.
// Pure: no I/O, no clock. See directory.hpp for the semantics.
#include "accounts/directory.hpp"

#include <algorithm>

namespace cartero::accounts {
namespace {

template <typename T>
void push_unique(std::vector<T>& items, T item) {
    if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
}

Mailbox mailbox_of(const std::string& address) {
    const auto at = address.rfind('@');
    return Mailbox{address.substr(0, at), address.substr(at + 1)};
}

std::string_view local_part_of(std::string_view address) { return address.substr(0, address.rfind('@')); }

constexpr std::string_view postmaster = "postmaster";

}  // namespace

Directory::Directory(std::vector<std::string> local_domains, std::vector<std::string> users,
                     std::vector<std::pair<std::string, std::string>> aliases, std::vector<config::Route> routes,
                     config::Accounts rules, std::unordered_map<std::string, SendingLimits> sending_limits)
    : delimiters_(std::move(rules.recipient_delimiter)), sending_limits_(std::move(sending_limits)) {
    for (const auto& domain : local_domains) domains_.insert(normalize_domain(domain));
    if (!local_domains.empty()) primary_domain_ = normalize_domain(local_domains.front());
    postmaster_ = normalize_address(rules.postmaster.empty() ? std::string(postmaster) + "@" + primary_domain_
                                                             : rules.postmaster);
    for (const auto& user : users) users_.insert(normalize_address(user));
    for (const auto& [source, target] : aliases)
        push_unique(aliases_[normalize_address(source)], normalize_address(target));
    for (auto& route : routes) {
        route.domain = normalize_domain(route.domain);
        routes_.emplace(route.domain, std::move(route));
    }
}

std::string Directory::qualify(std::string_view address) const {
    if (address.find('@') != std::string_view::npos || primary_domain_.empty()) return std::string(address);
    return std::string(address) + "@" + primary_domain_;
}

bool Directory::is_local_domain(std::string_view domain) const {
    return domains_.contains(normalize_domain(domain));
}

bool Directory::is_postmaster(std::string_view address) const {
    const auto key = normalize_address(address);
    if (local_part_of(key) != postmaster) return false;
    return key.find('@') == std::string::npos || is_local_domain(domain_of(key));
}

std::optional<std::string> Directory::postmaster_problem(std::string_view cartero) const {
    std::vector<std::string> sorted(domains_.begin(), domains_.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& domain : sorted) {
        const auto address = std::string(postmaster) + "@" + domain;
        const auto mailboxes = resolve(address);
        if (mailboxes && (!mailboxes->empty() || !remote_targets(address).empty())) continue;
        return "mail to " + address + " (RFC 5321 4.5.1: always accepted) has nowhere to go: it would bounce. " +
               "Create the alias (" + std::string(cartero) + " alias add " + postmaster_ + " you@" + primary_domain_ +
               ") or set accounts.postmaster in the config file";
    }
    return std::nullopt;
}

const config::Route* Directory::route_for(std::string_view domain) const {
    const auto route = routes_.find(normalize_domain(domain));
    return route == routes_.end() ? nullptr : &route->second;
}

bool Directory::accepts_domain(std::string_view domain) const {
    return is_local_domain(domain) || route_for(domain) != nullptr;
}

bool Directory::is_user(std::string_view address) const { return users_.contains(normalize_address(address)); }

bool Directory::exists(const std::string& key) const { return users_.contains(key) || aliases_.contains(key); }

// Exact name first, then the name before the first delimiter character (a
// local part that starts with a delimiter is not a subaddress).
std::string Directory::owner_key(const std::string& key) const {
    if (exists(key) || delimiters_.empty() || !is_local_domain(domain_of(key))) return key;
    const auto local = local_part_of(key);
    const auto cut = local.find_first_of(delimiters_);
    if (cut == std::string_view::npos || cut == 0) return key;
    auto base = std::string(local.substr(0, cut)) + "@" + std::string(domain_of(key));
    return exists(base) || local.substr(0, cut) == postmaster ? base : key;
}

std::string Directory::delivery_key(const std::string& key) const {
    auto owner = owner_key(key);
    if (exists(owner) || local_part_of(owner) != postmaster || !is_local_domain(domain_of(owner))) return owner;
    return postmaster_;
}

// Depth-first expansion. `seen` holds the aliases already expanded on this path
// and elsewhere: a second visit (a loop, or a diamond) falls through to the
// user check, which is what makes "alice -> alice, archive" keep alice's copy.
void Directory::expand_into(const std::string& as_given, int depth, std::unordered_set<std::string>& seen,
                            Expansion& out) const {
    const std::string address = delivery_key(as_given);
    const auto alias = aliases_.find(address);
    if (alias != aliases_.end() && depth < max_alias_depth && seen.insert(address).second) {
        for (const auto& target : alias->second) expand_into(target, depth + 1, seen, out);
        return;
    }
    if (users_.contains(address)) {
        push_unique(out.mailboxes, mailbox_of(address));
    } else if (!is_local_domain(domain_of(address))) {
        push_unique(out.remote, address);
    }
    // else: an unknown local address (or a cut loop) contributes nothing.
}

Directory::Expansion Directory::expand(const std::string& address) const {
    Expansion out;
    std::unordered_set<std::string> seen;
    expand_into(address, 0, seen, out);
    return out;
}

std::optional<std::vector<Mailbox>> Directory::resolve(std::string_view address) const {
    const auto key = normalize_address(address);
    auto expansion = expand(key);
    if (is_local_domain(domain_of(key)) && expansion.mailboxes.empty() && expansion.remote.empty())
        return std::nullopt;
    return std::move(expansion.mailboxes);
}

std::vector<std::string> Directory::remote_targets(std::string_view address) const {
    return expand(normalize_address(address)).remote;
}

bool Directory::may_send_as(std::string_view user, std::string_view address) const {
    const auto owner = normalize_address(user);
    if (!users_.contains(owner)) return false;
    const auto key = owner_key(normalize_address(address));
    if (key == owner) return true;
    if (!aliases_.contains(key)) return false;
    const auto mailboxes = expand(key).mailboxes;
    return std::find(mailboxes.begin(), mailboxes.end(), mailbox_of(owner)) != mailboxes.end();
}

SendingLimits Directory::sending_limits(std::string_view account) const {
    const auto found = sending_limits_.find(normalize_address(account));
    return found == sending_limits_.end() ? SendingLimits{} : found->second;
}

}  // namespace cartero::accounts
