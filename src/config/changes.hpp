// What a reloaded configuration changes, key by key, read from the schema
// table (schema.hpp) so that SIGHUP, the restart warning and the docs cannot
// disagree about a key: one generic comparison, no list of keys to maintain.
//
// Trust: both configurations were loaded and validated already.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/schema.hpp"

namespace cartero::config {

// The keys whose values differ, in table order. An entry key differs when any
// entry of its scope differs in it, or when the number of entries differs.
std::vector<const KeySpec*> changed_keys(const Config& running, const Config& fresh);

// `fresh` with every key marked Reload::restart set back to its value in
// `running`: what a reload may apply while the old sockets, threads and files
// stay in use. Entry scopes are restored whole (their keys share one mode).
Config keep_restart_values(const Config& running, Config fresh);

// "data_dir, listener.address": key names for a log line.
std::string key_list(const std::vector<const KeySpec*>& keys);

}  // namespace cartero::config
