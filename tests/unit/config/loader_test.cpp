#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "config/config.hpp"
#include "temp_dir.hpp"

namespace cartero::config {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// Writes cert.pem and key.pem next to the config so TLS listeners are valid.
constexpr std::string_view kTls = "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n";

Config load_text(const TempDir& dir, const std::string& toml) {
    dir.write("cert.pem", "certificate");
    dir.write("key.pem", "key");
    return load_file(dir.write("cartero.toml", toml));
}

TEST(LoadFile, EmptyFileGivesDefaultsRelativeToTheFile) {
    TempDir dir;
    const Config got = load_text(dir, "");
    const Config want;
    EXPECT_EQ(got.source, dir.path() / "cartero.toml");
    EXPECT_EQ(got.data_dir, dir.path() / "var");
    EXPECT_EQ(got.hostname, want.hostname);
    EXPECT_EQ(got.local_domains, want.local_domains);
    EXPECT_TRUE(got.trusted_networks.empty());
    EXPECT_TRUE(got.listeners.empty());
    EXPECT_EQ(got.limits.message_size, want.limits.message_size);
    EXPECT_EQ(got.delivery.maildir, want.delivery.maildir);
}

TEST(LoadFile, FullConfig) {
    TempDir dir;
    const Config got = load_text(dir, R"(
hostname = "MX.Example.org"
data_dir = "/srv/cartero"
local_domains = ["example.org", "Example.NET"]
trusted_networks = ["192.0.2.0/24", "2001:db8::/32"]

[[listener]]
role = "mx"
address = "0.0.0.0:25"

[[listener]]
role = "submission"
address = "[::1]:587"

[[listener]]
role = "submissions"
address = "127.0.0.1:0"

[tls]
cert = "cert.pem"
key = "key.pem"

[delivery]
maildir = "/var/mail/{domain}/{localpart}/Maildir"
retry_initial = "30s"
retry_max = "2h"
queue_lifetime = "3d"
local_concurrency = 8

[limits]
message_size = "25MiB"
recipients_per_message = 50
command_line_length = 4096
bad_commands = 5
messages_per_session = 10
command_timeout = "2m"
data_timeout = 300
session_timeout = "1h"
connections_per_ip = 5
connections_total = 100
auth_failures_before_delay = 1
auth_failure_delay = "250ms"
auth_failures_before_disconnect = 4
auth_failure_window = "30m"
auth_concurrency = 3
auth_queue = 10
shutdown_grace = "5s"

[smtp]
received_auth_user = true

[server]
io_threads = 2

[log]
level = "debug"
file = "log/cartero.log"
)");
    EXPECT_EQ(got.hostname, "mx.example.org");
    EXPECT_EQ(got.data_dir, "/srv/cartero");
    EXPECT_EQ(got.local_domains, (std::vector<std::string>{"example.org", "example.net"}));
    EXPECT_EQ(got.trusted_networks, (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"}));
    ASSERT_EQ(got.listeners.size(), 3u);
    EXPECT_EQ(got.listeners[0].role, ListenerRole::mx);
    EXPECT_EQ(got.listeners[0].host, "0.0.0.0");
    EXPECT_EQ(got.listeners[0].port, 25);
    EXPECT_EQ(got.listeners[1].role, ListenerRole::submission);
    EXPECT_EQ(got.listeners[1].host, "::1");
    EXPECT_EQ(got.listeners[2].role, ListenerRole::submissions);
    EXPECT_EQ(got.listeners[2].port, 0);
    EXPECT_EQ(got.tls.cert, dir.path() / "cert.pem");
    EXPECT_EQ(got.tls.key, dir.path() / "key.pem");
    EXPECT_EQ(got.delivery.maildir, "/var/mail/{domain}/{localpart}/Maildir");
    EXPECT_EQ(got.delivery.retry_initial, 30s);
    EXPECT_EQ(got.delivery.retry_max, 2h);
    EXPECT_EQ(got.delivery.queue_lifetime, 72h);
    EXPECT_EQ(got.delivery.local_concurrency, 8u);
    EXPECT_EQ(got.limits.message_size, 25u * 1024 * 1024);
    EXPECT_EQ(got.limits.recipients_per_message, 50u);
    EXPECT_EQ(got.limits.command_line_length, 4096u);
    EXPECT_EQ(got.limits.bad_commands, 5u);
    EXPECT_EQ(got.limits.messages_per_session, 10u);
    EXPECT_EQ(got.limits.command_timeout, 120s);
    EXPECT_EQ(got.limits.data_timeout, 300s);
    EXPECT_EQ(got.limits.session_timeout, 3600s);
    EXPECT_EQ(got.limits.connections_per_ip, 5u);
    EXPECT_EQ(got.limits.connections_total, 100u);
    EXPECT_EQ(got.limits.auth_failures_before_delay, 1u);
    EXPECT_EQ(got.limits.auth_failure_delay, 250ms);
    EXPECT_EQ(got.limits.auth_failures_before_disconnect, 4u);
    EXPECT_EQ(got.limits.auth_failure_window, 1800s);
    EXPECT_EQ(got.limits.auth_concurrency, 3u);
    EXPECT_EQ(got.limits.auth_queue, 10u);
    EXPECT_EQ(got.limits.shutdown_grace, 5s);
    EXPECT_TRUE(got.received_header_includes_auth_user);
    EXPECT_EQ(got.io_threads, 2u);
    EXPECT_EQ(got.log_level, "debug");
    EXPECT_EQ(got.log_file, dir.path() / "log" / "cartero.log");
}

TEST(LoadFile, RelativeDataDirStartsAtTheConfigDirectory) {
    const struct {
        std::string value;
        std::string want_relative_to_dir;  // empty = want the value itself
    } cases[] = {
        {"spool", "spool"},
        {"./a/../spool", "spool"},
        {"../spool", "../spool"},
        {"/abs/spool", ""},
    };
    for (const auto& c : cases) {
        TempDir dir;
        const Config got = load_text(dir, "data_dir = \"" + c.value + "\"\n");
        const std::filesystem::path want = c.want_relative_to_dir.empty()
                                               ? std::filesystem::path(c.value)
                                               : (dir.path() / c.want_relative_to_dir).lexically_normal();
        EXPECT_EQ(got.data_dir, want) << c.value << ": got " << got.data_dir << ", want " << want;
    }
}

std::int64_t command_timeout_s(const Config& c) { return c.limits.command_timeout.count(); }
std::int64_t auth_failure_delay_ms(const Config& c) { return c.limits.auth_failure_delay.count(); }
std::int64_t queue_lifetime_s(const Config& c) { return c.delivery.queue_lifetime.count(); }
std::int64_t message_size(const Config& c) { return static_cast<std::int64_t>(c.limits.message_size); }

TEST(LoadFile, RelaysAndDestinations) {
    TempDir dir;
    std::ofstream(dir.path() / "relay.password") << "secret\n";
    std::filesystem::permissions(dir.path() / "relay.password", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const Config got = load_text(dir, R"(
[delivery]
relay = "gmail"
tls = "must"
[dns]
resolver = "192.0.2.53, [::1]:5353"
[[relay]]
name = "gmail"
host = "SMTP.gmail.com"
port = 587
tls = "starttls"
username = "me@gmail.com"
password_file = "relay.password"
[[relay]]
name = "local"
host = "127.0.0.1"
port = 2525
tls = "none"
[[destination]]
domain = "bank.example"
tls = "none"
[[destination]]
domain = "lab.example"
relay = "local"
)");
    ASSERT_EQ(got.relays.size(), 2u);
    EXPECT_EQ(got.relays[0].host, "smtp.gmail.com");
    EXPECT_EQ(got.relays[0].port, 587u);
    EXPECT_EQ(got.relays[0].password_file, dir.path() / "relay.password");
    EXPECT_EQ(got.relays[1].tls, RelayTls::none);
    EXPECT_TRUE(got.relays[1].username.empty());
    EXPECT_EQ(got.delivery.relay, "gmail");
    EXPECT_EQ(got.delivery.tls, TlsPolicy::must);
    EXPECT_EQ(got.dns.resolver, "192.0.2.53, [::1]:5353");
    ASSERT_EQ(got.destinations.size(), 2u);
    EXPECT_EQ(got.destinations[0].tls, TlsPolicy::none);
    EXPECT_EQ(got.destinations[1].relay, "local");
    EXPECT_FALSE(got.destinations[1].tls.has_value());
}

TEST(LoadFile, DurationsAndSizes) {
    const struct {
        std::string toml;
        std::int64_t (*read)(const Config&);
        std::int64_t want;
    } cases[] = {
        {"[limits]\ncommand_timeout = 30", command_timeout_s, 30},
        {"[limits]\ncommand_timeout = \"5m\"", command_timeout_s, 300},
        {"[limits]\ncommand_timeout = \"2000ms\"", command_timeout_s, 2},
        {"[limits]\nauth_failure_delay = \"500ms\"", auth_failure_delay_ms, 500},
        {"[limits]\nauth_failure_delay = 2", auth_failure_delay_ms, 2000},
        {"[delivery]\nqueue_lifetime = \"5d\"", queue_lifetime_s, 432000},
        {"[limits]\nmessage_size = 2048", message_size, 2048},
        {"[limits]\nmessage_size = \"10MB\"", message_size, 10000000},
        {"[limits]\nmessage_size = \"10MiB\"", message_size, 10485760},
        {"[limits]\nmessage_size = \"512KiB\"", message_size, 524288},
    };
    for (const auto& c : cases) {
        TempDir dir;
        const std::int64_t got = c.read(load_text(dir, c.toml));
        EXPECT_EQ(got, c.want) << c.toml << ": got " << got << ", want " << c.want;
    }
}

// Every error names file:line: key: first. want_line 0 means "no line check".
struct ErrorCase {
    std::string toml;
    int want_line;
    std::string want_key;
    std::string want_in_message;
};

void expect_error(const ErrorCase& c) {
    TempDir dir;
    const std::string file = (dir.path() / "cartero.toml").string();
    const std::string want_prefix = file + ":" + std::to_string(c.want_line) + ": " + c.want_key + ": ";
    try {
        load_text(dir, c.toml);
        ADD_FAILURE() << c.toml << "\ngot no error, want " << want_prefix << "..." << c.want_in_message;
    } catch (const ConfigError& error) {
        const std::string got = error.what();
        EXPECT_TRUE(got.starts_with(want_prefix)) << c.toml << "\ngot  " << got << "\nwant " << want_prefix << "...";
        EXPECT_NE(got.find(c.want_in_message), std::string::npos)
            << c.toml << "\ngot  " << got << "\nwant it to contain " << c.want_in_message;
        EXPECT_EQ(got.back(), ')') << "got " << got << ", want it to end with the fix in parentheses";
    }
}

TEST(LoadFile, ErrorsNameFileLineAndKey) {
    const ErrorCase cases[] = {
        // Syntax.
        {"hostname = ", 1, "syntax", ""},
        {"a = 1\na = 2", 2, "syntax", ""},
        // Unknown keys, with a suggestion for typos.
        {"hostnme = \"x\"", 1, "hostnme", "unknown key (did you mean hostname?"},
        {"\n[limits]\nmesage_size = 5", 3, "limits.mesage_size", "did you mean limits.message_size?"},
        {"[limit]\nmessage_size = 5", 1, "limit", "did you mean limits?"},
        {"[limits]\nfrobnicate = 1", 2, "limits.frobnicate", "remove it or fix its spelling"},
        {"[[listener]]\nrole = \"mx\"\naddress = \"127.0.0.1:25\"\nport = 25", 4, "listener.port",
         "unknown key"},
        {"[limits.message_size]\nx = 1", 1, "limits.message_size", "is a table"},
        // Wrong types.
        {"hostname = 5", 1, "hostname", "is an integer (write a string"},
        {"[limits]\nmessage_size = true", 2, "limits.message_size", "is a boolean (write a size"},
        {"[limits]\ncommand_timeout = 1.5", 2, "limits.command_timeout", "is a floating-point number"},
        {"[smtp]\nreceived_auth_user = \"yes\"", 2, "smtp.received_auth_user", "write true or false"},
        {"local_domains = \"example.org\"", 1, "local_domains", "is a string (write an array"},
        {"local_domains = [\"a.org\",\n  5]", 2, "local_domains", "has an integer in the list"},
        {"limits = 5", 1, "limits", "it is a section"},
        {"listener = \"x\"", 1, "listener", "write one [[listener]] table"},
        {"[listener]\nrole = \"mx\"", 1, "listener", "two brackets"},
        // Bounds and units.
        {"[limits]\nmessage_size = 10", 2, "limits.message_size",
         "10B is out of range (use a value from 1KiB to 2GiB)"},
        {"[limits]\nmessage_size = \"3GiB\"", 2, "limits.message_size", "out of range"},
        {"[limits]\nmessage_size = \"10 mb\"", 2, "limits.message_size", "is not a size"},
        {"[limits]\ncommand_line_length = 100", 2, "limits.command_line_length", "out of range"},
        {"[limits]\nrecipients_per_message = 0", 2, "limits.recipients_per_message", "0 is out of range"},
        {"[limits]\ncommand_timeout = -5", 2, "limits.command_timeout", "out of range"},
        {"[limits]\ncommand_timeout = 99999999999999999", 2, "limits.command_timeout", "out of range"},
        {"[limits]\ncommand_timeout = \"5 minutes\"", 2, "limits.command_timeout", "is not a duration"},
        {"[limits]\ncommand_timeout = \"1500ms\"", 2, "limits.command_timeout", "not a whole number of seconds"},
        {"[server]\nio_threads = 5000", 2, "server.io_threads", "out of range"},
        // Contents.
        {"hostname = \"mx_1.example.org\"", 1, "hostname", "is not a valid domain name"},
        {"local_domains = [\"example.org\",\n  \"bad..org\"]", 2, "local_domains",
         "\"bad..org\" is not a valid domain"},
        {"trusted_networks = [\"10.0.0.0/8\",\n \"10.0.0.1/8\"]", 2, "trusted_networks",
         "did you mean \"10.0.0.0/8\"?"},
        {"trusted_networks = [\"10.0.0.0/33\"]", 1, "trusted_networks", "prefix"},
        {"[log]\nlevel = \"verbose\"", 2, "log.level", "unknown level \"verbose\""},
        {"[delivery]\nmaildir = \"{data_dir}/{domain}\"", 2, "delivery.maildir", "has no {localpart}"},
        {"[delivery]\nmaildir = \"{data_dir}/{user}\"", 2, "delivery.maildir", "unknown placeholder"},
        {"[delivery]\nmaildir = \"mail/{localpart}\"", 2, "delivery.maildir", "relative path"},
        {"local_domains = [\"xn--zz.example\"]", 1, "local_domains", "\"xn--zz.example\" is not a valid domain"},
        {"local_domains = [\"example.org.\"]", 1, "local_domains", "without a final dot"},
        {"[accounts]\npostmaster = \"nobody\"", 2, "accounts.postmaster", "is not an address"},
        {"[accounts]\npostmaster = \"a@bad..org\"", 2, "accounts.postmaster", "not a valid domain"},
        {"[accounts]\nrecipient_delimiter = \"+.\"", 2, "accounts.recipient_delimiter",
         "cannot separate a subaddress"},
        // Listeners.
        {"[[listener]]\nrole = \"relay\"\naddress = \"127.0.0.1:25\"", 2, "listener.role", "unknown role \"relay\""},
        {"[[listener]]\nrole = \"mx\"\naddress = \"localhost:25\"", 3, "listener.address", "is not an IP address"},
        {"[[listener]]\nrole = \"mx\"\naddress = \"127.0.0.1:65536\"", 3, "listener.address", "port must be"},
        {"[[listener]]\nrole = \"mx\"\naddress = \"::1:25\"", 3, "listener.address", "needs brackets"},
        {"\n[[listener]]\nrole = \"mx\"", 2, "listener.address", "missing in this [[listener]]"},
        {"[[listener]]\naddress = \"127.0.0.1:25\"", 1, "listener.role", "missing"},
        {"[[listener]]\nrole = \"mx\"\naddress = \"127.0.0.1:25\"\n[[listener]]\nrole = \"mx\"\naddress = "
         "\"0.0.0.0:25\"",
         6, "listener.address", "overlaps listener #1"},
        // Routes.
        {"[[route]]\ndomain = \"bench.test\"\ntransport = \"lmtp\"", 3, "route.transport",
         "unknown transport \"lmtp\" (use one of: discard)"},
        {"\n[[route]]\ndomain = \"bench.test\"", 2, "route.transport", "missing in this [[route]]"},
        {"[[route]]\ntransport = \"discard\"", 1, "route.domain", "missing in this [[route]]"},
        {"[[route]]\ndomain = \"*\"\ntransport = \"discard\"", 2, "route.domain", "is not a valid domain name"},
        {"[[route]]\ndomain = \"*.bench.test\"\ntransport = \"discard\"", 2, "route.domain",
         "is not a valid domain name"},
        {"[[route]]\ndomain = \"bench.test\"\ntransport = \"discard\"\n[[route]]\ndomain = \"Bench.TEST\"\n"
         "transport = \"discard\"",
         5, "route.domain", "\"bench.test\" already has a route (route #1)"},
        {"[[route]]\ndomain = \"bench.test\"\ntransport = \"discard\"\nhost = \"x\"", 4, "route.host", "unknown key"},
        {"[route]\ndomain = \"bench.test\"", 1, "route", "write one [[route]] table (two brackets) per route"},
        {"route = \"bench.test\"", 1, "route", "is a string"},
        // Relays and destinations.
        {"[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 587\ntls = \"ssl\"", 5, "relay.tls",
         "unknown TLS mode \"ssl\""},
        {"[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 587", 1, "relay.tls", "missing in this [[relay]]"},
        {"[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 0\ntls = \"starttls\"", 4, "relay.port",
         "out of range"},
        {"[[relay]]\nname = \"a b\"\nhost = \"smtp.example.com\"\nport = 587\ntls = \"starttls\"", 2, "relay.name",
         "is not a relay name"},
        {"[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 25\ntls = \"none\"", 1, "relay.tls",
         "only to a loopback address"},
        {"[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 587\ntls = \"starttls\"\nusername = \"u\"", 1,
         "relay.username", "username and password_file go together"},
        {"[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 587\ntls = \"starttls\"\nusername = \"u\"\n"
         "password_file = \"nope\"",
         1, "relay.password_file", "does not exist"},
        {"[[relay]]\nname = \"r\"\nhost = \"a\"\nport = 587\ntls = \"starttls\"\n[[relay]]\nname = \"r\"\nhost = "
         "\"b\"\nport = 587\ntls = \"starttls\"",
         7, "relay.name", "a [[relay]] named \"r\" already exists"},
        {"[delivery]\nrelay = \"gmail\"", 2, "delivery.relay", "no [[relay]] is named \"gmail\""},
        {"[delivery]\ntls = \"always\"", 2, "delivery.tls", "unknown TLS policy \"always\""},
        {"[dns]\nresolver = \"localhost:53\"", 2, "dns.resolver", "is not an IP address"},
        {"[dns]\nresolver = \"192.0.2.53, dns.example:53\"", 2, "dns.resolver", "is not an IP address"},
        {"[[destination]]\ndomain = \"localhost\"", 1, "destination.domain", "is a local domain"},
        {"[[destination]]\ndomain = \"bank.example\"\nrelay = \"x\"", 1, "destination.relay",
         "no [[relay]] is named \"x\""},
        {"[[destination]]\ndomain = \"bank.example\"\ntls = \"must\"\n[[destination]]\ndomain = \"BANK.example\"", 5,
         "destination.domain", "already has a [[destination]]"},
        {"[[relay]]\nname = \"r\"\nhost = \"a\"\nport = 587\ntls = \"starttls\"\n[[destination]]\ndomain = "
         "\"bank.example\"\nrelay = \"r\"\ntls = \"must\"",
         6, "destination.tls", "uses the relay's tls"},
        // Rules across keys.
        {"[[listener]]\nrole = \"submissions\"\naddress = \"127.0.0.1:465\"", 1, "listener.role",
         "role submissions needs TLS"},
        {"\n\n[[listener]]\nrole = \"submission\"\naddress = \"127.0.0.1:587\"", 3, "listener.role",
         "role submission needs TLS"},
        {"[tls]\ncert = \"missing.pem\"\nkey = \"key.pem\"", 2, "tls.cert", "missing.pem does not exist"},
        {"[tls]\ncert = \"cert.pem\"", 2, "tls.cert", "tls.key is not set"},
        {"[tls]\ncert = \"cert.pem\"\nkey = \".\"", 3, "tls.key", "not a regular file"},
        {"[delivery]\nretry_initial = \"2h\"\nretry_max = \"1h\"", 3, "delivery.retry_max",
         "delivery.retry_initial (2h) is greater than delivery.retry_max (1h)"},
        {"[delivery]\nretry_initial = \"2h\"", 2, "delivery.retry_initial", "greater than delivery.retry_max"},
        {"[limits]\ncommand_timeout = \"30m\"\nsession_timeout = \"10m\"", 3, "limits.session_timeout",
         "greater than"},
        {"local_domains = [\"example.org\", \"bench.test\"]\n[[route]]\ndomain = \"bench.test\"\n"
         "transport = \"discard\"",
         2, "route.domain", "\"bench.test\" is also in local_domains, so it would be both delivered and routed"},
        {"[[route]]\ndomain = \"example.org\"\ntransport = \"discard\"\n\n[[route]]\ndomain = \"LOCALHOST\"\n"
         "transport = \"discard\"",
         5, "route.domain", "\"localhost\" is also in local_domains (by default)"},
    };
    for (const ErrorCase& c : cases) {
        expect_error(c);
    }
}

TEST(LoadFile, LmtpServersPerDomainAndDefault) {
    TempDir dir;
    const Config got = load_text(dir, R"(
local_domains = ["example.org", "example.net", "example.com"]
[delivery]
lmtp = "127.0.0.1:24"
[[lmtp]]
domain = "Example.ORG"
address = "unix:/run/dovecot/lmtp"
[[lmtp]]
domain = "example.net"
address = "[::1]:2424"
)");
    ASSERT_EQ(got.lmtp_servers.size(), 2u);
    EXPECT_EQ(got.lmtp_servers[0].domain, "example.org");
    EXPECT_EQ(got.lmtp_servers[0].address, "unix:/run/dovecot/lmtp");
    EXPECT_EQ(got.delivery.lmtp, "127.0.0.1:24");
    EXPECT_EQ(lmtp_address_for(got, "example.org"), "unix:/run/dovecot/lmtp");
    EXPECT_EQ(lmtp_address_for(got, "example.net"), "[::1]:2424");
    EXPECT_EQ(lmtp_address_for(got, "example.com"), "127.0.0.1:24") << "no [[lmtp]]: delivery.lmtp";

    const Config plain = load_text(dir, "local_domains = [\"example.org\"]\n");
    EXPECT_TRUE(plain.lmtp_servers.empty());
    EXPECT_EQ(lmtp_address_for(plain, "example.org"), "") << "by default: Maildir";
}

// Issue 8: a relay password file is the server's alone (mode 0600/0400, owned by
// the server's user, not empty); anything else is refused at load, naming the
// file and the fix.
TEST(LoadFile, RelayPasswordFileMustBeTheServersAlone) {
    namespace fs = std::filesystem;
    const auto load_with = [](TempDir& dir, const std::string& content, fs::perms mode) -> std::string {
        const fs::path file = dir.write("pw", content);
        fs::permissions(file, mode);
        try {
            load_text(dir, "[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 587\ntls = \"starttls\"\n"
                           "username = \"u\"\npassword_file = \"pw\"\n");
        } catch (const ConfigError& error) {
            return error.what();
        }
        return "";
    };
    const fs::perms rw = fs::perms::owner_read | fs::perms::owner_write;
    struct Case {
        std::string content;
        fs::perms mode;
        std::string want;  // "" = loads
    };
    const Case cases[] = {
        {"secret\n", rw, ""},
        {"secret\n", fs::perms::owner_read, ""},
        {"secret\n", rw | fs::perms::group_read, "pw is open to group or others (mode 0640): the password must be the "
                                                   "server's alone (chmod 600 "},
        {"secret\n", rw | fs::perms::others_read, "(mode 0604)"},
        {"", rw, "pw is empty (write the password on its first line)"},
        {"\nsecret\n", rw, "the first line of "},
    };
    for (const Case& c : cases) {
        TempDir dir;
        const std::string got = load_with(dir, c.content, c.mode);
        if (c.want.empty()) {
            EXPECT_EQ(got, "") << "mode " << static_cast<int>(c.mode);
        } else {
            EXPECT_NE(got.find(c.want), std::string::npos) << "got: " << got;
            EXPECT_NE(got.find(":1: relay.password_file: "), std::string::npos) << "got: " << got;
        }
    }
    {  // owned by another user than the server's (the owner of data_dir)
        TempDir dir;
        const fs::path data = dir.path() / "data";
        fs::create_directories(data);
        const fs::path file = dir.write("pw", "secret\n");
        fs::permissions(file, rw);
        if (::geteuid() == 0) {
            ASSERT_EQ(::chown(data.c_str(), 65534, 65534), 0);
            std::string got;
            try {
                load_text(dir, "data_dir = \"data\"\n[[relay]]\nname = \"r\"\nhost = \"smtp.example.com\"\nport = 587\n"
                               "tls = \"starttls\"\nusername = \"u\"\npassword_file = \"pw\"\n");
            } catch (const ConfigError& error) {
                got = error.what();
            }
            EXPECT_NE(got.find("is owned by uid 0, not by the server's user (uid 65534, the owner of data_dir) (chown 65534 "),
                      std::string::npos)
                << "got: " << got;
        }
    }
    if (::geteuid() != 0) {  // unreadable (root reads anything)
        TempDir dir;
        EXPECT_NE(load_with(dir, "secret\n", fs::perms::none).find("cannot be read"), std::string::npos);
    }
}

// Issue 8: LMTP goes without TLS, so only to this host (a Unix socket or loopback).
TEST(LoadFile, LmtpOverTheNetworkIsRefused) {
    const ErrorCase cases[] = {
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"192.0.2.24:24\"", 3, "lmtp.address",
         "\"192.0.2.24:24\" is not on this host: cartero speaks LMTP without TLS, so mail would cross the network in "
         "plaintext (use a Unix socket such as \"unix:/run/dovecot/lmtp\" or a loopback address such as "
         "\"127.0.0.1:24\""},
        {"[delivery]\nlmtp = \"[2001:db8::24]:24\"", 2, "delivery.lmtp", "is not on this host"},
        {"[delivery]\nlmtp = \"0.0.0.0:24\"", 2, "delivery.lmtp", "is not on this host"},
    };
    for (const ErrorCase& c : cases) expect_error(c);
    TempDir dir;
    const Config ok = load_text(dir, "[delivery]\nlmtp = \"[::1]:24\"\n[[lmtp]]\ndomain = \"localhost\"\n"
                                     "address = \"127.0.0.2:24\"\n");
    EXPECT_EQ(ok.delivery.lmtp, "[::1]:24");
}

TEST(LoadFile, LmtpErrorsNameFileLineAndKey) {
    const ErrorCase cases[] = {
        {"local_domains = [\"example.org\"]\n[[lmtp]]\ndomain = \"example.com\"\naddress = \"unix:/run/lmtp\"", 2,
         "lmtp.domain", "\"example.com\" is not in local_domains, so no mail for it is delivered here"},
        {"[[lmtp]]\ndomain = \"example.com\"\naddress = \"unix:/run/lmtp\"", 1, "lmtp.domain",
         "is not in local_domains (by default only localhost)"},
        {"[[lmtp]]\ndomain = \"localhost\"", 1, "lmtp.address", "missing in this [[lmtp]]"},
        {"[[lmtp]]\naddress = \"unix:/run/lmtp\"", 1, "lmtp.domain", "missing in this [[lmtp]]"},
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"unix:run/lmtp\"", 3, "lmtp.address",
         "the socket path must be absolute"},
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"dovecot.example:24\"", 3, "lmtp.address",
         "is not an IP address (write \"unix:/run/dovecot/lmtp\" or HOST:PORT"},
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"127.0.0.1:0\"", 3, "lmtp.address", "port 0"},
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"/run/lmtp\"", 3, "lmtp.address", "missing \":PORT\""},
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"unix:/a\"\n[[lmtp]]\ndomain = \"LocalHost\"\n"
         "address = \"unix:/b\"",
         5, "lmtp.domain", "\"localhost\" already has an [[lmtp]] (#1)"},
        {"[[lmtp]]\ndomain = \"localhost\"\naddress = \"unix:/a\"\nport = 24", 4, "lmtp.port", "unknown key"},
        {"[lmtp]\ndomain = \"localhost\"", 1, "lmtp", "write one [[lmtp]] table (two brackets) per lmtp"},
        {"[delivery]\nlmtp = \"localhost:24\"", 2, "delivery.lmtp", "is not an IP address"},
        {"[delivery]\nlmtp = \"unix:\"", 2, "delivery.lmtp", "must be absolute"},
    };
    for (const ErrorCase& c : cases) {
        expect_error(c);
    }
}

