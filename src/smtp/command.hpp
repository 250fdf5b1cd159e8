// Command: one SMTP command line split into verb and argument (RFC 5321 4.1.1).
//
// Trust: the line is untrusted; the verb is upper-cased ASCII (verbs are
// case-insensitive, RFC 5321 2.4) and the argument is a view into the line, checked
// later by each command's own grammar.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::smtp {

struct Command {
    std::string verb;           // "MAIL"; empty for an empty line
    std::string_view argument;  // after the first SP, leading and trailing SP/HT removed
};

Command parse_command(std::string_view line);

// RFC 5321 4.1.1: a NUL has no place in a command (Postfix refuses it as well).
bool contains_nul(std::string_view line);

// "FROM:<a@b>" with prefix "FROM:" gives "<a@b>" (the prefix matched case-insensitively,
// spaces after the colon skipped: RFC 5321 forbids them, but Postfix and most servers
// accept them and they cannot change the meaning); nullopt when the prefix is missing.
std::optional<std::string_view> after_prefix(std::string_view text, std::string_view prefix);

// 1*DIGIT as an unsigned number (SIZE=, BDAT size). nullopt when empty or not all
// digits. A value past 2^64-1 saturates to that maximum: no overflow, and larger than
// any limit, so it is refused (SIZE) or counted down like any other (BDAT).
std::optional<std::uint64_t> parse_decimal(std::string_view digits);

}  // namespace cartero::smtp
