// Route; see route.hpp.
#include "scheduler/route.hpp"

namespace cartero::scheduler {
namespace {

// Step 1 of the order in route.hpp, for a recipient or an alias target: true
// when its domain has a route, which then takes it.
bool take_if_routed(const accounts::Directory& directory, std::string_view address, Route& route) {
    const config::Route* routed = directory.route_for(accounts::domain_of(address));
    if (routed == nullptr) return false;
    route.routed.push_back({accounts::normalize_address(address), routed->transport});
    return true;
}

Route route_recipient(const accounts::Directory& directory, std::string_view as_received) {
    const std::string recipient = directory.qualify(as_received);
    Route route;
    if (take_if_routed(directory, recipient, route)) return route;
    if (directory.is_local_domain(accounts::domain_of(recipient)))
        route.local_recipient = accounts::normalize_address(recipient);
    const auto mailboxes = directory.resolve(recipient);
    if (!mailboxes) {
        route.unknown = true;
        return route;
    }
    for (const auto& mailbox : *mailboxes) route.mailboxes.push_back(mailbox.address());
    for (auto& target : directory.remote_targets(recipient))
        if (!take_if_routed(directory, target, route)) route.remote.push_back(std::move(target));
    // Remote targets of a local-domain recipient come from its aliases.
    route.forwarded = directory.is_local_domain(accounts::domain_of(recipient));
    return route;
}

// An SRS address of ours goes where the address it wraps goes, once: an
// address wrapped twice by us is unwrapped by its next bounce, not here.
Route route_unwrapping(const accounts::Directory& directory, std::string_view recipient, const SrsUnwrap& unwrap) {
    Route route = route_recipient(directory, recipient);
    if (!route.unknown || !unwrap) return route;
    const auto original = unwrap(recipient);
    if (!original) return route;
    route = route_recipient(directory, *original);
    route.forwarded = true;
    return route;
}

}  // namespace

Router directory_router(std::function<std::shared_ptr<const accounts::Directory>()> current, SrsUnwrap unwrap) {
    return [current = std::move(current), unwrap = std::move(unwrap)](std::string_view recipient) {
        return route_unwrapping(*current(), recipient, unwrap);
    };
}

}  // namespace cartero::scheduler