TEST(LoadFile, RoutesInFileOrderLowerCased) {
    TempDir dir;
    const Config got = load_text(dir, "local_domains = [\"example.org\"]\n"
                                      "[[route]]\ndomain = \"Bench.Test\"\ntransport = \"discard\"\n"
                                      "[[route]]\ndomain = \"sink.example.org\"\ntransport = \"discard\"\n");
    ASSERT_EQ(got.routes.size(), 2u);
    EXPECT_EQ(got.routes[0].domain, "bench.test");
    EXPECT_EQ(got.routes[0].transport, Transport::discard);
    EXPECT_EQ(got.routes[1].domain, "sink.example.org") << "a sub-domain of a local domain may be routed";
    EXPECT_TRUE(load_text(dir, "").routes.empty()) << "no [[route]]: no routes";
}

// Domains may be written in Unicode or as A-labels; the config holds A-labels.
TEST(LoadFile, InternationalDomainsAreStoredAsALabels) {
    TempDir dir;
    const Config got = load_text(dir, "hostname = \"MX.B\u00DCCHER.example\"\n"
                                      "local_domains = [\"b\u00fccher.example\", \"XN--FA-HIA.de\"]\n"
                                      "[accounts]\npostmaster = \"Bob@B\u00FCcher.example\"\n"
                                      "[[route]]\ndomain = \"r\u00e9seau.example\"\ntransport = \"discard\"\n");
    EXPECT_EQ(got.hostname, "mx.xn--bcher-kva.example");
    EXPECT_EQ(got.local_domains, (std::vector<std::string>{"xn--bcher-kva.example", "xn--fa-hia.de"}));
    EXPECT_EQ(got.accounts.postmaster, "Bob@xn--bcher-kva.example") << "the local part is kept as written";
    ASSERT_EQ(got.routes.size(), 1u);
    EXPECT_EQ(got.routes[0].domain, "xn--rseau-bsa.example");
}

