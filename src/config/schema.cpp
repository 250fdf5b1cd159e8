// The schema table: every configuration key of cartero. See schema.hpp.
//
// To add a key: add the field (with its default) to config.hpp, one row here,
// and one row in docs/configuration.md; the unit tests fail until all three agree.
// A key whose value is read only at start (a socket, a thread count, a path
// kept open) is wrapped in restart_only(...): SIGHUP then keeps its running
// value and logs it as needing a restart, and docs/operations.md must say so.
#include "config/schema.hpp"

#include <algorithm>
#include <array>

#include "config/domain_name.hpp"
#include "config/invalid_value.hpp"
#include "config/listen_address.hpp"
#include "config/maildir_template.hpp"
#include "config/network.hpp"
#include "config/units.hpp"

namespace cartero::config {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// ---- moving values between Value and Config fields, by field type ----------

void assign(std::filesystem::path& field, const Value& value) { field = std::get<std::string>(value); }
void assign(std::string& field, const Value& value) { field = std::get<std::string>(value); }
void assign(bool& field, const Value& value) { field = std::get<bool>(value); }
// Bounds are checked before store, and every count/size minimum is >= 0.
void assign(std::size_t& field, const Value& value) { field = static_cast<std::size_t>(std::get<std::int64_t>(value)); }
void assign(milliseconds& field, const Value& value) { field = std::get<milliseconds>(value); }
void assign(std::chrono::seconds& field, const Value& value) {
    const milliseconds duration = std::get<milliseconds>(value);
    if (duration % 1s != 0ms) {
        throw InvalidValue(format_duration(duration) + " is not a whole number of seconds",
                           "this setting has a precision of one second; write e.g. \"" +
                               format_duration(std::chrono::ceil<std::chrono::seconds>(duration)) + "\"");
    }
    field = std::chrono::duration_cast<std::chrono::seconds>(duration);
}

Value to_value(const std::string& field) { return field; }
Value to_value(const std::filesystem::path& field) { return field.string(); }
Value to_value(const std::vector<std::string>& field) { return field; }
Value to_value(bool field) { return field; }
Value to_value(std::size_t field) { return static_cast<std::int64_t>(field); }
Value to_value(milliseconds field) { return field; }
Value to_value(std::chrono::seconds field) { return milliseconds{field}; }

// field<&Config::limits, &Limits::message_size>(config): the member a key names.
template <auto... Members>
auto& field(Config& config) {
    return (config .* ... .* Members);
}
template <auto... Members>
const auto& field(const Config& config) {
    return (config .* ... .* Members);
}

template <auto... Members>
void store_field(Config& config, const Value& value) {
    assign(field<Members...>(config), value);
}
template <auto... Members>
Value load_field(const Config& config) {
    return to_value(field<Members...>(config));
}

// ---- keys that need more than a type check ---------------------------------

// Stored as the A-label (base/idna.hpp): the operator may write "bücher.example"
// or "xn--bcher-kva.example", and every comparison sees the same bytes.
std::string checked_domain(const std::string& name, std::optional<std::size_t> element = {}) {
    const auto ascii = ascii_domain_name(name);
    if (!ascii) {
        throw InvalidValue("\"" + name + "\" is not a valid domain name",
                           "use letters, digits, '-' and dots, e.g. \"mail.example.org\", without a final dot; "
                           "an international name may be written in Unicode or as its xn-- A-label",
                           element);
    }
    return *ascii;
}

void store_hostname(Config& config, const Value& value) {
    config.hostname = checked_domain(std::get<std::string>(value));
}

void store_local_domains(Config& config, const Value& value) {
    const auto& names = std::get<std::vector<std::string>>(value);
    std::vector<std::string> domains;
    for (std::size_t index = 0; index < names.size(); ++index) {
        domains.push_back(checked_domain(names[index], index));
    }
    config.local_domains = std::move(domains);
}

// accounts.postmaster: "" or local@domain; the domain is stored as its A-label.
void store_accounts_postmaster(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    const auto at = text.rfind('@');
    const bool plain_local = at != std::string::npos && at > 0 &&
                             std::none_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at),
                                          [](char c) { return c == '@' || forbidden_in_account_address(c); });
    if (!text.empty() && !plain_local) {
        throw InvalidValue("\"" + text + "\" is not an address",
                           "write the mailbox that receives postmaster mail, e.g. \"alice@example.org\", or \"\"");
    }
    config.accounts.postmaster = text.empty() ? text : text.substr(0, at + 1) + checked_domain(text.substr(at + 1));
}

// accounts.recipient_delimiter: a set of RFC 5322 atext specials ("+", "+-");
// letters, digits and '.' would cut ordinary names such as "first.last".
void store_recipient_delimiter(Config& config, const Value& value) {
    constexpr std::string_view kAllowed = "!#$%&'*+-/=?^_`{|}~";
    const auto& text = std::get<std::string>(value);
    if (std::any_of(text.begin(), text.end(), [&](char c) { return kAllowed.find(c) == std::string_view::npos; })) {
        throw InvalidValue("\"" + text + "\" contains a character that cannot separate a subaddress",
                           "use one or more of ! # $ % & ' * + - / = ? ^ _ ` { | } ~ (usually \"+\"), or \"\" "
                           "to turn subaddresses off");
    }
    config.accounts.recipient_delimiter = text;
}

void store_trusted_networks(Config& config, const Value& value) {
    const auto& cidrs = std::get<std::vector<std::string>>(value);
    NetworkSet::parse(cidrs);  // validation only; policy builds its own set at startup
    config.trusted_networks = cidrs;
}

void store_proxy_from(Config& config, const Value& value) {
    const auto& cidrs = std::get<std::vector<std::string>>(value);
    NetworkSet::parse(cidrs);  // validation only; the server builds its own set
    config.listeners.back().proxy_from = cidrs;
}

