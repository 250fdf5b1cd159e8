// load_file: reads a TOML config file and checks it against the schema table.
//
// Every problem stops the load with one ConfigError "FILE:LINE: KEY: what is
// wrong (how to fix)": unknown keys (a typo must not silently fall back to a
// default), wrong types, values out of bounds, invalid contents, and rules that
// span keys (TLS files for TLS listeners, retry_initial <= retry_max, ...).
//
// Trust: the file is operator input; it is trusted to mean what it says, and
// checked so that what it says is unambiguous. Reads the file and stats the
// TLS files and relay password files it names (reading the first line of a
// password file this user owns); nothing else.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <toml++/toml.h>

#include "config/config.hpp"
#include "config/invalid_value.hpp"
#include "config/listen_address.hpp"
#include "config/schema.hpp"
#include "config/units.hpp"

namespace cartero::config {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kDocsHint = "every key is described in docs/configuration.md";

// ---- reading TOML nodes ----------------------------------------------------

std::string_view toml_type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
    }
    return "nothing";
}

std::uint32_t line_of(const toml::node& node) { return node.source().begin.line; }

// Edit distance, for "did you mean" on unknown keys.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
        }
    }
    return row[b.size()];
}

std::string section_of(std::string_view key) {
    const std::size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string{} : std::string(key.substr(0, dot));
}

// True when `name` is a table holding keys of this scope: "limits", "listener", "route".
bool is_section(std::string_view name, Scope scope) {
    return std::any_of(schema().begin(), schema().end(), [&](const KeySpec& spec) {
        return spec.scope == scope && section_of(spec.key) == name;
    });
}

std::string unknown_key_fix(std::string_view name) {
    constexpr std::size_t kMaxTypos = 2;
    for (const KeySpec& spec : schema()) {
        for (const std::string& candidate : {std::string(spec.key), section_of(spec.key)}) {
            if (!candidate.empty() && distance(name, candidate) <= kMaxTypos) {
                return "did you mean " + candidate + "? " + std::string(kDocsHint);
            }
        }
    }
    return "remove it or fix its spelling; " + std::string(kDocsHint);
}

// A table's entries in file order, so the first error reported is the first in
// the file (toml::table iterates in key order).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [key, node] : table) {
        entries.emplace_back(&key, &node);
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first->source().begin < b.first->source().begin; });
    return entries;
}

// Integer seconds to milliseconds, saturating so that huge or negative input
// still fails the bounds check instead of overflowing.
milliseconds seconds_to_ms(std::int64_t seconds) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1000;
    return milliseconds{std::clamp(seconds, -kMax, kMax) * 1000};
}

std::int64_t as_number(const Value& value) {
    if (const auto* duration = std::get_if<milliseconds>(&value)) {
        return duration->count();
    }
    return std::get<std::int64_t>(value);
}

// ---- rules that span keys ---------------------------------------------------

struct Ordering {
    std::string_view smaller;  // must be <= larger
    std::string_view larger;
};

constexpr Ordering kOrderings[] = {
    {"delivery.retry_initial", "delivery.retry_max"},
    {"limits.command_timeout", "limits.session_timeout"},
    {"limits.data_timeout", "limits.session_timeout"},
    {"limits.auth_failures_before_delay", "limits.auth_failures_before_disconnect"},
};

// The scopes written as arrays of tables, one entry per [[name]].
constexpr Scope kEntryScopes[] = {Scope::listener, Scope::route, Scope::relay, Scope::destination, Scope::lmtp};

// ---- the walk ----------------------------------------------------------------

class Loader {
public:
    Loader(std::string file, Config& config) : file_(std::move(file)), config_(config) {}

    void walk(const toml::table& table, std::string_view prefix, Scope scope) {
        for (const auto& [key, node] : in_file_order(table)) {
            const std::string name =
                prefix.empty() ? std::string(key->str()) : std::string(prefix) + "." + std::string(key->str());
            walk_entry(name, *key, *node, scope);
        }
    }

    void resolve_relative_paths() {
        const std::filesystem::path base = config_.source.parent_path();
        for (const KeySpec& spec : schema()) {
            if (spec.kind != Kind::path || spec.scope != Scope::global) {
                continue;
            }
            const std::filesystem::path path = std::get<std::string>(spec.load(config_));
            if (!path.empty() && path.is_relative()) {
                spec.store(config_, (base / path).lexically_normal().string());
            }
        }
        for (Relay& relay : config_.relays) {
            if (!relay.password_file.empty() && relay.password_file.is_relative()) {
                relay.password_file = (base / relay.password_file).lexically_normal();
            }
        }
    }