TEST(LoadFile, AccountsDefaults) {
    TempDir dir;
    const Config got = load_text(dir, "");
    EXPECT_EQ(got.accounts.postmaster, "");
    EXPECT_EQ(got.accounts.recipient_delimiter, "+");
    EXPECT_EQ(load_text(dir, "[accounts]\nrecipient_delimiter = \"\"\n").accounts.recipient_delimiter, "");
    EXPECT_EQ(load_text(dir, "[accounts]\nrecipient_delimiter = \"+-\"\n").accounts.recipient_delimiter, "+-");
}

TEST(LoadFile, TlsListenersAreValidWithTls) {
    TempDir dir;
    const Config got = load_text(dir, std::string(kTls) +
                                          "[[listener]]\nrole = \"submissions\"\naddress = \"127.0.0.1:0\"\n"
                                          "[[listener]]\nrole = \"submission\"\naddress = \"127.0.0.1:0\"\n");
    EXPECT_EQ(got.listeners.size(), 2u);
}

TEST(LoadFile, MissingFileIsAConfigError) {
    TempDir dir;
    const std::filesystem::path missing = dir.path() / "nope.toml";
    try {
        load_file(missing);
        FAIL() << "got no error for a missing file";
    } catch (const ConfigError& error) {
        EXPECT_TRUE(std::string(error.what()).starts_with(missing.string() + ":")) << "got " << error.what();
    }
}

}  // namespace
}  // namespace cartero::config
