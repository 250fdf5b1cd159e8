// Config: every setting of cartero as a plain value, filled from a TOML file or
// the embedded default. Every key, default and bound lives in config/schema.cpp
// (one table) and in docs/configuration.md; a test checks the two agree.
//
// Trust: the config file is trusted operator input, but it is still validated
// strictly: a bad file stops the server with file:line:key named.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::config {

// `local` is the submission socket {data_dir}/submit.sock (`cartero sendmail`,
// src/net/local_submission.hpp). It has no name in the [[listener]] table, so a
// config file cannot put it on a network address.
enum class ListenerRole { mx, submission, submissions, local };

struct Listener {
    ListenerRole role = ListenerRole::mx;
    std::string host;        // "127.0.0.1", "::", "0.0.0.0"
    std::uint16_t port = 0;  // 0 = pick a free port (tests); the bound port is logged
    // PROXY protocol v1/v2 (net/proxy_header.hpp): every connection starts with
    // the header naming the real client, sent by a balancer in proxy_from (CIDRs).
    bool proxy_protocol = false;
    std::vector<std::string> proxy_from = {};  // `= {}`: braced Listener{role, host, port} stays warning-free
};

// Mozilla's server-side TLS recommendations (wiki.mozilla.org/Security/Server_Side_TLS):
// intermediate = TLS 1.2 and 1.3, ECDHE with AEAD ciphers only; modern = TLS 1.3 only.
enum class TlsProfile { intermediate, modern };

struct Tls {
    // PEM chain and key. A config file must name existing files when a listener
    // needs TLS; the embedded default points under home/tls/ and src/net
    // generates a self-signed pair there on first start. Empty = no TLS at all.
    std::filesystem::path cert;
    std::filesystem::path key;
    TlsProfile profile = TlsProfile::intermediate;  // tls.profile
    // tls.watch_interval: how often the two files are checked for a change
    // (a certificate renewal), which reloads them as SIGHUP does.
    std::chrono::milliseconds watch_interval{std::chrono::minutes(1)};
};

