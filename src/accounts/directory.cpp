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

}  // namespace

Directory::Directory(std::vector<std::string> local_domains, std::vector<std::string> users,
                     std::vector<std::pair<std::string, std::string>> aliases, std::vector<config::Route> routes) {
    for (const auto& domain : local_domains) domains_.insert(normalize_address(domain));
    if (!local_domains.empty()) primary_domain_ = normalize_address(local_domains.front());
    for (const auto& user : users) users_.insert(normalize_address(user));
    for (const auto& [source, target] : aliases)
        push_unique(aliases_[normalize_address(source)], normalize_address(target));
    for (auto& route : routes) {
        route.domain = normalize_address(route.domain);
        routes_.emplace(route.domain, std::move(route));
    }
}

std::string Directory::qualify(std::string_view address) const {
    if (address.find('@') != std::string_view::npos || primary_domain_.empty()) return std::string(address);
    return std::string(address) + "@" + primary_domain_;
}

bool Directory::is_local_domain(std::string_view domain) const {
    return domains_.contains(normalize_address(domain));
}

const config::Route* Directory::route_for(std::string_view domain) const {
    const auto route = routes_.find(normalize_address(domain));
    return route == routes_.end() ? nullptr : &route->second;
}

bool Directory::accepts_domain(std::string_view domain) const {
    return is_local_domain(domain) || route_for(domain) != nullptr;
}

bool Directory::is_user(std::string_view address) const { return users_.contains(normalize_address(address)); }

// Depth-first expansion. `seen` holds the aliases already expanded on this path
// and elsewhere: a second visit (a loop, or a diamond) falls through to the
// user check, which is what makes "alice -> alice, archive" keep alice's copy.
void Directory::expand_into(const std::string& address, int depth, std::unordered_set<std::string>& seen,
                            Expansion& out) const {
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
    const auto key = normalize_address(address);
    if (key == owner) return true;
    if (!aliases_.contains(key)) return false;
    const auto mailboxes = expand(key).mailboxes;
    return std::find(mailboxes.begin(), mailboxes.end(), mailbox_of(owner)) != mailboxes.end();
}

}  // namespace cartero::accounts
