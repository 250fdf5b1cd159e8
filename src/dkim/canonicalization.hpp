// The "relaxed" canonicalization algorithms of DKIM for header fields
// (RFC 6376 3.4.2) and the body (RFC 6376 3.4.4). Pure.
//
// relaxed/relaxed is the only pair cartero signs with: it survives the
// whitespace changes and header re-folding that relays commonly make, while
// "simple" breaks on them (RFC 6376 3.4 discusses the trade-off).
//
// Trust: input is untrusted message text; every function is linear in it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace cartero::dkim {

// RFC 6376 3.4.2: "name:value\r\n" with the name in lower case, folding
// removed, runs of WSP as one SP, and no WSP at the ends of the value.
// `name` may carry WSP before its colon (obs-optional); it is dropped.
std::string relaxed_header(std::string_view name, std::string_view value);

// Receives canonical body octets piece by piece.
using BodySink = std::function<void(std::string_view)>;

// RFC 6376 3.4.4: WSP at line ends removed, other runs of WSP as one SP, empty
// lines at the end removed, and a CRLF added to a non-empty last line without
// one. `body` has CRLF line ends (message.hpp refuses anything else). The
// canonical body is handed to `sink` in pieces so a large body is hashed
// without a second copy of it in memory.
void relaxed_body(std::string_view body, const BodySink& sink);

// The whole canonical body as one string (tests, small bodies).
std::string relaxed_body(std::string_view body);

}  // namespace cartero::dkim
