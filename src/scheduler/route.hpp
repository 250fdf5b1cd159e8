// Route: where one recipient's mail goes, as the queue runner needs it.
//
// Trust: recipients were validated at RCPT time; lookups are exact matches
// in the Directory snapshot (accounts/directory.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/directory.hpp"

namespace cartero::scheduler {

struct Route {
    bool unknown = false;                // local domain, no such user or alias: bounce
    std::vector<std::string> mailboxes;  // local mailbox addresses (after aliases)
    std::vector<std::string> remote;     // addresses outside the local domains
};

using Router = std::function<Route(std::string_view recipient)>;

// Routes with whatever Directory `current` returns at the time of the attempt,
// so an alias added while mail waits is honoured on the next retry.
Router directory_router(std::function<std::shared_ptr<const accounts::Directory>()> current);

}  // namespace cartero::scheduler