void store_maildir(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    check_maildir_template(text);
    config.delivery.maildir = text;
}

constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn", "error"};

void store_log_level(Config& config, const Value& value) {
    const auto& level = std::get<std::string>(value);
    if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end()) {
        throw InvalidValue("unknown level \"" + level + "\"", "use one of trace, debug, info, warn, error");
    }
    config.log_level = level;
}

void store_listener_role(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    const auto role = listener_role_from_string(text);
    if (!role) {
        throw InvalidValue("unknown role \"" + text + "\"",
                           "use mx (port 25), submission (587, STARTTLS) or submissions (465, implicit TLS)");
    }
    config.listeners.back().role = *role;
}

void store_listener_address(Config& config, const Value& value) {
    const ListenAddress address = parse_listen_address(std::get<std::string>(value));
    for (std::size_t index = 0; index + 1 < config.listeners.size(); ++index) {
        const Listener& earlier = config.listeners[index];
        if (listen_addresses_overlap(address, {earlier.host, earlier.port})) {
            throw InvalidValue("\"" + std::get<std::string>(value) + "\" overlaps listener #" +
                                   std::to_string(index + 1) + " (" + earlier.host + " port " +
                                   std::to_string(earlier.port) + ")",
                               "give each listener its own address or port");
        }
    }
    config.listeners.back().host = address.host;
    config.listeners.back().port = address.port;
}

void store_route_domain(Config& config, const Value& value) {
    const std::string domain = checked_domain(std::get<std::string>(value));
    for (std::size_t index = 0; index + 1 < config.routes.size(); ++index) {
        if (config.routes[index].domain == domain) {
            throw InvalidValue("\"" + domain + "\" already has a route (route #" + std::to_string(index + 1) + ")",
                               "give each domain one [[route]]");
        }
    }
    config.routes.back().domain = domain;
}

std::string joined(const std::vector<std::string_view>& names) {
    std::string out;
    for (const std::string_view name : names) {
        out += (out.empty() ? "" : ", ") + std::string(name);
    }
    return out;
}

void store_route_transport(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    const auto transport = transport_from_string(text);
    if (!transport) {
        throw InvalidValue("unknown transport \"" + text + "\"", "use one of: " + joined(transport_names()));
    }
    config.routes.back().transport = *transport;
}

// Entry keys load from the last entry, like store writes to it; with no entry
// (Config{}) there is nothing to load, which default_text shows as "(required)".
template <auto Entries, auto Member>
Value load_entry(const Config& config) {
    const auto& entries = config.*Entries;
    if (entries.empty()) {
        return std::monostate{};
    }
    return to_value(entries.back().*Member);
}

Value load_listener_proxy_protocol(const Config& config) {
    if (config.listeners.empty()) return false;  // the default of an optional key: off
    return config.listeners.back().proxy_protocol;
}

Value load_listener_role(const Config& config) {
    if (config.listeners.empty()) {
        return std::monostate{};
    }
    return std::string(to_string(config.listeners.back().role));
}

Value load_listener_address(const Config& config) {
    if (config.listeners.empty()) {
        return std::monostate{};
    }
    const Listener& listener = config.listeners.back();
    return format_listen_address(listener.host, listener.port);
}

Value load_route_transport(const Config& config) {
    if (config.routes.empty()) {
        return std::monostate{};
    }
    return std::string(to_string(config.routes.back().transport));
}

Value load_relay_tls(const Config& config) {
    if (config.relays.empty()) {
        return std::monostate{};
    }
    return std::string(to_string(config.relays.back().tls));
}

Value load_destination_tls(const Config& config) {
    if (config.destinations.empty() || !config.destinations.back().tls) {
        return std::monostate{};
    }
    return std::string(to_string(*config.destinations.back().tls));
}

// A row whose value is read only at start: see Reload in schema.hpp.
constexpr KeySpec restart_only(KeySpec spec) {
    spec.reload = Reload::restart;
    return spec;
}

// entry<&Config::relays, &Relay::port>: a key of the entry being read (the last one).
template <auto Entries, auto Member>
void store_entry(Config& config, const Value& value) {
    assign((config.*Entries).back().*Member, value);
}

// A [[relay]] or [[destination]] names a relay by this: letters, digits, '-', '_', '.'.
std::string checked_relay_name(const std::string& name) {
    const bool valid = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
    if (!valid) {
        throw InvalidValue("\"" + name + "\" is not a relay name", "use letters, digits, '-', '_' or '.', e.g. \"gmail\"");
    }
    return name;
}

void store_relay_name(Config& config, const Value& value) {
    const std::string name = checked_relay_name(std::get<std::string>(value));
    if (find_relay(config, name) != &config.relays.back() && find_relay(config, name) != nullptr) {
        throw InvalidValue("a [[relay]] named \"" + name + "\" already exists", "give each [[relay]] its own name");
    }
    config.relays.back().name = name;
}

// A host to connect to: a domain name, or an IP address (IPv6 without brackets).
void store_relay_host(Config& config, const Value& value) {
    const auto& host = std::get<std::string>(value);
    if (is_ip_address(host)) {
        config.relays.back().host = host;
        return;
    }
    const auto ascii = ascii_domain_name(host);
    if (!ascii) {
        throw InvalidValue("\"" + host + "\" is neither a host name nor an IP address",
                           "write the provider's server name, e.g. \"smtp.gmail.com\"");
    }
    config.relays.back().host = *ascii;
}

void store_relay_tls(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    const auto tls = relay_tls_from_string(text);
    if (!tls) {
        throw InvalidValue("unknown TLS mode \"" + text + "\"",
                           "use starttls (port 587), implicit (port 465) or none (loopback only)");
    }
    config.relays.back().tls = *tls;
}

