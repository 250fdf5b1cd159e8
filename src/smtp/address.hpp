// Address: the mailbox and path grammar of RFC 5321 4.1.2 with RFC 6531 (SMTPUTF8)
// and the ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 esmtp-param).
//
// Trust: parses untrusted network input. Every field it returns has been checked
// against the grammar: no CR, LF, NUL, or control characters; bounded lengths
// (RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartero::smtp {

struct Address {
    std::string local;   // as sent, without quotes removed (a quoted local part keeps its quotes)
    std::string domain;  // lower-cased ASCII, or UTF-8 under SMTPUTF8

    bool null() const { return local.empty() && domain.empty(); }
    std::string str() const;  // "local@domain", "" for the null path
    bool ascii() const;       // no octet >= 0x80
};

struct EsmtpParam {
    std::string keyword;  // upper-cased
    std::string value;    // empty when the parameter had no '='
};

struct Path {
    Address address;
    std::vector<EsmtpParam> params;
};

enum class PathError {
    syntax,    // 501 5.1.7 (MAIL) / 501 5.1.3 (RCPT): malformed path
    too_long,  // same replies as syntax: path over the RFC 5321 4.5.3.1 limits
    parameter_syntax,  // 501 5.5.4: an ESMTP parameter that breaks the esmtp-param grammar
};

// RFC 5321 4.5.3.1 limits, in octets. The RFC says a server SHOULD accept longer
// local parts; cartero does not: 64 is what every real mailbox fits in, and a bound
// keeps every later consumer (policy, spool, logs) simple.
inline constexpr std::size_t max_local_part = 64;     // 4.5.3.1.1
inline constexpr std::size_t max_domain = 255;        // 4.5.3.1.2
inline constexpr std::size_t max_path = 256;          // 4.5.3.1.3, "<" and ">" included

// Parses the argument of "MAIL FROM:" / "RCPT TO:" (everything after the colon):
// "<path> [SP params]". Source routes ("@a,@b:") are accepted and dropped (RFC 5321 4.1.1.3,
// C). `allow_null` permits "<>" (MAIL only). Valid UTF-8 is accepted in the address;
// the session refuses it (553 5.6.7) unless the transaction carries SMTPUTF8 (RFC 6531 3.4).
// When `allow_null` is false (RCPT), "<Postmaster>" without a domain is accepted as
// {local "postmaster", domain ""} (RFC 5321 4.5.1: it MUST be accepted); the policy maps
// it to the local postmaster. Address literals: IPv4 and "IPv6:" only (4.1.3); the
// General-address-literal form is refused as syntax. Relay tricks keep their final
// domain: "a%b@here" and "a!b@here" are local parts at "here", "@x:a@y" is a@y.
struct ParsedPath {
    std::optional<Path> path;
    std::optional<PathError> error;
};
ParsedPath parse_path(std::string_view argument, bool allow_null);

}  // namespace cartero::smtp
