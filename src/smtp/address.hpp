// Address: the mailbox and path grammar of RFC 5321 4.1.2 with RFC 6531 (SMTPUTF8)
// and the ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 esmtp-param).
//
// Trust: parses untrusted network input. Every field it returns has been checked
// against the grammar: no CR, LF, NUL, or control characters; bounded lengths
// (RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets).
#pragma once

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
    too_long,  // 501 5.1.3: path over the RFC 5321 4.5.3.1 limits
};

// Parses the argument of "MAIL FROM:" / "RCPT TO:" (everything after the colon):
// "<path> [SP params]". Source routes ("@a,@b:") are accepted and dropped (RFC 5321 4.1.1.3,
// C). `allow_null` permits "<>" (MAIL only). Valid UTF-8 is accepted in the address;
// the session refuses it (553 5.6.7) unless the transaction carries SMTPUTF8 (RFC 6531 3.4).
struct ParsedPath {
    std::optional<Path> path;
    std::optional<PathError> error;
};
ParsedPath parse_path(std::string_view argument, bool allow_null);

}  // namespace cartero::smtp