TlsPolicy checked_tls_policy(const std::string& text) {
    const auto policy = tls_policy_from_string(text);
    if (!policy) {
        throw InvalidValue("unknown TLS policy \"" + text + "\"", "use none, may or must");
    }
    return *policy;
}

void store_tls_profile(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    const auto profile = tls_profile_from_string(text);
    if (!profile) throw InvalidValue("unknown TLS profile \"" + text + "\"", "use intermediate or modern");
    config.tls.profile = *profile;
}

Value load_tls_profile(const Config& config) { return std::string(to_string(config.tls.profile)); }

void store_delivery_tls(Config& config, const Value& value) {
    config.delivery.tls = checked_tls_policy(std::get<std::string>(value));
}

Value load_delivery_tls(const Config& config) { return std::string(to_string(config.delivery.tls)); }

void store_delivery_relay(Config& config, const Value& value) {
    const auto& name = std::get<std::string>(value);
    config.delivery.relay = name.empty() ? name : checked_relay_name(name);
}

// "" (resolv.conf), "recursive", or servers separated by commas or spaces, each an
// IP address ("192.0.2.53") or HOST:PORT with an IP host ("[::1]:5353"), as
// dns/unbound_resolver.hpp reads them.
void store_dns_resolver(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    if (text != "recursive") {
        std::string entry;
        for (std::size_t at = 0; at <= text.size(); ++at) {
            if (at < text.size() && text[at] != ',' && text[at] != ' ') {
                entry += text[at];
                continue;
            }
            if (!entry.empty() && !is_ip_address(entry)) {
                parse_listen_address(entry);  // throws, naming the entry and the syntax
            }
            entry.clear();
        }
    }
    config.dns.resolver = text;
}

// dkim.key_dir: absolute, or under {data_dir} (its only placeholder); a path
// relative to the working directory would move with wherever serve is started.
void store_dkim_key_dir(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    constexpr std::string_view kDataDir = "{data_dir}";
    const std::string_view rest = std::string_view(text).substr(text.starts_with(kDataDir) ? kDataDir.size() : 0);
    if ((!text.starts_with(kDataDir) && !text.starts_with('/')) || rest.find('{') != std::string_view::npos) {
        throw InvalidValue("\"" + text + "\" is neither an absolute path nor under {data_dir}",
                           "write e.g. \"{data_dir}/dkim\" or \"/etc/cartero/dkim\"");
    }
    config.dkim.key_dir = text;
}

void store_destination_domain(Config& config, const Value& value) {
    const std::string domain = checked_domain(std::get<std::string>(value));
    for (std::size_t index = 0; index + 1 < config.destinations.size(); ++index) {
        if (config.destinations[index].domain == domain) {
            throw InvalidValue("\"" + domain + "\" already has a [[destination]] (#" + std::to_string(index + 1) + ")",
                               "give each domain one [[destination]]");
        }
    }
    config.destinations.back().domain = domain;
}

void store_destination_relay(Config& config, const Value& value) {
    config.destinations.back().relay = checked_relay_name(std::get<std::string>(value));
}

void store_destination_tls(Config& config, const Value& value) {
    config.destinations.back().tls = checked_tls_policy(std::get<std::string>(value));
}

void store_lmtp_domain(Config& config, const Value& value) {
    const std::string domain = checked_domain(std::get<std::string>(value));
    for (std::size_t index = 0; index + 1 < config.lmtp_servers.size(); ++index) {
        if (config.lmtp_servers[index].domain == domain) {
            throw InvalidValue("\"" + domain + "\" already has an [[lmtp]] (#" + std::to_string(index + 1) + ")",
                               "give each domain one [[lmtp]]");
        }
    }
    config.lmtp_servers.back().domain = domain;
}

void store_lmtp_address(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    parse_lmtp_address(text);  // validation only; delivery/ parses it again to connect
    config.lmtp_servers.back().address = text;
}

void store_delivery_lmtp(Config& config, const Value& value) {
    const auto& text = std::get<std::string>(value);
    if (!text.empty()) {
        parse_lmtp_address(text);
    }
    config.delivery.lmtp = text;
}

// ---- the table -------------------------------------------------------------

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;
constexpr std::int64_t ms(milliseconds duration) { return duration.count(); }
constexpr Bounds kNoBounds{};