struct Limits {
    std::size_t message_size = 10 * 1024 * 1024;        // limits.message_size (octets)
    std::size_t recipients_per_message = 1000;          // limits.recipients_per_message
    std::size_t receiving_memory = 512 * 1024 * 1024;   // limits.receiving_memory, all sessions together
    std::size_t command_line_length = 2048;             // limits.command_line_length (octets incl. CRLF)
    std::size_t bad_commands = 20;                      // limits.bad_commands per session
    std::size_t messages_per_session = 1000;            // limits.messages_per_session
    std::size_t received_headers = 100;                 // limits.received_headers: more is a mail loop (RFC 5321 6.3)
    std::chrono::seconds command_timeout{300};          // limits.command_timeout (RFC 5321 4.5.3.2.7)
    std::chrono::seconds proxy_header_timeout{10};      // limits.proxy_header_timeout
    std::chrono::seconds data_timeout{600};             // limits.data_timeout, whole DATA/BDAT phase
    std::chrono::seconds session_timeout{3600};         // limits.session_timeout, whole connection
    std::size_t connections_per_ip = 50;                // limits.connections_per_ip
    std::size_t connections_total = 20000;              // limits.connections_total
    std::size_t auth_failures_before_delay = 3;         // limits.auth_failures_before_delay (per IP or account)
    std::chrono::milliseconds auth_failure_delay{1000}; // limits.auth_failure_delay, grows per failure
    std::size_t auth_failures_before_disconnect = 10;   // limits.auth_failures_before_disconnect
    std::chrono::seconds auth_failure_window{900};      // limits.auth_failure_window, memory of failures
    std::chrono::milliseconds auth_max_failure_delay{30'000}; // limits.auth_max_failure_delay, cap of the growing delay
    std::size_t auth_ipv4_prefix = 32;                  // limits.auth_ipv4_prefix: client network of an IPv4 peer
    std::size_t auth_ipv6_prefix = 64;                  // limits.auth_ipv6_prefix: client network of an IPv6 peer
    std::chrono::seconds auth_known_network_lifetime{30 * 24 * 3600}; // limits.auth_known_network_lifetime
    std::size_t auth_tracked_keys = 100'000;            // limits.auth_tracked_keys: entries per throttle table
    std::size_t auth_concurrency = 2;                   // limits.auth_concurrency: hashing threads
    std::size_t auth_queue = 64;                        // limits.auth_queue: waiting verifications before 454
    std::chrono::seconds shutdown_grace{10};            // limits.shutdown_grace, SIGTERM drain
};

// STARTTLS to a remote server (Postfix smtp_tls_security_level none / may / secure).
enum class TlsPolicy {
    none,  // never: plaintext even when STARTTLS is offered
    may,   // opportunistic: STARTTLS when offered, certificate not checked, plaintext otherwise
    must,  // STARTTLS required and the certificate verified for the host name; otherwise deferred
};

// How a smarthost is reached.
enum class RelayTls {
    starttls,  // port 587: STARTTLS required, certificate verified
    implicit,  // port 465: TLS from the first octet, certificate verified (RFC 8314)
    none,      // plaintext: only to a loopback address (checked at load)
};

// [[relay]]: a smarthost (a provider's submission server), used by
// delivery.relay for all remote mail or by a [[destination]] for one domain.
struct Relay {
    std::string name;                     // relay.name, unique
    std::string host;                     // relay.host: DNS name (certificate checked against it) or IP
    std::size_t port = 0;                 // relay.port
    RelayTls tls = RelayTls::starttls;    // relay.tls
    std::string username;                 // relay.username; "" = no AUTH
    std::filesystem::path password_file;  // relay.password_file: first line is the password
};

// [[destination]]: how mail to one remote domain leaves.
struct Destination {
    std::string domain;       // destination.domain, lower case, unique, not local or routed
    std::string relay;        // destination.relay: a [[relay]] name; "" = MX (ignores delivery.relay)
    std::optional<TlsPolicy> tls;  // destination.tls; unset = delivery.tls
};

// [[lmtp]]: the mailboxes of one local domain live in an LMTP server (Dovecot)
// instead of cartero's Maildirs (docs/delivery.md, "LMTP to Dovecot").
struct LmtpServer {
    std::string domain;   // lmtp.domain, lower case, unique, in local_domains
    std::string address;  // lmtp.address: "unix:/run/dovecot/lmtp" or "HOST:PORT" (IP host)
};

struct Delivery {
    std::string maildir = "{data_dir}/mail/{domain}/{localpart}";  // delivery.maildir template
    std::string lmtp;                                   // delivery.lmtp: LMTP server of every local domain; "" = Maildir
    std::chrono::seconds retry_initial{60};             // delivery.retry_initial
    std::chrono::seconds retry_max{3600};               // delivery.retry_max (backoff cap)
    std::chrono::seconds queue_lifetime{5 * 24 * 3600}; // delivery.queue_lifetime
    std::size_t local_concurrency = 4;                  // delivery.local_concurrency
    // Remote delivery (SMTP to MX hosts and smarthosts); docs/delivery.md.
    std::size_t remote_concurrency = 20;                // delivery.remote_concurrency
    std::size_t destination_concurrency = 5;            // delivery.destination_concurrency (per domain or relay)
    std::size_t remote_port = 25;                       // delivery.remote_port, of MX hosts
    std::string relay;                                  // delivery.relay: a [[relay]] name for all remote mail; "" = MX
    TlsPolicy tls = TlsPolicy::may;                     // delivery.tls, to MX hosts
    std::filesystem::path ca_file;                      // delivery.ca_file; empty = the system's CA store
    bool mta_sts = true;                                // delivery.mta_sts: RFC 8461 policies of MX domains (docs/mta-sts-dane.md)
    std::size_t mta_sts_port = 443;                     // delivery.mta_sts_port: HTTPS port of mta-sts.<domain> (tests)
    std::chrono::seconds mta_sts_timeout{10};           // delivery.mta_sts_timeout: one policy fetch, per address
    std::chrono::seconds connect_timeout{30};           // delivery.connect_timeout
    std::size_t max_mx_addresses = 5;                   // delivery.max_mx_addresses: tried per attempt (Postfix smtp_mx_address_limit)
    std::chrono::seconds command_timeout{300};          // delivery.command_timeout (RFC 5321 4.5.3.2.1-3)
    std::chrono::seconds data_timeout{600};             // delivery.data_timeout (4.5.3.2.4-6, the longest)
    std::chrono::seconds connection_reuse_time{5};      // delivery.connection_reuse_time: idle connection kept
    std::chrono::seconds delay_warning{4 * 3600};       // delivery.delay_warning; 0 = never
    std::chrono::seconds shutdown_grace{10};            // delivery.shutdown_grace: then deliveries are abandoned
    std::size_t bounce_size_limit = 50000;              // delivery.bounce_size_limit: original message in a DSN
    std::chrono::seconds srs_max_age{21 * 24 * 3600};   // delivery.srs_max_age: SRS addresses verify this long
};

// Resolver used for MX, A/AAAA, TXT and TLSA lookups (docs/dns.md).
struct Dns {
    std::string resolver;                 // dns.resolver "HOST:PORT"; "" = /etc/resolv.conf
    std::chrono::seconds timeout{10};     // dns.timeout, per lookup
    std::filesystem::path trust_anchor;   // dns.trust_anchor: DNSSEC root key; empty = no validation
};

// [dkim]: signing of outgoing mail (src/dkim/, docs/dkim.md).
struct Dkim {
    bool enabled = true;                      // dkim.enabled: sign our users' mail when its From domain has a key
    std::string key_dir = "{data_dir}/dkim";  // dkim.key_dir: <key_dir>/<domain>/<selector>.key
};

// [accounts]: how addresses of the local domains are looked up beyond their
// exact name (src/accounts/directory.hpp, docs/accounts.md).
struct Accounts {
    // accounts.postmaster: where postmaster@ a local domain goes when that
    // domain has no user or alias of that name (RFC 5321 4.5.1). "" = the
    // alias postmaster@<first local domain>, which the operator creates.
    std::string postmaster;
    // accounts.recipient_delimiter: characters that separate a local part from
    // its extension ("alice+news" reaches alice), like Postfix's
    // recipient_delimiter; each character is a delimiter. "" = no subaddresses.
    std::string recipient_delimiter = "+";
};

// [policy]: checks on what authenticated users send (src/policy/, docs/accounts.md).
struct Policy {
    bool check_from_header = true;  // policy.check_from_header: From: addresses owned by the AUTH user
};

// What a [[route]] does with the mail of its domain. The first transport;
// issue 4 adds lmtp and relay (smarthost) next to it.
enum class Transport {
    discard,  // accept durably, then throw away (Postfix discard(8)): benchmarks and sinks
};

// [[route]]: mail for one domain goes to a transport instead of the local
// mailboxes or the MX of the domain. A routed domain is one cartero takes mail
// for from anyone, on every role, like a local domain, but without a user
// check: Postfix relay_domains plus a transport map entry. Matching is exact:
// "bench.test" covers neither "a.bench.test" nor "bench.test.example".
struct Route {
    std::string domain;  // lower case; unique among routes; never also in local_domains
    Transport transport = Transport::discard;
};

struct Config {
    std::filesystem::path source;           // file it was read from; empty for the embedded default
    std::string hostname = "localhost";
    std::filesystem::path data_dir = "var";
    std::vector<std::string> local_domains = {"localhost"};
    std::vector<std::string> trusted_networks;  // CIDR strings, validated at load
    std::vector<Listener> listeners;
    std::vector<Route> routes;  // [[route]] tables in file order
    std::vector<Relay> relays;  // [[relay]] tables in file order
    std::vector<Destination> destinations;  // [[destination]] tables in file order
    std::vector<LmtpServer> lmtp_servers;   // [[lmtp]] tables in file order
    Tls tls;
    Limits limits;
    Delivery delivery;
    Dns dns;
    Dkim dkim;
    Accounts accounts;
    Policy policy;
    bool received_header_includes_auth_user = false;  // smtp.received_auth_user
    std::size_t io_threads = 0;                        // server.io_threads; 0 = one per core
    // server.user / server.group: who cartero becomes after binding its
    // listeners when started as root (net/privileges.hpp); empty = stay.
    std::string run_as_user;
    std::string run_as_group;
    std::string log_level = "info";                    // log.level: trace|debug|info|warn|error
    std::filesystem::path log_file;                    // log.file; empty = stderr
};

// A config problem, already phrased for the operator: "file:line: key: what is wrong (fix)".
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A local part or domain that must not become part of a filesystem path
// (see maildir_for). The message names the offending part, never the path.
class InvalidMailbox : public std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Why `part` (a local part or a domain) cannot name a mailbox directory, or
// nullopt if it can: "is empty", "starts with '.'" (covers "." and ".."),
// "contains '/'", "contains a NUL octet"; any of those would let an address
// choose a path outside its mailbox. The one rule for both sides: maildir_for
// refuses such a part at delivery, and `cartero user add` / `alias add`
// (accounts::local_address_problem) refuse to create such a name, so an
// account the CLI accepts is one the Maildir courier can deliver to.
std::optional<std::string> mailbox_name_problem(std::string_view part);

// Reads and validates a TOML file. Throws ConfigError naming file, line and key.
Config load_file(const std::filesystem::path& path);

// The embedded default used by `cartero serve` without --config: data under `home`,
// listeners on 127.0.0.1:2525 (mx), :2587 (submission), :2465 (submissions),
// certificate generated under home on first start.
Config embedded_default(const std::filesystem::path& home);

// Expands the delivery.maildir template for one mailbox. localpart and domain
// come from the network: throws InvalidMailbox when either is empty, contains
// '/' or NUL, or starts with '.' (which covers "." and ".."), because any of
// those would let a recipient address choose a path outside its mailbox.
std::filesystem::path maildir_for(const Config&, std::string_view localpart, std::string_view domain);

// The directory every mailbox of delivery.maildir lies under (the template up
// to its first {domain} or {localpart}), e.g. "<data_dir>/mail/".
std::filesystem::path maildir_root(const Config&);

std::string_view to_string(ListenerRole);
// Whether a listener of this role cannot run without [tls] cert and key.
bool needs_tls(ListenerRole);
std::optional<ListenerRole> listener_role_from_string(std::string_view);  // "mx", "submission", "submissions"

std::string_view to_string(Transport);
std::optional<Transport> transport_from_string(std::string_view);  // "discard"
// Every transport name, in the order the docs list them, for "use one of ..." hints.
std::vector<std::string_view> transport_names();
std::string_view to_string(TlsProfile);
std::optional<TlsProfile> tls_profile_from_string(std::string_view);  // "intermediate", "modern"
std::string_view to_string(TlsPolicy);
std::optional<TlsPolicy> tls_policy_from_string(std::string_view);  // "none", "may", "must"
std::string_view to_string(RelayTls);
std::optional<RelayTls> relay_tls_from_string(std::string_view);  // "starttls", "implicit", "none"
// The [[relay]] of that name, or nullptr.
const Relay* find_relay(const Config&, std::string_view name);
// Where the mailboxes of a local domain are: the address of its [[lmtp]], else
// delivery.lmtp; "" = cartero's own Maildirs (delivery.maildir).
const std::string& lmtp_address_for(const Config&, std::string_view domain);

}  // namespace cartero::config
