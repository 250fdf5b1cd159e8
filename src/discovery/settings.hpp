// What `cartero discover` found for an address: the outgoing servers in the
// order to try, the incoming ones for display, the user name, and the notes —
// and which source answered. Every step (provider table, autoconfig, SRV, MX,
// probe) produces one of these, so the command prints them all alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "discovery/providers.hpp"

namespace cartero::discovery {

// The steps, in the order they are trusted (issue 9 section 1).
enum class Source { table, autoconfig, srv, mx, probe };

// "provider table", "autoconfig", "SRV records", "MX records", "port probe" (English; the
// command translates).
std::string_view to_string(Source);
// "table", "autoconfig", "srv", "mx", "probe": for --json.
std::string_view source_id(Source);

struct Outgoing {
    std::string host;
    std::uint16_t port = 0;
    Security security = Security::ssl;
    // What the source says about signing in: for the table and autoconfig
    // "password" / "oauth2" / "none" (autoconfig's other values as written);
    // for the probe the SASL mechanisms the server offered ("PLAIN", "LOGIN").
    std::vector<std::string> auth;
    bool auth_from_server = false;  // `auth` lists the server's own mechanisms (probe)
};

struct Settings {
    Source source = Source::table;
    std::string where;     // what answered: a URL, an SRV name, an MX host, a provider id
    std::string provider;  // the provider's name when known ("Gmail")
    std::vector<Outgoing> outgoing;       // preferred first; never empty in a found Settings
    std::vector<ServerSetting> incoming;  // for display
    std::string username;                 // resolved ("alice@example.com"); empty when unknown
    std::string username_form;            // "%EMAILADDRESS%" / "%EMAILLOCALPART%" / as the source wrote it
    std::vector<Note> notes;
};

// An address split at its last '@', the domain in A-label form (base::ascii_domain);
// nullopt when either side is empty, the domain is not valid IDNA, or the
// address holds spaces or control characters.
struct Address {
    std::string local;
    std::string domain;  // lower case, no trailing dot
};
std::optional<Address> split_address(std::string_view address);

// Thunderbird's placeholders (reference client-config.md 1.1): %EMAILADDRESS%,
// %EMAILLOCALPART%, %EMAILDOMAIN%; %REALNAME% becomes empty (discover knows no name).
std::string expand_placeholders(std::string_view text, const Address& address);

}  // namespace cartero::discovery