constexpr KeySpec kSchema[] = {
    // Identity and data.
    {"hostname", Kind::text, Scope::global, kNoBounds,
     "Name of this server in the greeting, the EHLO reply and Received headers.",
     store_hostname, load_field<&Config::hostname>},
    restart_only({"data_dir", Kind::path, Scope::global, kNoBounds,
     "Directory for the queue, the accounts database and, by default, mailboxes.",
     store_field<&Config::data_dir>, load_field<&Config::data_dir>}),
    {"local_domains", Kind::text_list, Scope::global, kNoBounds,
     "Domains whose mail is delivered here; mail for any other domain (but [[route]] domains) is "
     "relayed only for authenticated users and trusted_networks.",
     store_local_domains, load_field<&Config::local_domains>},
    {"trusted_networks", Kind::text_list, Scope::global, kNoBounds,
     "CIDRs (\"192.0.2.0/24\", \"::1/128\") whose clients may relay without AUTH. Empty: nobody, "
     "not even loopback.",
     store_trusted_networks, load_field<&Config::trusted_networks>},

    // [[listener]]: one table per socket.
    restart_only({"listener.role", Kind::text, Scope::listener, kNoBounds,
     "mx (mail for local_domains, no AUTH), submission (STARTTLS then AUTH required) or "
     "submissions (implicit TLS, AUTH required).",
     store_listener_role, load_listener_role}),
    restart_only({"listener.address", Kind::text, Scope::listener, kNoBounds,
     "HOST:PORT to listen on, HOST an IP address (IPv6 in brackets); port 0 = any free port.",
     store_listener_address, load_listener_address}),
    restart_only({"listener.proxy_protocol", Kind::flag, Scope::listener, kNoBounds,
     "Every connection starts with a PROXY protocol header (v1 or v2, as HAProxy's send-proxy and send-proxy-v2 "
     "send) naming the real client, which limits, logs and the Received header then use.",
     store_entry<&Config::listeners, &Listener::proxy_protocol>, load_listener_proxy_protocol, true}),
    restart_only({"listener.proxy_from", Kind::text_list, Scope::listener, kNoBounds,
     "With proxy_protocol: CIDRs of the proxies allowed to send the header; other peers are refused.",
     store_proxy_from, load_entry<&Config::listeners, &Listener::proxy_from>, true}),

    // [[route]]: one table per routed domain.
    {"route.domain", Kind::text, Scope::route, kNoBounds,
     "Exact domain (not its sub-domains) whose mail goes to this route's transport; accepted from "
     "anyone like a local domain, without a user check. Must not be in local_domains.",
     store_route_domain, load_entry<&Config::routes, &Route::domain>},
    {"route.transport", Kind::text, Scope::route, kNoBounds,
     "What happens to the domain's mail: discard (accept it durably, then throw it away: for "
     "benchmarks and sinks only).",
     store_route_transport, load_route_transport},

    // [[relay]]: one table per smarthost.
    {"relay.name", Kind::text, Scope::relay, kNoBounds,
     "Name that delivery.relay and destination.relay use for this smarthost.",
     store_relay_name, load_entry<&Config::relays, &Relay::name>},
    {"relay.host", Kind::text, Scope::relay, kNoBounds,
     "The smarthost's name (its certificate is verified against it) or IP address.",
     store_relay_host, load_entry<&Config::relays, &Relay::host>},
    {"relay.port", Kind::count, Scope::relay, {1, 65535},
     "Port: 587 for starttls, 465 for implicit.",
     store_entry<&Config::relays, &Relay::port>, load_entry<&Config::relays, &Relay::port>},
    {"relay.tls", Kind::text, Scope::relay, kNoBounds,
     "starttls (STARTTLS required), implicit (TLS from the start) or none (plaintext, loopback addresses only); "
     "certificates are always verified.",
     store_relay_tls, load_relay_tls},
    {"relay.username", Kind::text, Scope::relay, kNoBounds,
     "Login for SMTP AUTH (sent only over TLS); leave out for no AUTH.",
     store_entry<&Config::relays, &Relay::username>,
     load_entry<&Config::relays, &Relay::username>, true},
    {"relay.password_file", Kind::path, Scope::relay, kNoBounds,
     "File whose first line is the password or app password: mode 600 (or 400), owned by the server's user, else "
     "refused at load; required with username.",
     store_entry<&Config::relays, &Relay::password_file>,
     load_entry<&Config::relays, &Relay::password_file>, true},

    // [[destination]]: one table per remote domain with its own rules.
    {"destination.domain", Kind::text, Scope::destination, kNoBounds,
     "Exact remote domain these rules apply to; not a local or routed domain.",
     store_destination_domain, load_entry<&Config::destinations, &Destination::domain>},
    {"destination.relay", Kind::text, Scope::destination, kNoBounds,
     "Send this domain's mail through the [[relay]] of this name instead of its MX hosts.",
     store_destination_relay, load_entry<&Config::destinations, &Destination::relay>, true},
    {"destination.tls", Kind::text, Scope::destination, kNoBounds,
     "TLS policy to this domain's MX hosts, overriding delivery.tls: none, may or must.",
     store_destination_tls, load_destination_tls, true},

    // [[lmtp]]: one table per local domain whose mailboxes are in an LMTP server.
    {"lmtp.domain", Kind::text, Scope::lmtp, kNoBounds,
     "Local domain (one of local_domains) whose mailboxes are in this LMTP server instead of Maildirs.",
     store_lmtp_domain, load_entry<&Config::lmtp_servers, &LmtpServer::domain>},
    {"lmtp.address", Kind::text, Scope::lmtp, kNoBounds,
     "The LMTP server: \"unix:/run/dovecot/lmtp\" (a Unix socket, absolute path) or \"HOST:PORT\" with a loopback "
     "IP address (LMTP goes without TLS).",
     store_lmtp_address, load_entry<&Config::lmtp_servers, &LmtpServer::address>},

    // [tls]
    {"tls.cert", Kind::path, Scope::global, kNoBounds,
     "PEM certificate chain; required by submission and submissions listeners, offered via "
     "STARTTLS on mx when set.",
     store_field<&Config::tls, &Tls::cert>, load_field<&Config::tls, &Tls::cert>},
    {"tls.key", Kind::path, Scope::global, kNoBounds, "PEM private key of tls.cert.",
     store_field<&Config::tls, &Tls::key>, load_field<&Config::tls, &Tls::key>},
    {"tls.profile", Kind::text, Scope::global, kNoBounds,
     "Mozilla's server TLS profile: intermediate (TLS 1.2 and 1.3, ECDHE with AEAD ciphers only; every mail "
     "client of the last ten years) or modern (TLS 1.3 only).",
     store_tls_profile, load_tls_profile},
    {"tls.watch_interval", Kind::duration, Scope::global, {ms(1s), ms(24h)},
     "How often tls.cert and tls.key are checked for a change (a renewal); a change reloads the configuration "
     "and certificates as SIGHUP does.",
     store_field<&Config::tls, &Tls::watch_interval>, load_field<&Config::tls, &Tls::watch_interval>},

    // [delivery]
    {"delivery.maildir", Kind::text, Scope::global, kNoBounds,
     "Maildir of a local recipient: a template with {data_dir}, {domain} and {localpart}.",
     store_maildir, load_field<&Config::delivery, &Delivery::maildir>},
    {"delivery.lmtp", Kind::text, Scope::global, kNoBounds,
     "LMTP server of every local domain without its own [[lmtp]]: \"unix:/run/dovecot/lmtp\" or \"HOST:PORT\" with "
     "a loopback IP address; empty: deliver into delivery.maildir.",
     store_delivery_lmtp, load_field<&Config::delivery, &Delivery::lmtp>},
    {"delivery.retry_initial", Kind::duration, Scope::global, {ms(1s), ms(24h)},
     "Wait before the first retry of a temporarily failed delivery; doubles per attempt.",
     store_field<&Config::delivery, &Delivery::retry_initial>,
     load_field<&Config::delivery, &Delivery::retry_initial>},
    {"delivery.retry_max", Kind::duration, Scope::global, {ms(1s), ms(7 * 24h)},
     "Longest wait between two retries (the cap of the doubling).",
     store_field<&Config::delivery, &Delivery::retry_max>, load_field<&Config::delivery, &Delivery::retry_max>},
    {"delivery.queue_lifetime", Kind::duration, Scope::global, {ms(1s), ms(30 * 24h)},
     "How long a message is retried before it bounces to its sender.",
     store_field<&Config::delivery, &Delivery::queue_lifetime>,
     load_field<&Config::delivery, &Delivery::queue_lifetime>},
    restart_only({"delivery.local_concurrency", Kind::count, Scope::global, {1, 256},
     "Local (Maildir) deliveries running at the same time.",
     store_field<&Config::delivery, &Delivery::local_concurrency>,
     load_field<&Config::delivery, &Delivery::local_concurrency>}),

    restart_only({"delivery.remote_concurrency", Kind::count, Scope::global, {1, 1024},
     "Remote (SMTP) deliveries running at the same time.",
     store_field<&Config::delivery, &Delivery::remote_concurrency>,
     load_field<&Config::delivery, &Delivery::remote_concurrency>}),
    {"delivery.destination_concurrency", Kind::count, Scope::global, {1, 1024},
     "Connections at the same time to one destination (a remote domain or a relay).",
     store_field<&Config::delivery, &Delivery::destination_concurrency>,
     load_field<&Config::delivery, &Delivery::destination_concurrency>},
    {"delivery.remote_port", Kind::count, Scope::global, {1, 65535},
     "Port of MX hosts (25; another value only for tests and special setups).",
     store_field<&Config::delivery, &Delivery::remote_port>, load_field<&Config::delivery, &Delivery::remote_port>},
    {"delivery.relay", Kind::text, Scope::global, kNoBounds,
     "Name of a [[relay]] that takes all remote mail; empty: deliver to each domain's MX hosts.",
     store_delivery_relay, load_field<&Config::delivery, &Delivery::relay>},
    {"delivery.tls", Kind::text, Scope::global, kNoBounds,
     "TLS to MX hosts: may (STARTTLS when offered), must (STARTTLS with a verified certificate, else "
     "deferred) or none.",
     store_delivery_tls, load_delivery_tls},
    {"delivery.ca_file", Kind::path, Scope::global, kNoBounds,
     "PEM file of CA certificates trusted, besides the system's store, when verifying servers (relays, tls = must, "
     "MTA-STS); for a private CA.",
     store_field<&Config::delivery, &Delivery::ca_file>, load_field<&Config::delivery, &Delivery::ca_file>},
    {"delivery.mta_sts", Kind::flag, Scope::global, kNoBounds,
     "Apply MTA-STS policies (RFC 8461) of recipient domains delivered to their MX hosts "
     "(docs/mta-sts-dane.md).",
     store_field<&Config::delivery, &Delivery::mta_sts>, load_field<&Config::delivery, &Delivery::mta_sts>},
    {"delivery.mta_sts_port", Kind::count, Scope::global, {1, 65535},
     "HTTPS port MTA-STS policies are fetched from (443; another value only for tests).",
     store_field<&Config::delivery, &Delivery::mta_sts_port>,
     load_field<&Config::delivery, &Delivery::mta_sts_port>},
    {"delivery.mta_sts_timeout", Kind::duration, Scope::global, {ms(1s), ms(5min)},
     "Time allowed for fetching one MTA-STS policy over HTTPS (connect, TLS, request, answer), per "
     "address tried.",
     store_field<&Config::delivery, &Delivery::mta_sts_timeout>,
     load_field<&Config::delivery, &Delivery::mta_sts_timeout>},
    {"delivery.max_mx_addresses", Kind::count, Scope::global, {1, 100},
     "Server addresses (of all MX hosts, in preference order) tried per delivery attempt; the rest wait for the "
     "next attempt, so a zone with many dead addresses cannot hold a delivery slot for long.",
     store_field<&Config::delivery, &Delivery::max_mx_addresses>,
     load_field<&Config::delivery, &Delivery::max_mx_addresses>},
    {"delivery.connect_timeout", Kind::duration, Scope::global, {ms(1s), ms(10min)},
     "Time allowed to connect to a remote server (each address tried).",
     store_field<&Config::delivery, &Delivery::connect_timeout>,
     load_field<&Config::delivery, &Delivery::connect_timeout>},
    {"delivery.command_timeout", Kind::duration, Scope::global, {ms(1s), ms(1h)},
     "Time allowed for the greeting and each reply to EHLO, STARTTLS, AUTH, MAIL, RCPT (RFC 5321 "
     "4.5.3.2 asks for 5 minutes), counted from the command: a server sending its reply slowly cannot "
     "extend it.",
     store_field<&Config::delivery, &Delivery::command_timeout>,
     load_field<&Config::delivery, &Delivery::command_timeout>},
    {"delivery.data_timeout", Kind::duration, Scope::global, {ms(1s), ms(24h)},
     "Time allowed for sending a message and the reply to its final dot, as a whole (RFC 5321 "
     "4.5.3.2: 10 minutes for the reply).",
     store_field<&Config::delivery, &Delivery::data_timeout>,
     load_field<&Config::delivery, &Delivery::data_timeout>},
    {"delivery.connection_reuse_time", Kind::duration, Scope::global, {0, ms(5min)},
     "How long an idle connection to a remote server is kept for the next message to the same "
     "destination; 0: close after each message.",
     store_field<&Config::delivery, &Delivery::connection_reuse_time>,
     load_field<&Config::delivery, &Delivery::connection_reuse_time>},
    {"delivery.delay_warning", Kind::duration, Scope::global, {0, ms(30 * 24h)},
     "Tell the sender once when a message is still undelivered after this long; 0: never.",
     store_field<&Config::delivery, &Delivery::delay_warning>,
     load_field<&Config::delivery, &Delivery::delay_warning>},
    {"delivery.bounce_size_limit", Kind::size, Scope::global, {0, 64 * kMiB},
     "Largest original message returned whole in a bounce; a larger one is returned as its headers.",
     store_field<&Config::delivery, &Delivery::bounce_size_limit>,
     load_field<&Config::delivery, &Delivery::bounce_size_limit>},
    {"delivery.shutdown_grace", Kind::duration, Scope::global, {0, ms(1h)},
     "On SIGTERM, after the sessions have closed, time given to deliveries in progress; then they are "
     "abandoned as temporary failures and retried after the restart.",
     store_field<&Config::delivery, &Delivery::shutdown_grace>,
     load_field<&Config::delivery, &Delivery::shutdown_grace>},
    restart_only({"delivery.srs_max_age", Kind::duration, Scope::global, {ms(24h), ms(1000 * 24h)},
     "How long an SRS address made when forwarding by alias stays valid for bounces coming back to it "
     "(whole days; postsrsd's default is 21 days).",
     store_field<&Config::delivery, &Delivery::srs_max_age>, load_field<&Config::delivery, &Delivery::srs_max_age>}),

    // [dns]
    {"dns.resolver", Kind::text, Scope::global, kNoBounds,
     "DNS servers to ask: \"192.0.2.53\", \"192.0.2.53:5353\" or \"[2001:db8::53]:5353\", several separated by commas; "
     "empty: the ones in /etc/resolv.conf; \"recursive\": resolve from the root servers.",
     store_dns_resolver, load_field<&Config::dns, &Dns::resolver>},
    {"dns.timeout", Kind::duration, Scope::global, {ms(1s), ms(5min)},
     "Longest wait for one lookup (an MX question, or the A and AAAA questions of one host); past it "
     "the delivery is deferred.",
     store_field<&Config::dns, &Dns::timeout>, load_field<&Config::dns, &Dns::timeout>},
    {"dns.trust_anchor", Kind::path, Scope::global, kNoBounds,
     "DNSSEC root trust anchor file (Debian: /usr/share/dns/root.key); empty: no validation, so no DANE.",
     store_field<&Config::dns, &Dns::trust_anchor>, load_field<&Config::dns, &Dns::trust_anchor>},

    // [accounts]: see docs/accounts.md.
    {"accounts.postmaster", Kind::text, Scope::global, kNoBounds,
     "Address that receives mail for postmaster@ every local domain without its own postmaster user or "
     "alias (RFC 5321 4.5.1); empty: the alias postmaster@<first of local_domains>.",
     store_accounts_postmaster, load_field<&Config::accounts, &Accounts::postmaster>},
    {"accounts.recipient_delimiter", Kind::text, Scope::global, kNoBounds,
     "Characters that start a subaddress: with \"+\", alice+news@ reaches alice@ unless alice+news is a user "
     "or alias itself; empty: no subaddresses.",
     store_recipient_delimiter, load_field<&Config::accounts, &Accounts::recipient_delimiter>},

    // [dkim]: see docs/dkim.md.
    {"dkim.enabled", Kind::flag, Scope::global, kNoBounds,
     "Sign our users' outgoing mail with DKIM when its From: domain has a key in dkim.key_dir (never mail from the internet).",
     store_field<&Config::dkim, &Dkim::enabled>, load_field<&Config::dkim, &Dkim::enabled>},
    {"dkim.key_dir", Kind::text, Scope::global, kNoBounds,
     "Directory of DKIM private keys, one file per key: KEY_DIR/DOMAIN/SELECTOR.key (mode 0600); absolute or under {data_dir}.",
     store_dkim_key_dir, load_field<&Config::dkim, &Dkim::key_dir>},

    // [limits]: each one is enforced with a standard reply; see docs/limits.md.
    {"limits.message_size", Kind::size, Scope::global, {kKiB, 2 * kGiB},
     "Largest message accepted, in octets as received; advertised in EHLO SIZE.",
     store_field<&Config::limits, &Limits::message_size>, load_field<&Config::limits, &Limits::message_size>},
    {"limits.receiving_memory", Kind::size, Scope::global, {kKiB, 64 * kGiB},
     "Octets of messages being received at once, all sessions together (held in memory until the spool commit).",
     store_field<&Config::limits, &Limits::receiving_memory>,
     load_field<&Config::limits, &Limits::receiving_memory>},
    {"limits.recipients_per_message", Kind::count, Scope::global, {1, 100000},
     "RCPT commands accepted per message.",
     store_field<&Config::limits, &Limits::recipients_per_message>,
     load_field<&Config::limits, &Limits::recipients_per_message>},
    {"limits.command_line_length", Kind::size, Scope::global, {512, 64 * kKiB},
     "Longest command line, CRLF included (RFC 5321 4.5.3.1.4 requires at least 512).",
     store_field<&Config::limits, &Limits::command_line_length>,
     load_field<&Config::limits, &Limits::command_line_length>},
    {"limits.bad_commands", Kind::count, Scope::global, {1, 1000},
     "Unknown, malformed or out-of-order commands per session before it is closed.",
     store_field<&Config::limits, &Limits::bad_commands>, load_field<&Config::limits, &Limits::bad_commands>},
    {"limits.messages_per_session", Kind::count, Scope::global, {1, 100000},
     "Messages accepted in one connection.",
     store_field<&Config::limits, &Limits::messages_per_session>,
     load_field<&Config::limits, &Limits::messages_per_session>},
    {"limits.received_headers", Kind::count, Scope::global, {1, 1000},
     "Received header fields a message may carry; one with more is looping and is refused at the end "
     "of data with 554 5.4.6 (RFC 5321 6.3 asks for at least 100).",
     store_field<&Config::limits, &Limits::received_headers>,
     load_field<&Config::limits, &Limits::received_headers>},
    {"limits.command_timeout", Kind::duration, Scope::global, {ms(1s), ms(1h)},
     "Idle time allowed while waiting for a command (RFC 5321 4.5.3.2.7 asks for 5 minutes).",
     store_field<&Config::limits, &Limits::command_timeout>,
     load_field<&Config::limits, &Limits::command_timeout>},
    {"limits.proxy_header_timeout", Kind::duration, Scope::global, {ms(1s), ms(5min)},
     "On a listener with proxy_protocol: how long the PROXY header may take to arrive before the connection is "
     "closed.",
     store_field<&Config::limits, &Limits::proxy_header_timeout>,
     load_field<&Config::limits, &Limits::proxy_header_timeout>},
    {"limits.data_timeout", Kind::duration, Scope::global, {ms(1s), ms(24h)},
     "Time allowed for the whole DATA or BDAT transfer of one message.",
     store_field<&Config::limits, &Limits::data_timeout>, load_field<&Config::limits, &Limits::data_timeout>},
    {"limits.session_timeout", Kind::duration, Scope::global, {ms(1s), ms(7 * 24h)},
     "Time allowed for a whole connection, however busy.",
     store_field<&Config::limits, &Limits::session_timeout>,
     load_field<&Config::limits, &Limits::session_timeout>},
    {"limits.connections_per_ip", Kind::count, Scope::global, {1, 100000},
     "Simultaneous connections from one client IP address.",
     store_field<&Config::limits, &Limits::connections_per_ip>,
     load_field<&Config::limits, &Limits::connections_per_ip>},
    {"limits.connections_total", Kind::count, Scope::global, {1, 1000000},
     "Simultaneous connections over all listeners.",
     store_field<&Config::limits, &Limits::connections_total>,
     load_field<&Config::limits, &Limits::connections_total>},
    {"limits.auth_failures_before_delay", Kind::count, Scope::global, {0, 1000},
     "AUTH failures (per client network, and per account from a network it does not know, within "
     "auth_failure_window) answered without delay.",
     store_field<&Config::limits, &Limits::auth_failures_before_delay>,
     load_field<&Config::limits, &Limits::auth_failures_before_delay>},
    {"limits.auth_failure_delay", Kind::duration, Scope::global, {0, ms(60s)},
     "Delay before answering a failed AUTH past auth_failures_before_delay; grows per failure.",
     store_field<&Config::limits, &Limits::auth_failure_delay>,
     load_field<&Config::limits, &Limits::auth_failure_delay>},
    {"limits.auth_failures_before_disconnect", Kind::count, Scope::global, {1, 1000},
     "AUTH failures (within auth_failure_window, checks in flight included) from a client network before it is "
     "refused (421), and against an account before only its known networks may log in.",
     store_field<&Config::limits, &Limits::auth_failures_before_disconnect>,
     load_field<&Config::limits, &Limits::auth_failures_before_disconnect>},
    {"limits.auth_failure_window", Kind::duration, Scope::global, {ms(1s), ms(7 * 24h)},
     "How long an AUTH failure is remembered.",
     store_field<&Config::limits, &Limits::auth_failure_window>,
     load_field<&Config::limits, &Limits::auth_failure_window>},
    {"limits.auth_max_failure_delay", Kind::duration, Scope::global, {0, ms(4min)},
     "Cap of the growing AUTH failure delay (under the 5-minute client timeout of RFC 5321 4.5.3.2.7).",
     store_field<&Config::limits, &Limits::auth_max_failure_delay>,
     load_field<&Config::limits, &Limits::auth_max_failure_delay>},
    {"limits.auth_ipv4_prefix", Kind::count, Scope::global, {8, 32},
     "Prefix length of the client network AUTH failures of an IPv4 peer are counted for.",
     store_field<&Config::limits, &Limits::auth_ipv4_prefix>,
     load_field<&Config::limits, &Limits::auth_ipv4_prefix>},
    {"limits.auth_ipv6_prefix", Kind::count, Scope::global, {16, 128},
     "Prefix length of the client network AUTH failures of an IPv6 peer are counted for (a /64 is one site).",
     store_field<&Config::limits, &Limits::auth_ipv6_prefix>,
     load_field<&Config::limits, &Limits::auth_ipv6_prefix>},
    {"limits.auth_known_network_lifetime", Kind::duration, Scope::global, {ms(1min), ms(365 * 24h)},
     "How long a client network stays known for an account after a login from it succeeded.",
     store_field<&Config::limits, &Limits::auth_known_network_lifetime>,
     load_field<&Config::limits, &Limits::auth_known_network_lifetime>},
    {"limits.auth_tracked_keys", Kind::count, Scope::global, {100, 10'000'000},
     "Networks and accounts whose AUTH failures are remembered, and known networks kept (each table).",
     store_field<&Config::limits, &Limits::auth_tracked_keys>,
     load_field<&Config::limits, &Limits::auth_tracked_keys>},
    restart_only({"limits.auth_concurrency", Kind::count, Scope::global, {1, 256},
     "Password verifications (argon2id) running at the same time, each on its own thread.",
     store_field<&Config::limits, &Limits::auth_concurrency>,
     load_field<&Config::limits, &Limits::auth_concurrency>}),
    restart_only({"limits.auth_queue", Kind::count, Scope::global, {1, 100000},
     "Verifications waiting for a thread; past it AUTH gets a temporary failure.",
     store_field<&Config::limits, &Limits::auth_queue>, load_field<&Config::limits, &Limits::auth_queue>}),
    {"limits.shutdown_grace", Kind::duration, Scope::global, {0, ms(1h)},
     "On SIGTERM, time given to sessions in progress before they are closed.",
     store_field<&Config::limits, &Limits::shutdown_grace>, load_field<&Config::limits, &Limits::shutdown_grace>},

    // [smtp]
    {"smtp.received_auth_user", Kind::flag, Scope::global, kNoBounds,
     "Name the authenticated user in the Received header (off: it would publish login names).",
     store_field<&Config::received_header_includes_auth_user>,
     load_field<&Config::received_header_includes_auth_user>},

    // [policy]
    {"policy.check_from_header", Kind::flag, Scope::global, kNoBounds,
     "Authenticated users may put only their own addresses and aliases in the From: header, as in MAIL FROM "
     "(refused 553 5.7.1 at the end of DATA); the local submission socket is not checked.",
     store_field<&Config::policy, &Policy::check_from_header>,
     load_field<&Config::policy, &Policy::check_from_header>},

    // [server]
    restart_only({"server.io_threads", Kind::count, Scope::global, {0, 1024},
     "Threads running connections; 0 = one per CPU core.",
     store_field<&Config::io_threads>, load_field<&Config::io_threads>}),
    restart_only({"server.user", Kind::text, Scope::global, kNoBounds,
     "Started as root, cartero binds its listeners and then becomes this user before it reads a byte from the "
     "network; data_dir, the log file and tls.key must be usable by it. Empty: keep the starting identity.",
     store_field<&Config::run_as_user>, load_field<&Config::run_as_user>}),
    restart_only({"server.group", Kind::text, Scope::global, kNoBounds,
     "Group cartero becomes with server.user; empty: that user's primary group.",
     store_field<&Config::run_as_group>, load_field<&Config::run_as_group>}),

    // [log]
    {"log.level", Kind::text, Scope::global, kNoBounds,
     "Least severe level logged: trace, debug, info, warn or error.",
     store_log_level, load_field<&Config::log_level>},
    restart_only({"log.file", Kind::path, Scope::global, kNoBounds,
     "File the log is appended to; empty = standard error. Reopened on SIGHUP (log rotation); naming another "
     "file needs a restart.",
     store_field<&Config::log_file>, load_field<&Config::log_file>}),
};

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string format_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const std::string& item : items) {
        out += (out.size() > 1 ? ", " : "") + quoted(item);
    }
    return out + "]";
}

}  // namespace

