// Header/body split for DKIM. See message.hpp.
#include "dkim/message.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace cartero::dkim {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 3.6.8: ftext = %d33-57 / %d59-126 (printable US-ASCII but colon).
bool is_ftext(char c) {
    const auto octet = static_cast<unsigned char>(c);
    return octet >= 33 && octet <= 126 && c != ':';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The 1-based line number of `offset`, for messages to the operator.
std::size_t line_of(std::string_view message, std::size_t offset) {
    return 1 + static_cast<std::size_t>(std::count(message.begin(), message.begin() + offset, '\n'));
}

// Offset of the first CR not followed by LF or LF not preceded by CR, or npos.
std::size_t bare_line_ending(std::string_view message) {
    for (std::size_t at = message.find_first_of("\r\n"); at != std::string_view::npos;
         at = message.find_first_of("\r\n", at + 2)) {
        if (message[at] == '\n' || at + 1 == message.size() || message[at + 1] != '\n') return at;
    }
    return std::string_view::npos;
}

// "Name:" or "Name  :" at the start of `line`; returns the field or nothing.
std::optional<HeaderField> field_start(std::string_view line) {
    std::size_t end = 0;
    while (end < line.size() && is_ftext(line[end])) ++end;
    std::size_t colon = end;
    while (colon < line.size() && is_wsp(line[colon])) ++colon;
    if (end == 0 || colon == line.size() || line[colon] != ':') return std::nullopt;
    return HeaderField{line.substr(0, end), line.substr(colon + 1)};
}

// Extends `field` (whose value ends where `line` starts, minus a CRLF) over `line`.
void continue_field(HeaderField& field, std::string_view line) {
    const char* begin = field.value.data();
    field.value = std::string_view(begin, static_cast<std::size_t>(line.data() + line.size() - begin));
}

}  // namespace

bool same_field_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

ParseResult parse_message(std::string_view message) {
    if (const std::size_t bare = bare_line_ending(message); bare != std::string_view::npos) {
        return MalformedMessage{"bare CR or LF on line " + std::to_string(line_of(message, bare)) +
                                " (RFC 5322 2.3: lines end with CRLF)"};
    }
    ParsedMessage parsed;
    std::size_t at = 0;
    while (at < message.size()) {
        const std::size_t eol = std::min(message.find(kCrlf, at), message.size());
        const std::string_view line = message.substr(at, eol - at);
        const std::size_t next = std::min(eol + kCrlf.size(), message.size());
        if (line.empty()) {  // the empty line: the body follows (RFC 5322 2.1)
            parsed.body = message.substr(next);
            return parsed;
        }
        if (is_wsp(line.front())) {
            if (parsed.fields.empty()) {
                return MalformedMessage{"line " + std::to_string(line_of(message, at)) +
                                        " continues a header field but none precedes it"};
            }
            continue_field(parsed.fields.back(), line);
        } else if (auto field = field_start(line)) {
            parsed.fields.push_back(*field);
        } else {
            return MalformedMessage{"line " + std::to_string(line_of(message, at)) +
                                    " is neither a header field nor a continuation (RFC 5322 2.2)"};
        }
        at = next;
    }
    return parsed;  // no empty line: header only, empty body
}

}  // namespace cartero::dkim
