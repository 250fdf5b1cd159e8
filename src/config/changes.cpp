// changed_keys and keep_restart_values; see changes.hpp.
#include "config/changes.hpp"

#include <algorithm>
#include <set>

namespace cartero::config {
namespace {

std::size_t entry_count(const Config& config, Scope scope) {
    return with_entries(config, scope, [](const auto& entries) { return entries.size(); });
}

// The value of an entry key in entry `index`: KeySpec::load reads the last
// entry, so it reads a copy cut after that one. monostate past the end.
Value entry_value(const Config& config, const KeySpec& spec, std::size_t index) {
    if (index >= entry_count(config, spec.scope)) return std::monostate{};
    Config prefix = config;
    with_entries(prefix, spec.scope, [index](auto& entries) { entries.resize(index + 1); });
    return spec.load(prefix);
}

bool differs(const Config& running, const Config& fresh, const KeySpec& spec) {
    if (spec.scope == Scope::global) return spec.load(running) != spec.load(fresh);
    const std::size_t entries = std::max(entry_count(running, spec.scope), entry_count(fresh, spec.scope));
    for (std::size_t index = 0; index < entries; ++index)
        if (entry_value(running, spec, index) != entry_value(fresh, spec, index)) return true;
    return false;
}

// Rebuilds the entries of `scope` in `target` from `source`, through the
// table's store functions (which also re-run their checks).
void copy_entries(const Config& source, Config& target, Scope scope) {
    with_entries(target, scope, [](auto& entries) { entries.clear(); });
    for (std::size_t index = 0; index < entry_count(source, scope); ++index) {
        with_entries(target, scope, [](auto& entries) { entries.emplace_back(); });
        for (const KeySpec& spec : schema()) {
            if (spec.scope != scope) continue;
            const Value value = entry_value(source, spec, index);
            if (!std::holds_alternative<std::monostate>(value)) spec.store(target, value);
        }
    }
}

}  // namespace

std::vector<const KeySpec*> changed_keys(const Config& running, const Config& fresh) {
    std::vector<const KeySpec*> changed;
    for (const KeySpec& spec : schema())
        if (differs(running, fresh, spec)) changed.push_back(&spec);
    return changed;
}

Config keep_restart_values(const Config& running, Config fresh) {
    std::set<Scope> entry_scopes;
    for (const KeySpec& spec : schema()) {
        if (spec.reload != Reload::restart) continue;
        if (spec.scope == Scope::global)
            spec.store(fresh, spec.load(running));
        else
            entry_scopes.insert(spec.scope);
    }
    for (const Scope scope : entry_scopes) copy_entries(running, fresh, scope);
    return fresh;
}

std::string key_list(const std::vector<const KeySpec*>& keys) {
    std::string out;
    for (const KeySpec* spec : keys) out += (out.empty() ? "" : ", ") + std::string(spec->key);
    return out;
}

}  // namespace cartero::config
