// The embedded default configuration (`cartero serve` without --config) and the
// names of listener roles and route transports.
//
// The default must be safe to start on any machine without reading anything:
// loopback-only listeners on unprivileged ports, hostname "localhost" rather
// than gethostname() so behaviour does not depend on the machine, and NO
// trusted networks: unlike Postfix's mynetworks_style=host, loopback clients
// must authenticate to relay, so a local web app or a compromised local process
// cannot turn the default install into a relay.
#include <array>
#include <utility>

#include "config/config.hpp"

namespace cartero::config {
namespace {

// Lookups both ways in a {value, name} table; one table per enum keeps the
// spellings in one place.
template <typename Enum, std::size_t Size>
using NameTable = std::array<std::pair<Enum, std::string_view>, Size>;

template <typename Enum, std::size_t Size>
std::string_view name_in(const NameTable<Enum, Size>& table, Enum value) {
    for (const auto& [known, name] : table) {
        if (known == value) {
            return name;
        }
    }
    return "unknown";
}

template <typename Enum, std::size_t Size>
std::optional<Enum> value_in(const NameTable<Enum, Size>& table, std::string_view name) {
    for (const auto& [value, known] : table) {
        if (known == name) {
            return value;
        }
    }
    return std::nullopt;
}

constexpr NameTable<ListenerRole, 3> kRoleNames = {{
    {ListenerRole::mx, "mx"},
    {ListenerRole::submission, "submission"},
    {ListenerRole::submissions, "submissions"},
}};

constexpr NameTable<Transport, 1> kTransportNames = {{
    {Transport::discard, "discard"},
}};

constexpr NameTable<TlsProfile, 2> kTlsProfileNames = {{
    {TlsProfile::intermediate, "intermediate"},
    {TlsProfile::modern, "modern"},
}};

constexpr NameTable<TlsPolicy, 3> kTlsPolicyNames = {{
    {TlsPolicy::none, "none"},
    {TlsPolicy::may, "may"},
    {TlsPolicy::must, "must"},
}};

constexpr NameTable<OnExceed, 2> kOnExceedNames = {{
    {OnExceed::defer, "defer"},
    {OnExceed::hold, "hold"},
}};

constexpr NameTable<RelayTls, 3> kRelayTlsNames = {{
    {RelayTls::starttls, "starttls"},
    {RelayTls::implicit, "implicit"},
    {RelayTls::none, "none"},
}};

// Unprivileged stand-ins for 25, 587 and 465, so the default runs without root.
constexpr std::uint16_t kDefaultMxPort = 2525;
constexpr std::uint16_t kDefaultSubmissionPort = 2587;
constexpr std::uint16_t kDefaultSubmissionsPort = 2465;

}  // namespace

Config embedded_default(const std::filesystem::path& home) {
    Config config;
    config.data_dir = std::filesystem::absolute(home).lexically_normal();
    config.listeners = {
        {ListenerRole::mx, "127.0.0.1", kDefaultMxPort},
        {ListenerRole::submission, "127.0.0.1", kDefaultSubmissionPort},
        {ListenerRole::submissions, "127.0.0.1", kDefaultSubmissionsPort},
    };
    // These files need not exist yet: src/net creates a self-signed pair here on
    // first start. A config file, in contrast, must name existing files.
    config.tls.cert = config.data_dir / "tls" / "cert.pem";
    config.tls.key = config.data_dir / "tls" / "key.pem";
    return config;
}

bool needs_tls(ListenerRole role) {
    // submissions is TLS from the first octet (RFC 8314 3.3); submission must
    // offer STARTTLS because AUTH is never allowed in plaintext.
    return role == ListenerRole::submission || role == ListenerRole::submissions;
}

std::string_view to_string(ListenerRole role) {
    // Not in kRoleNames on purpose: listener_role_from_string must not know it.
    if (role == ListenerRole::local) return "local";
    return name_in(kRoleNames, role);
}

std::optional<ListenerRole> listener_role_from_string(std::string_view name) { return value_in(kRoleNames, name); }

std::string_view to_string(Transport transport) { return name_in(kTransportNames, transport); }

std::optional<Transport> transport_from_string(std::string_view name) { return value_in(kTransportNames, name); }

std::vector<std::string_view> transport_names() {
    std::vector<std::string_view> names;
    for (const auto& entry : kTransportNames) {
        names.push_back(entry.second);
    }
    return names;
}

std::string_view to_string(TlsProfile profile) { return name_in(kTlsProfileNames, profile); }

std::optional<TlsProfile> tls_profile_from_string(std::string_view name) { return value_in(kTlsProfileNames, name); }

std::string_view to_string(TlsPolicy policy) { return name_in(kTlsPolicyNames, policy); }

std::optional<TlsPolicy> tls_policy_from_string(std::string_view name) { return value_in(kTlsPolicyNames, name); }

std::string_view to_string(OnExceed mode) { return name_in(kOnExceedNames, mode); }

std::optional<OnExceed> on_exceed_from_string(std::string_view name) { return value_in(kOnExceedNames, name); }

std::string_view to_string(RelayTls tls) { return name_in(kRelayTlsNames, tls); }

std::optional<RelayTls> relay_tls_from_string(std::string_view name) { return value_in(kRelayTlsNames, name); }

const std::string& lmtp_address_for(const Config& config, std::string_view domain) {
    for (const LmtpServer& server : config.lmtp_servers) {
        if (server.domain == domain) {
            return server.address;
        }
    }
    return config.delivery.lmtp;
}

const Relay* find_relay(const Config& config, std::string_view name) {
    for (const Relay& relay : config.relays) {
        if (relay.name == name) {
            return &relay;
        }
    }
    return nullptr;
}

}  // namespace cartero::config
