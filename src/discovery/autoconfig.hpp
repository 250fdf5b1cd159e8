// Mail autoconfig (Thunderbird's config-v1.1.xml; reference client-config.md
// 1.1, 1.2 and draft-ietf-mailmaint-autoconfig): fetched from the address's
// domain over HTTPS and parsed with pugixml.
//
// Where (in this order of trust; both are fetched at once and the first in
// this order that gives a usable file wins, as Thunderbird's fetchFromISP does):
//   1. https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS
//   2. https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ADDRESS
// Plain-HTTP locations are not asked: a file fetched without TLS could send
// the password anywhere. The fetch is delivery/remote/https_fetch.hpp
// (certificate verified, no redirects, one deadline, body at most
// max_autoconfig_size); Content-Type must be text/xml or application/xml.
//
// What is read: the first <emailProvider>: its <displayName>, the
// <outgoingServer type="smtp"> entries (hostname, port, the first
// <socketType> — SSL, STARTTLS or plain —, <authentication> values, <username>)
// and the <incomingServer> entries of type imap/pop3 for display. Placeholders
// %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN% are substituted in host and
// user names. A server whose host is not a valid host name after substitution,
// or whose port is not 1-65535, is left out; a file with no usable SMTP server
// is refused with the reason.
//
// Trust: the XML is untrusted. pugixml is a non-validating parser that never
// loads external entities or DTDs (no XXE, no entity expansion bombs); the
// size is bounded before parsing. Host names are checked with dns::name_problem.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "discovery/settings.hpp"
#include "dns/resolver.hpp"

namespace cartero::discovery {

// Real files are a few KiB (Microsoft's, with 150 domains, about 10 KiB).
inline constexpr std::size_t max_autoconfig_size = 128 * 1024;

// Settings with source autoconfig (where = ""), or why the file is unusable.
std::variant<Settings, std::string> parse_autoconfig(std::string_view xml, const Address& address);

struct AutoconfigOptions {
    std::uint16_t port = 443;                      // discover --autoconfig-port (tests only)
    std::optional<std::filesystem::path> ca_file;  // otherwise the system store
    std::chrono::milliseconds timeout{std::chrono::seconds(5)};
    std::optional<std::chrono::steady_clock::time_point> deadline;
};

// The two URLs for an address, in order (with the emailaddress parameter
// percent-encoded, RFC 3986 2.1).
struct AutoconfigUrl {
    std::string host;
    std::string target;
    std::string url(std::uint16_t port) const;  // "https://host[:port]/target", for messages
};
std::vector<AutoconfigUrl> autoconfig_urls(const Address& address);

struct AutoconfigResult {
    std::optional<Settings> settings;  // where = the URL that answered
    std::vector<std::string> tried;    // "URL: why not", for each URL that did not answer
};
AutoconfigResult fetch_autoconfig(dns::Resolver& resolver, const Address& address, const AutoconfigOptions& options);

}  // namespace cartero::discovery
