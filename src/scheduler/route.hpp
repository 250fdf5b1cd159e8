// Route: where one recipient's mail goes, as the queue runner needs it.
//
// Routing order (docs/queue.md):
//   1. the [[route]] table: a recipient whose domain has a route goes to that
//      route's transport as it is, no alias expansion, no user check;
//   2. the local domains: aliases are expanded to local mailboxes, and alias
//      targets outside the local domains go through this order again from 1
//      (a routed target to its transport, anything else to 3);
//   3. remote: everything else (MX delivery, a later issue).
// The config keeps route and local domains apart, so 1 and 2 never compete;
// asking the route table first still makes the order the code's, not luck.
//
// Trust: recipients were validated at RCPT time; lookups are exact matches
// in the Directory snapshot (accounts/directory.hpp).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/directory.hpp"
#include "config/config.hpp"

namespace cartero::scheduler {

// An address in a [[route]] domain, and what its route does with it.
struct RoutedAddress {
    std::string address;  // normalised (accounts::normalize_address)
    config::Transport transport = config::Transport::discard;
};

struct Route {
    bool unknown = false;                // local domain, no such user or alias: bounce
    std::vector<std::string> mailboxes;  // local mailbox addresses (after aliases)
    std::vector<RoutedAddress> routed;   // addresses in [[route]] domains
    std::vector<std::string> remote;     // addresses outside the local and routed domains
    // The recipient, normalised, when it is in a local domain: mail to it is
    // ours to deliver or forward (the address of the Delivered-To line on
    // forwarded copies, and of the loop check). "" for remote and routed ones.
    std::string local_recipient = {};
    // The remote addresses are forwards (a local alias, or the original sender
    // behind an SRS address of ours), not the recipient itself: they leave with
    // the forwarding sender (DeliveryQueueOptions::forward_sender, SRS).
    bool forwarded = false;
};

using Router = std::function<Route(std::string_view recipient)>;

// The original address behind an SRS address of ours (docs/delivery.md), or
// nullopt when `address` is not one or does not verify. Age is not checked
// here: it was at RCPT, and a bounce may wait in the queue.
using SrsUnwrap = std::function<std::optional<std::string>(std::string_view address)>;

// Routes with whatever Directory `current` returns at the time of the attempt,
// so an alias added while mail waits is honoured on the next retry. With
// `unwrap`, a recipient in a local domain that is no user or alias but an SRS
// address of ours is routed as the original address it wraps.
Router directory_router(std::function<std::shared_ptr<const accounts::Directory>()> current, SrsUnwrap unwrap = {});

}  // namespace cartero::scheduler