std::span<const KeySpec> schema() { return kSchema; }

const KeySpec* find_key(std::string_view key) {
    const auto* found = std::find_if(std::begin(kSchema), std::end(kSchema),
                                     [&](const KeySpec& spec) { return spec.key == key; });
    return found == std::end(kSchema) ? nullptr : found;
}

std::string format_value(Kind kind, const Value& value) {
    switch (kind) {
    case Kind::text:
    case Kind::path: return quoted(std::get<std::string>(value));
    case Kind::text_list: return format_list(std::get<std::vector<std::string>>(value));
    case Kind::flag: return std::get<bool>(value) ? "true" : "false";
    case Kind::count: return std::to_string(std::get<std::int64_t>(value));
    case Kind::size: return quoted(format_number(kind, std::get<std::int64_t>(value)));
    case Kind::duration: return quoted(format_number(kind, std::get<milliseconds>(value).count()));
    }
    return {};
}

std::string format_number(Kind kind, std::int64_t number) {
    switch (kind) {
    case Kind::size: return format_size(number);
    case Kind::duration: return format_duration(milliseconds{number});
    default: return std::to_string(number);
    }
}

std::string bounds_text(const KeySpec& spec) {
    if (spec.kind != Kind::count && spec.kind != Kind::size && spec.kind != Kind::duration) {
        return {};
    }
    return format_number(spec.kind, spec.bounds.min) + ".." + format_number(spec.kind, spec.bounds.max);
}

