// Command: verb/argument split of RFC 5321 4.1.1 ("verb [SP argument] CRLF").
#include "smtp/command.hpp"

#include <charconv>
#include <limits>

#include "smtp/ascii.hpp"

namespace cartero::smtp {

namespace {

// RFC 5321 4.1.1 requires a single SP, but trailing blanks are common in the wild
// and carry no meaning, so they are dropped here rather than failing each grammar.
std::string_view trim_blanks(std::string_view s) {
    static constexpr std::string_view blanks = " \t";
    const std::size_t first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

}  // namespace

Command parse_command(std::string_view line) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return {upper_ascii(trim_blanks(line)), {}};
    return {upper_ascii(line.substr(0, space)), trim_blanks(line.substr(space + 1))};
}

bool contains_nul(std::string_view line) { return line.find('\0') != std::string_view::npos; }

std::optional<std::string_view> after_prefix(std::string_view text, std::string_view prefix) {
    if (!iequals(text.substr(0, prefix.size()), prefix)) return std::nullopt;
    text.remove_prefix(prefix.size());
    text.remove_prefix(std::min(text.find_first_not_of(' '), text.size()));
    return text;
}

std::optional<std::uint64_t> parse_decimal(std::string_view digits) {
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    std::uint64_t value = 0;
    const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (result.ec == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
    return value;
}

}  // namespace cartero::smtp
