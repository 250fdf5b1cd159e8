// One HTTPS GET for the small documents mail software fetches from a domain's
// web server: the MTA-STS policy (RFC 8461 3.3, delivery/remote/mta_sts.hpp)
// and mail autoconfig (config-v1.1.xml, `cartero discover`).
//
// The host is resolved with cartero's resolver (AAAA first, then A) and each
// address is tried in turn until one gives an answer the caller accepts. On
// each: TLS 1.2 or newer (no compression, no renegotiation), SNI, the
// certificate must chain to the system store or `ca_file` (client_tls.hpp) and name `host`
// (RFC 6125, no partial wildcards); one deadline for connect, handshake,
// request and answer; a bound on the header block and on the body; only a
// 200 whose Content-Type the caller accepts. Redirects are never followed:
// RFC 8461 3.3 forbids it for MTA-STS, and for autoconfig a redirect would
// let another host choose where a person's password goes, which is what the
// well-known locations exist to prevent (Thunderbird treats redirected
// autoconfig as unverified too).
//
// Trust: everything the server sends is untrusted and bounded; the body is
// handed back as bytes for the caller's parser. Privileges: outbound TCP,
// reading `ca_file`. Blocking: runs its own io_context on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"

namespace cartero::delivery {

struct HttpsRequest {
    std::string host;    // resolved, sent as SNI and Host, checked against the certificate
    std::string target;  // "/.well-known/mta-sts.txt", "/mail/config-v1.1.xml?emailaddress=..."
    std::uint16_t port = 443;  // other values: tests only (delivery.mta_sts_port, discover --autoconfig-port)
    std::optional<std::filesystem::path> ca_file;  // trusted besides the system store
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // per address tried
    // When set, no address is tried past this point and each gets at most the
    // time left: callers with an overall bound (`cartero discover`) use it.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    std::size_t body_limit = 64 * 1024;
    // The media types accepted (lower case: "text/plain"); a 200 with another
    // Content-Type is refused with a plain-words error. Empty: any type.
    std::vector<std::string> media_types;
};

// The body of an accepted answer, or why there is none, in plain words:
// "HTTP status 301 from mta-sts.example.com[192.0.2.1]:443 (redirects are
// not followed)", "cannot resolve ...", "... certificate verify failed: ...".
struct HttpsResult {
    std::optional<std::string> body;
    std::string error;
    int status = 0;  // the last HTTP status received (0: none)
};

HttpsResult https_get(dns::Resolver& resolver, const HttpsRequest& request);

// The media type of a Content-Type value, lower case, parameters and spaces
// removed: " Text/XML; charset=UTF-8" -> "text/xml".
std::string media_type(std::string_view content_type);

}  // namespace cartero::delivery