std::string default_text(const KeySpec& spec) {
    const Value value = spec.load(Config{});
    if (std::holds_alternative<std::monostate>(value)) {
        return spec.optional ? "(optional)" : "(required)";
    }
    return format_value(spec.kind, value);
}

std::string_view reload_name(Reload reload) {
    return reload == Reload::restart ? "restart" : "reloads";
}

std::string_view kind_name(Kind kind) {
    switch (kind) {
    case Kind::text: return "string";
    case Kind::path: return "path";
    case Kind::text_list: return "list of strings";
    case Kind::flag: return "boolean";
    case Kind::count: return "integer";
    case Kind::size: return "size";
    case Kind::duration: return "duration";
    }
    return {};
}

std::string_view kind_expectation(Kind kind) {
    switch (kind) {
    case Kind::text: return "a string in double quotes";
    case Kind::path: return "a path as a string in double quotes";
    case Kind::text_list: return "an array of strings, e.g. [\"a\", \"b\"]";
    case Kind::flag: return "true or false";
    case Kind::count: return "an integer";
    case Kind::size: return "a size: an integer number of octets or a string like \"10MiB\"";
    case Kind::duration: return "a duration: an integer number of seconds or a string like \"30s\" or \"5m\"";
    }
    return {};
}

}  // namespace cartero::config