    void check_across_keys() const {
        for (const Ordering& rule : kOrderings) {
            check_ordering(rule);
        }
        check_tls_pair();
        check_listeners_have_tls();
        check_proxy_sources();
        check_routes_are_not_local();
        check_relays();
        check_destinations();
        check_lmtp_domains_are_local();
    }

private:
    void walk_entry(const std::string& name, const toml::key& key, const toml::node& node, Scope scope) {
        if (scope == Scope::global && is_section(name, Scope::global)) {
            const toml::table* table = node.as_table();
            if (table == nullptr) {
                fail(node.source().begin.line, name, "is " + std::string(toml_type_name(node)),
                     "it is a section: write [" + name + "] and its keys below it");
            }
            walk(*table, name, Scope::global);
            return;
        }
        for (const Scope entry_scope : kEntryScopes) {
            if (scope == Scope::global && is_section(name, entry_scope)) {
                walk_entries(name, node, entry_scope);
                return;
            }
        }
        const KeySpec* spec = find_key(name);
        if (spec == nullptr || spec->scope != scope) {
            fail(key.source().begin.line, name, "unknown key", unknown_key_fix(name));
        }
        set(*spec, node);
    }

    void walk_entries(const std::string& name, const toml::node& node, Scope scope) {
        const toml::array* array = node.as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            fail(line_of(node), name, "is " + std::string(toml_type_name(node)),
                 "write one [[" + name + "]] table (two brackets) per " + name);
        }
        for (const toml::node& element : *array) {
            const toml::table& table = *element.as_table();
            start_entry(scope);
            entry_lines_[scope].push_back(line_of(table));
            walk(table, name, scope);
            check_required(table, name, scope);
        }
    }

    // Entry keys store into the last entry (schema.hpp), so it must exist first.
    void start_entry(Scope scope) {
        if (scope != Scope::global) with_entries(config_, scope, [](auto& entries) { entries.emplace_back(); });
    }

    void check_required(const toml::table& table, const std::string& section, Scope scope) const {
        for (const KeySpec& spec : schema()) {
            if (spec.scope != scope || spec.optional) {
                continue;
            }
            const std::string_view field = spec.key.substr(section.size() + 1);
            if (!table.contains(field)) {
                fail(line_of(table), spec.key, "missing in this [[" + section + "]]",
                     "add a line " + std::string(field) + " = ... to it; " + std::string(kDocsHint));
            }
        }
    }

    void set(const KeySpec& spec, const toml::node& node) {
        const Value value = read(spec, node);
        try {
            spec.store(config_, value);
        } catch (const InvalidValue& invalid) {
            const toml::array* list = node.as_array();
            const bool in_list = invalid.element() && list != nullptr && *invalid.element() < list->size();
            const std::uint32_t line = in_list ? line_of(*list->get(*invalid.element())) : line_of(node);
            fail(line, spec.key, invalid.what(), invalid.fix());
        }
        if (spec.scope == Scope::global) {
            lines_[std::string(spec.key)] = line_of(node);
        }
    }

    Value read(const KeySpec& spec, const toml::node& node) const {
        switch (spec.kind) {
        case Kind::text:
        case Kind::path:
            if (const auto* text = node.as_string()) {
                return text->get();
            }
            break;
        case Kind::text_list:
            if (const auto* array = node.as_array()) {
                return read_list(spec, *array);
            }
            break;
        case Kind::flag:
            if (const auto* flag = node.as_boolean()) {
                return flag->get();
            }
            break;
        case Kind::count:
            if (const auto* integer = node.as_integer()) {
                return in_bounds(spec, node, integer->get());
            }
            break;
        case Kind::size: return read_size(spec, node);
        case Kind::duration: return read_duration(spec, node);
        }
        throw_wrong_type(spec, node);
    }

    std::vector<std::string> read_list(const KeySpec& spec, const toml::array& array) const {
        std::vector<std::string> items;
        for (const toml::node& element : array) {
            const auto* text = element.as_string();
            if (text == nullptr) {
                fail(line_of(element), spec.key, "has " + std::string(toml_type_name(element)) + " in the list",
                     "write " + std::string(kind_expectation(spec.kind)));
            }
            items.push_back(text->get());
        }
        return items;
    }

    Value read_size(const KeySpec& spec, const toml::node& node) const {
        if (const auto* integer = node.as_integer()) {
            return in_bounds(spec, node, integer->get());
        }
        const auto* text = node.as_string();
        if (text == nullptr) {
            throw_wrong_type(spec, node);
        }
        const auto octets = parse_size(text->get());
        if (!octets) {
            fail(line_of(node), spec.key, "\"" + text->get() + "\" is not a size",
                 "write an integer number of octets, or a whole number and a unit (" +
                     std::string(kSizeUnitsHelp) + "), e.g. \"10MiB\"");
        }
        return in_bounds(spec, node, *octets);
    }

    Value read_duration(const KeySpec& spec, const toml::node& node) const {
        if (const auto* integer = node.as_integer()) {
            return milliseconds{in_bounds(spec, node, seconds_to_ms(integer->get()).count())};
        }
        const auto* text = node.as_string();
        if (text == nullptr) {
            throw_wrong_type(spec, node);
        }
        const auto duration = parse_duration(text->get());
        if (!duration) {
            fail(line_of(node), spec.key, "\"" + text->get() + "\" is not a duration",
                 "write an integer number of seconds, or a whole number and a unit (" +
                     std::string(kDurationUnitsHelp) + "), e.g. \"30s\" or \"5m\"");
        }
        return milliseconds{in_bounds(spec, node, duration->count())};
    }

    std::int64_t in_bounds(const KeySpec& spec, const toml::node& node, std::int64_t number) const {
        if (number < spec.bounds.min || number > spec.bounds.max) {
            fail(line_of(node), spec.key, format_number(spec.kind, number) + " is out of range",
                 "use a value from " + format_number(spec.kind, spec.bounds.min) + " to " +
                     format_number(spec.kind, spec.bounds.max));
        }
        return number;
    }

    [[noreturn]] void throw_wrong_type(const KeySpec& spec, const toml::node& node) const {
        fail(line_of(node), spec.key, "is " + std::string(toml_type_name(node)),
             "write " + std::string(kind_expectation(spec.kind)));
    }

    void check_ordering(const Ordering& rule) const {
        const KeySpec& smaller = *find_key(rule.smaller);
        const KeySpec& larger = *find_key(rule.larger);
        const std::int64_t small_value = as_number(smaller.load(config_));
        const std::int64_t large_value = as_number(larger.load(config_));
        if (small_value <= large_value) {
            return;
        }
        // Blame the key the file set; the defaults are consistent (a test checks).
        const bool larger_set = lines_.contains(std::string(rule.larger));
        const KeySpec& blamed = larger_set ? larger : smaller;
        fail(lines_.at(std::string(blamed.key)), blamed.key,
             std::string(rule.smaller) + " (" + format_number(smaller.kind, small_value) + ") is greater than " +
                 std::string(rule.larger) + " (" + format_number(larger.kind, large_value) + ")",
             "make " + std::string(rule.larger) + " at least " + std::string(rule.smaller));
    }

    void check_tls_pair() const {
        for (const auto& [set, other] : {std::pair{"tls.cert", "tls.key"}, std::pair{"tls.key", "tls.cert"}}) {
            if (!lines_.contains(set)) {
                continue;
            }
            const std::filesystem::path path = std::get<std::string>(find_key(set)->load(config_));
            if (!lines_.contains(other)) {
                fail(lines_.at(set), set, std::string(other) + " is not set", "set both tls.cert and tls.key");
            }
            if (!std::filesystem::is_regular_file(path)) {
                fail(lines_.at(set), set, "file " + path.string() + " does not exist or is not a regular file",
                     "create it or fix the path; relative paths start at the config file's directory");
            }
        }
    }

    // Without proxy_from, anyone could claim any client address.
    void check_proxy_sources() const {
        for (std::size_t index = 0; index < config_.listeners.size(); ++index) {
            const Listener& listener = config_.listeners[index];
            if (listener.proxy_protocol && listener.proxy_from.empty())
                fail(entry_lines_.at(Scope::listener)[index], "listener.proxy_from",
                     "proxy_protocol = true needs the addresses of the proxies allowed to send the header",
                     "add proxy_from = [\"10.0.0.5/32\"] with your load balancer's addresses");
        }
    }

    void check_listeners_have_tls() const {
        const bool have_tls = !config_.tls.cert.empty() && !config_.tls.key.empty();
        for (std::size_t index = 0; index < config_.listeners.size(); ++index) {
            const ListenerRole role = config_.listeners[index].role;
            if (needs_tls(role) && !have_tls) {
                fail(entry_lines_.at(Scope::listener)[index], "listener.role",
                     "role " + std::string(to_string(role)) + " needs TLS, but [tls] cert and key are not set",
                     "add a [tls] section with cert = \"/path/fullchain.pem\" and key = \"/path/key.pem\"");
            }
        }
    }

    // A domain both local and routed would mean two things at once ("deliver to
    // the users" and, say, "discard"); a typo here could silently throw away a
    // real user's mail, so the operator has to pick one.
    void check_routes_are_not_local() const {
        for (std::size_t index = 0; index < config_.routes.size(); ++index) {
            const std::string& domain = config_.routes[index].domain;
            if (std::find(config_.local_domains.begin(), config_.local_domains.end(), domain) !=
                config_.local_domains.end()) {
                const std::string source = lines_.contains("local_domains") ? "" : " (by default)";
                fail(entry_lines_.at(Scope::route)[index], "route.domain",
                     "\"" + domain + "\" is also in local_domains" + source + ", so it would be both delivered and routed",
                     "remove it from local_domains, or remove this [[route]]");
            }
        }
    }

    // Plaintext to a smarthost would send the password and the mail in the
    // clear: allowed only where nobody can listen (the loopback interface).
    // A username without a password (or the reverse) is a half-done setup.
    void check_relays() const {
        for (std::size_t index = 0; index < config_.relays.size(); ++index) {
            const Relay& relay = config_.relays[index];
            const std::uint32_t line = entry_lines_.at(Scope::relay)[index];
            if (relay.tls == RelayTls::none && !is_loopback_host(relay.host)) {
                fail(line, "relay.tls", "none (plaintext) is allowed only to a loopback address, not to " + relay.host,
                     "use starttls (port 587) or implicit (port 465)");
            }
            if (relay.username.empty() != relay.password_file.empty()) {
                fail(line, relay.username.empty() ? "relay.password_file" : "relay.username",
                     "username and password_file go together",
                     "set both for a relay that needs AUTH, or neither");
            }
            if (!relay.password_file.empty()) check_password_file(relay.password_file, line);
        }
        if (!config_.delivery.relay.empty() && find_relay(config_, config_.delivery.relay) == nullptr) {
            fail(lines_.at("delivery.relay"), "delivery.relay", "no [[relay]] is named \"" + config_.delivery.relay + "\"",
                 "add a [[relay]] with name = \"" + config_.delivery.relay + "\" or fix the name");
        }
    }

    // A relay's password file is a secret of the server's, like an ssh key: a
    // regular file, not empty, mode 0600 or 0400 (nothing for group or others)
    // and owned by the server's user — the owner of data_dir, or before that
    // exists the user loading the configuration. All of it is checked with
    // stat(), so every command applies the same rule (cartero sendmail runs as
    // any local user); the file's owner also reads it, so that a server whose
    // file it is finds out now, not at the first delivery.
    void check_password_file(const std::filesystem::path& path, std::uint32_t line) const {
        const std::string file = path.string();
        const std::string chmod = "chmod 600 " + file;
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            fail(line, "relay.password_file", "file " + file + " does not exist or is not a regular file",
                 "create it with the password on its first line, then " + chmod +
                     "; relative paths start at the config file's directory");
        }
        if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            fail(line, "relay.password_file",
                 "file " + file + " is open to group or others (mode " + mode + "): the password must be the server's alone",
                 chmod);
        }
        const uid_t server = server_user();
        if (st.st_uid != server) {
            fail(line, "relay.password_file",
                 "file " + file + " is owned by uid " + std::to_string(st.st_uid) + ", not by the server's user (uid " +
                     std::to_string(server) + ", the owner of data_dir)",
                 "chown " + std::to_string(server) + " " + file + " && " + chmod);
        }
        if (st.st_size == 0) fail(line, "relay.password_file", "file " + file + " is empty", "write the password on its first line");
        if (::geteuid() != st.st_uid) return;
        std::ifstream in(path);
        std::string first;
        if (!in || !std::getline(in, first)) {
            fail(line, "relay.password_file", "file " + file + " cannot be read: " + std::strerror(errno), chmod);
        }
        if (first.empty() || first == "\r") {
            fail(line, "relay.password_file", "the first line of " + file + " is empty", "write the password on its first line");
        }
    }

    uid_t server_user() const {
        struct stat st {};
        return ::stat(config_.data_dir.c_str(), &st) == 0 ? st.st_uid : ::geteuid();
    }

    // A [[destination]] is about mail leaving: a local or routed domain never
    // leaves, so rules for one would silently do nothing.
    void check_destinations() const {
        for (std::size_t index = 0; index < config_.destinations.size(); ++index) {
            const Destination& destination = config_.destinations[index];
            const std::uint32_t line = entry_lines_.at(Scope::destination)[index];
            const auto& locals = config_.local_domains;
            const bool routed = std::any_of(config_.routes.begin(), config_.routes.end(),
                                            [&](const Route& route) { return route.domain == destination.domain; });
            if (routed || std::find(locals.begin(), locals.end(), destination.domain) != locals.end()) {
                fail(line, "destination.domain",
                     "\"" + destination.domain + "\" is a " + (routed ? "routed" : "local") + " domain; its mail never leaves",
                     "remove this [[destination]]");
            }
            if (!destination.relay.empty() && find_relay(config_, destination.relay) == nullptr) {
                fail(line, "destination.relay", "no [[relay]] is named \"" + destination.relay + "\"",
                     "add a [[relay]] with name = \"" + destination.relay + "\" or fix the name");
            }
            if (!destination.relay.empty() && destination.tls) {
                fail(line, "destination.tls", "a destination sent through a relay uses the relay's tls",
                     "remove tls here, or remove relay to deliver to the MX hosts with this policy");
            }
        }
    }

    // [[lmtp]] says where a local domain's mailboxes are; for any other domain
    // it would never be used, and a typo there would quietly leave the mail in
    // Maildirs nobody reads.
    void check_lmtp_domains_are_local() const {
        const auto& locals = config_.local_domains;
        for (std::size_t index = 0; index < config_.lmtp_servers.size(); ++index) {
            const std::string& domain = config_.lmtp_servers[index].domain;
            if (std::find(locals.begin(), locals.end(), domain) == locals.end()) {
                const std::string source = lines_.contains("local_domains") ? "" : " (by default only localhost)";
                fail(entry_lines_.at(Scope::lmtp)[index], "lmtp.domain",
                     "\"" + domain + "\" is not in local_domains" + source + ", so no mail for it is delivered here",
                     "add it to local_domains, or remove this [[lmtp]]");
            }
        }
    }

    [[noreturn]] void fail(std::uint32_t line, std::string_view key, std::string_view what,
                           std::string_view fix) const {
        throw ConfigError(file_ + ":" + std::to_string(line) + ": " + std::string(key) + ": " + std::string(what) +
                          " (" + std::string(fix) + ")");
    }

    std::string file_;  // as the operator wrote it, so messages match the command line
    Config& config_;
    std::map<std::string, std::uint32_t, std::less<>> lines_;  // global keys the file set -> line
    std::map<Scope, std::vector<std::uint32_t>> entry_lines_;    // [[listener]], [[route]] header lines
};

toml::table parse_toml(const std::filesystem::path& path) {
    // toml++ reports an unreadable file as a syntax error at line 0; say it plainly.
    if (std::ifstream probe(path); !probe) {
        throw ConfigError(path.string() + ":0: config: cannot open the file: " + std::strerror(errno) +
                          " (check the path given with --config and its permissions)");
    }
    try {
        return toml::parse_file(path.string());
    } catch (const toml::parse_error& error) {
        throw ConfigError(path.string() + ":" + std::to_string(error.source().begin.line) +
                          ": syntax: " + std::string(error.description()) +
                          " (fix the TOML syntax; see https://toml.io and docs/configuration.md)");
    }
}

}  // namespace

Config load_file(const std::filesystem::path& path) {
    const toml::table table = parse_toml(path);
    Config config;
    config.source = std::filesystem::absolute(path).lexically_normal();
    Loader loader(path.string(), config);
    loader.walk(table, "", Scope::global);
    loader.resolve_relative_paths();
    loader.check_across_keys();
    return config;
}

}  // namespace cartero::config
