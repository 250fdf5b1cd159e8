// The provider table: outgoing (and, for display, incoming) settings of
// well-known mail providers — Gmail, Microsoft, Yahoo, iCloud, GMX, ... — with
// the notes a person needs (app password with 2FA, OAuth2 only, SMTP AUTH off
// by default), each entry naming the source and date of its facts.
//
// The data is data/providers.toml, embedded into the binary at build time
// (src/discovery/CMakeLists.txt turns it into a string constant) and parsed
// with toml++ on first use; a malformed table is a build defect that the unit
// test catches, and at run time it throws std::logic_error.
//
// Lookups: by address domain (exact), by MX host (longest matching suffix,
// so "olc.protection.outlook.com" beats "protection.outlook.com"), by SMTP
// host name, and the nearest known SMTP host names for a mistyped one
// (`cartero check`: "did you mean smtp.gmail.com?").
//
// Trust: the table is ours (trusted); names looked up are untrusted text and
// are only compared. Pure apart from the one-time parse; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::discovery {

// How a port starts TLS, in the guide's words: "SSL/TLS" (implicit TLS, RFC
// 8314, usually 465) or "STARTTLS" (RFC 3207, usually 587); `none` only for
// what a probe finds, never in the table.
enum class Security { ssl, starttls, none };

// "SSL/TLS", "STARTTLS", "none".
std::string_view to_string(Security);

struct ServerSetting {
    std::string type;  // "smtp", "imap", "pop3"
    std::string host;
    std::uint16_t port = 0;
    Security security = Security::ssl;

    friend bool operator==(const ServerSetting&, const ServerSetting&) = default;
};

// What a note id in the table means; the texts are in providers.cpp.
enum class Note {
    app_password_with_2fa,     // with 2-step verification on, an app password
    app_password_required,     // the account password is refused; an app password
    oauth2_only,               // no passwords at all
    smtp_auth_off_by_default,  // Microsoft 365: an admin enables SMTP AUTH per mailbox
    basic_auth_retiring,       // Microsoft 365: basic auth off by default from end 2026
    port_25_not_for_clients,   // 25 is server to server
    enable_access_first,       // allow IMAP/POP/SMTP once in the webmail settings
    bridge_required,           // Proton: only through Proton Mail Bridge
};

// The note's text in the chosen language (base::tr).
std::string note_text(Note);
// The id as written in the table ("oauth2_only").
std::string_view note_id(Note);

struct Provider {
    std::string id;
    std::string name;
    std::vector<std::string> domains;
    std::vector<std::string> mx_suffixes;
    std::string username;           // "%EMAILADDRESS%" or "%EMAILLOCALPART%"
    std::vector<std::string> auth;  // "oauth2", "password"; preferred first
    std::vector<Note> notes;
    std::string source;
    std::string checked;            // YYYY-MM-DD
    std::vector<ServerSetting> smtp;      // preferred first
    std::vector<ServerSetting> incoming;  // for display
};

// The whole table, parsed once.
const std::vector<Provider>& providers();

// Parses a table in the format of data/providers.toml; throws
// std::invalid_argument naming the entry and field on any defect.
std::vector<Provider> parse_providers(std::string_view toml_text);

const Provider* find_by_domain(std::string_view domain);
const Provider* find_by_mx(std::string_view mx_host);
const Provider* find_by_smtp_host(std::string_view host);

// Known SMTP host names closest to `host` by edit distance (Damerau-
// Levenshtein, case-insensitive), nearest first, at most `limit`. Only names
// within a distance that still reads as a typo are returned: at most 3, and
// less than a third of the name's length; an exact match returns nothing
// (it is not mistyped).
std::vector<std::string> nearest_smtp_hosts(std::string_view host, std::size_t limit = 3);

// Edit distance with adjacent transpositions (optimal string alignment).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace cartero::discovery
