// The configuration schema: one table of every key, with its type, bounds, one
// line of documentation, and how it reaches Config. The loader walks TOML
// against this table; docs/configuration.md is checked against it by a test;
// defaults are not repeated here: they are read from the initializers in
// config.hpp (Config{}), so there is one place to change a default.
// (Postfix keeps VAR_/DEF_/var_ apart and needs check-postconf-undocumented to
// keep them honest; here the table is the only list.)
//
// Trust: the table is code; the values it validates are operator input.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace cartero::config {

enum class Kind {
    text,       // TOML string
    path,       // TOML string; relative = relative to the config file's directory
    text_list,  // TOML array of strings
    flag,       // TOML boolean
    count,      // TOML integer
    size,       // TOML integer (octets) or string "10MiB" (units.hpp)
    duration,   // TOML integer (seconds) or string "30s", "500ms" (units.hpp)
};

// Which table a key lives in: the top-level tables, or each entry of an array
// of tables ([[listener]], [[route]], [[relay]], [[destination]], [[lmtp]],
// [[domain_limits]]).
// Entry keys have no default: every entry must set all the keys of its scope
// that are not marked optional.
enum class Scope { global, listener, route, relay, destination, lmtp, domain_limits };

// Calls f with the entries of an entry scope ([[listener]], [[route]], ...) of
// `config`; the one place that knows which vector holds which scope.
template <typename C, typename F>
decltype(auto) with_entries(C& config, Scope scope, F&& f) {
    switch (scope) {
    case Scope::listener: return f(config.listeners);
    case Scope::route: return f(config.routes);
    case Scope::relay: return f(config.relays);
    case Scope::destination: return f(config.destinations);
    case Scope::lmtp: return f(config.lmtp_servers);
    case Scope::domain_limits: return f(config.domain_limits);
    case Scope::global: break;
    }
    throw std::logic_error("with_entries: not an entry scope");
}

// What SIGHUP does with a changed value (docs/operations.md, "Reloading").
//   live     the running server takes the new value: new sessions, deliveries,
//            lookups and signatures use it;
//   restart  read only at start (sockets, threads, paths of open files): a
//            reload keeps the running value and logs the key as needing a
//            restart (the Reloader in cli/serve_command.cpp). Every key of an entry scope shares one mode.
enum class Reload { live, restart };

// A value after TOML type checking: text and path -> string, text_list -> vector,
// flag -> bool, count and size -> int64 (units, octets), duration -> milliseconds.
// monostate = "no default" (entry keys).
using Value = std::variant<std::monostate, bool, std::int64_t, std::chrono::milliseconds, std::string,
                           std::vector<std::string>>;

// Inclusive; for count, size (octets) and duration (milliseconds) only.
struct Bounds {
    std::int64_t min = 0;
    std::int64_t max = 0;
};

struct KeySpec {
    std::string_view key;  // dotted: "limits.message_size", "listener.address"
    Kind kind;
    Scope scope;
    Bounds bounds;
    std::string_view doc;  // one line, for docs/configuration.md and error hints
    // Stores a type-checked, in-bounds value; validates what types cannot
    // (CIDR syntax, domain names, roles) and throws InvalidValue. Entry keys
    // store into the last entry: config.listeners.back(), config.routes.back().
    void (*store)(Config&, const Value&);
    // The value held now: Config{} gives the default; the loader uses it for
    // checks across keys. Entry keys load from the last entry, the one store
    // writes (monostate when there is none, or when an optional key is unset).
    Value (*load)(const Config&);
    // Entry keys only: may be left out of an entry ("(optional)" in the docs).
    bool optional = false;
    Reload reload = Reload::live;
};

std::span<const KeySpec> schema();
const KeySpec* find_key(std::string_view key);

// A value as it would be written in TOML: "10MiB", "5m", "\"localhost\"", "[]".
std::string format_value(Kind kind, const Value& value);

// A number of this kind as an operator writes it, unquoted: "10MiB", "5m", "20".
std::string format_number(Kind kind, std::int64_t number);

// "1KiB..2GiB" for count, size and duration keys; "" for the others.
std::string bounds_text(const KeySpec& spec);

// format_value of the Config{} value, or "(required)" / "(optional)" for entry keys.
std::string default_text(const KeySpec& spec);

// "reloads" or "restart": how docs/operations.md names spec.reload.
std::string_view reload_name(Reload reload);

// "size", "duration", ...: the type column of docs/configuration.md.
std::string_view kind_name(Kind kind);

// What a value of this kind looks like, for "expected ..." errors.
std::string_view kind_expectation(Kind kind);

}  // namespace cartero::config
