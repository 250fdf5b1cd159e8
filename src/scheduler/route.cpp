// Route; see route.hpp.
#include "scheduler/route.hpp"

namespace cartero::scheduler {

Router directory_router(std::function<std::shared_ptr<const accounts::Directory>()> current) {
    return [current = std::move(current)](std::string_view recipient) {
        const auto directory = current();
        Route route;
        const auto mailboxes = directory->resolve(recipient);
        if (!mailboxes) {
            route.unknown = true;
            return route;
        }
        for (const auto& mailbox : *mailboxes) route.mailboxes.push_back(mailbox.address());
        route.remote = directory->remote_targets(recipient);
        return route;
    };
}

}  // namespace cartero::scheduler
