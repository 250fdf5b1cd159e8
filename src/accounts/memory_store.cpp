// MemoryAccountStore: maps under one mutex. Each method normalises its keys,
// as SqliteAccountStore does, so both behave alike for mixed-case input.
#include "accounts/memory_store.hpp"

#include <algorithm>

namespace cartero::accounts {
namespace {

bool same_app_password(const AppPassword& entry, const std::string& user, std::string_view label) {
    return entry.user == user && entry.label == label;
}

}  // namespace

Change MemoryAccountStore::changed() {
    ++version_;
    return Change::done;
}

Change MemoryAccountStore::add_user(const User& user) {
    std::scoped_lock lock(mutex_);
    User stored = user;
    stored.address = normalize_address(user.address);
    if (!users_.emplace(stored.address, stored).second) return Change::exists;
    return changed();
}

Change MemoryAccountStore::delete_user(std::string_view address) {
    std::scoped_lock lock(mutex_);
    const auto key = normalize_address(address);
    if (users_.erase(key) == 0) return Change::not_found;
    std::erase_if(app_passwords_, [&](const AppPassword& entry) { return entry.user == key; });
    return changed();
}

std::vector<User> MemoryAccountStore::list_users() const {
    std::scoped_lock lock(mutex_);
    std::vector<User> out;
    for (const auto& [key, user] : users_) out.push_back(user);
    return out;
}

std::optional<User> MemoryAccountStore::find_user(std::string_view address) const {
    std::scoped_lock lock(mutex_);
    const auto found = users_.find(normalize_address(address));
    if (found == users_.end()) return std::nullopt;
    return found->second;
}

Change MemoryAccountStore::set_password_hash(std::string_view address, std::string_view hash) {
    std::scoped_lock lock(mutex_);
    const auto found = users_.find(normalize_address(address));
    if (found == users_.end()) return Change::not_found;
    found->second.password_hash = hash;
    return changed();
}

Change MemoryAccountStore::set_app_passwords_only(std::string_view address, bool on) {
    std::scoped_lock lock(mutex_);
    const auto found = users_.find(normalize_address(address));
    if (found == users_.end()) return Change::not_found;
    found->second.app_passwords_only = on;
    return changed();
}

Change MemoryAccountStore::set_sending_limits(std::string_view address, const SendingLimits& limits) {
    std::scoped_lock lock(mutex_);
    const auto found = users_.find(normalize_address(address));
    if (found == users_.end()) return Change::not_found;
    found->second.limits = limits;
    return changed();
}

Change MemoryAccountStore::add_app_password(std::string_view address, std::string_view label,
                                            std::string_view digest, WallTime created) {
    std::scoped_lock lock(mutex_);
    const auto key = normalize_address(address);
    if (!users_.contains(key)) return Change::not_found;
    const bool taken = std::any_of(app_passwords_.begin(), app_passwords_.end(),
                                   [&](const AppPassword& entry) { return same_app_password(entry, key, label); });
    if (taken) return Change::exists;
    app_passwords_.push_back(AppPassword{next_app_password_id_++, key, std::string(label), std::string(digest),
                                         created, std::nullopt});
    return changed();
}

std::vector<AppPassword> MemoryAccountStore::list_app_passwords(std::string_view address) const {
    std::scoped_lock lock(mutex_);
    const auto key = normalize_address(address);
    std::vector<AppPassword> out;
    std::copy_if(app_passwords_.begin(), app_passwords_.end(), std::back_inserter(out),
                 [&](const AppPassword& entry) { return entry.user == key; });
    std::sort(out.begin(), out.end(), [](const AppPassword& a, const AppPassword& b) { return a.label < b.label; });
    return out;
}

Change MemoryAccountStore::revoke_app_password(std::string_view address, std::string_view label) {
    std::scoped_lock lock(mutex_);
    const auto key = normalize_address(address);
    if (std::erase_if(app_passwords_, [&](const AppPassword& entry) { return same_app_password(entry, key, label); }) == 0)
        return Change::not_found;
    return changed();
}

// Not a version change: last_used does not affect the Directory snapshot.
void MemoryAccountStore::touch_app_password(std::int64_t id, WallTime used) {
    std::scoped_lock lock(mutex_);
    for (auto& entry : app_passwords_)
        if (entry.id == id) entry.last_used = used;
}

Change MemoryAccountStore::add_alias(std::string_view source, const std::vector<std::string>& targets) {
    std::scoped_lock lock(mutex_);
    auto& stored = aliases_[normalize_address(source)];
    for (const auto& target : targets) {
        auto key = normalize_address(target);
        if (std::find(stored.begin(), stored.end(), key) == stored.end()) stored.push_back(std::move(key));
    }
    std::sort(stored.begin(), stored.end());
    return changed();
}

Change MemoryAccountStore::delete_alias(std::string_view source) {
    std::scoped_lock lock(mutex_);
    if (aliases_.erase(normalize_address(source)) == 0) return Change::not_found;
    return changed();
}

std::vector<Alias> MemoryAccountStore::list_aliases() const {
    std::scoped_lock lock(mutex_);
    std::vector<Alias> out;
    for (const auto& [source, targets] : aliases_) out.push_back(Alias{source, targets});
    return out;
}

std::uint64_t MemoryAccountStore::version() const {
    std::scoped_lock lock(mutex_);
    return version_;
}

}  // namespace cartero::accounts
