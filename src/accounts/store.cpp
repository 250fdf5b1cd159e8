// load_directory: one snapshot builder for every AccountStore implementation.
#include "accounts/store.hpp"

namespace cartero::accounts {

std::shared_ptr<const Directory> load_directory(const AccountStore& store,
                                                const std::vector<std::string>& local_domains,
                                                const std::vector<config::Route>& routes,
                                                const config::Accounts& rules) {
    std::vector<std::string> users;
    std::unordered_map<std::string, SendingLimits> limits;
    for (auto& user : store.list_users()) {
        if (user.limits != SendingLimits{}) limits.emplace(user.address, user.limits);
        users.push_back(std::move(user.address));
    }
    std::vector<std::pair<std::string, std::string>> aliases;
    for (const auto& alias : store.list_aliases())
        for (const auto& target : alias.targets) aliases.emplace_back(alias.source, target);
    return std::make_shared<const Directory>(local_domains, std::move(users), std::move(aliases), routes, rules,
                                             std::move(limits));
}

}  // namespace cartero::accounts
