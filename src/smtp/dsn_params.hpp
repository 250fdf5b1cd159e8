// DSN parameters: the values of the ESMTP DSN extension's MAIL and RCPT parameters
// (RFC 3461 4: RET, ENVID on MAIL; NOTIFY, ORCPT on RCPT) and the xtext encoding they
// travel in.
//
// Trust: every value parsed here comes from the network. What leaves a parser has
// matched the RFC 3461 grammar and, for ENVID and ORCPT, decodes to printable US-ASCII
// (SP..~): RFC 3461 4.2 and 4.4 require that, and it is what lets bounce/ copy the
// values into DSN header fields (Original-Envelope-Id, Original-Recipient) with no CR,
// LF or control character able to reach a header. Pure functions, no I/O.
//
// RFCs: 3461 4 (xtext), 4.1 (NOTIFY), 4.2 (ORCPT), 4.3 (RET), 4.4 (ENVID).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::smtp {

// RFC 3461 4.3: RET=FULL | RET=HDRS; `unset` when the client gave none (the reporting
// MTA then chooses: cartero returns the full message within bounce limits).
enum class DsnReturn : std::uint8_t { unset = 0, full = 1, headers = 2 };

// RFC 3461 4.1: NOTIFY as bits. 0 means the parameter was not given, in which case a
// DSN is sent on FAILURE and DELAY ("as if NOTIFY=FAILURE,DELAY"); notify_never is
// never combined with the others.
enum NotifyBit : std::uint8_t {
    notify_success = 1,
    notify_failure = 2,
    notify_delay = 4,
    notify_never = 8,
};

// The DSN facts of one recipient, as given on its RCPT command.
struct RecipientDsn {
    std::uint8_t notify = 0;  // NotifyBit set; 0 = not given
    std::string orcpt_type = {};  // ORCPT addr-type as sent ("rfc822"); empty = no ORCPT
    std::string orcpt = {};       // ORCPT address, xtext-decoded (printable ASCII)

    bool operator==(const RecipientDsn&) const = default;
};

// RFC 3461 4.4: "ENVID ... MUST NOT exceed 100 characters"; 4.2: ORCPT up to 500.
// Fixed by the RFC (a DSN-capable client sizes its buffers by them), so they are not
// config values. Both are measured on the parameter value as sent (xtext encoded),
// which bounds the decoded value as well.
inline constexpr std::size_t max_envid_length = 100;
inline constexpr std::size_t max_orcpt_length = 500;

// RFC 3461 4: xtext = *( xchar / hexchar ), xchar = "!".."~" except "+" and "=",
// hexchar = "+" 2HEXDIG. The RFC spells hex digits in upper case; lower case is also
// decoded (it is unambiguous and some clients send it). nullopt when `text` is not
// xtext. The result may hold any octet: callers check what they need.
std::optional<std::string> xtext_decode(std::string_view text);

// The xtext form of `text` (for passing ENVID/ORCPT on to a DSN-capable next hop):
// "+", "=", and octets outside "!".."~" become "+XX" in upper-case hex.
std::string xtext_encode(std::string_view text);

// RET's value, case-insensitive ("FULL", "HDRS"); nullopt for anything else.
std::optional<DsnReturn> parse_ret(std::string_view value);

// NOTIFY's value: "NEVER", or a comma-separated list of SUCCESS, FAILURE, DELAY
// (case-insensitive; repeating one is harmless and accepted). nullopt for an empty
// element, an unknown keyword or NEVER combined with anything.
std::optional<std::uint8_t> parse_notify(std::string_view value);

// The NOTIFY value for `bits` as a next hop reads it: "NEVER", a comma-separated
// list such as "SUCCESS,FAILURE", or "" when the sender gave none.
std::string format_notify(std::uint8_t bits);

// ENVID's value decoded: at most max_envid_length characters as sent, xtext, and
// printable US-ASCII once decoded (RFC 3461 4.4); nullopt otherwise.
std::optional<std::string> parse_envid(std::string_view value);

// ORCPT's value "addr-type;xtext" (RFC 3461 4.2): addr-type an RFC 5322 atom, the
// address decoded, non-empty and printable US-ASCII, the whole at most
// max_orcpt_length characters as sent. nullopt otherwise.
struct OriginalRecipient {
    std::string type;     // as sent, e.g. "rfc822"
    std::string address;  // decoded
};
std::optional<OriginalRecipient> parse_orcpt(std::string_view value);

}  // namespace cartero::smtp
