// A stored message split into header fields and body, as far as DKIM needs it
// (RFC 5322 2.2, 3.6; RFC 6376 5.4, 5.5). Pure: no I/O, no allocation of the body.
//
// Trust: the message is untrusted (it came from a client). The parser never
// reads past the input, needs no limit beyond the message size limit the
// server already enforced, and answers malformed input with a value: cartero
// then sends the message unsigned rather than sign something a verifier could
// split into fields differently (the same reasoning as refusing bare LF at the
// SMTP layer, CVE-2023-51764).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cartero::dkim {

// One header field, pointing into the message.
struct HeaderField {
    std::string_view name;   // as written, without the colon and any WSP before it (obs-optional, RFC 5322 4.5.8)
    std::string_view value;  // after the colon, folding CRLFs included, final CRLF excluded
};

struct ParsedMessage {
    std::vector<HeaderField> fields;  // in message order, top first
    std::string_view body;            // after the empty line; empty when the message has none
};

// Why a message cannot be signed as it is.
struct MalformedMessage {
    std::string reason;  // "line 3 is neither a header field nor a continuation", for the log
};

using ParseResult = std::variant<ParsedMessage, MalformedMessage>;

// Splits `message` (CRLF line ends, as the spool stores it). Refused: a bare CR or
// LF anywhere (RFC 5322 2.3: CR and LF only together), a header line that is not
// `name:` with a printable-ASCII name, and a continuation line with no field to
// continue. A message without the empty line is all header and no body, which
// RFC 5322 3.5 allows.
ParseResult parse_message(std::string_view message);

// ASCII case-insensitive comparison of field names (RFC 5322 1.2.2).
bool same_field_name(std::string_view a, std::string_view b);

}  // namespace cartero::dkim
