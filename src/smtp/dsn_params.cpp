// DSN parameters (RFC 3461 4); see dsn_params.hpp.
#include "smtp/dsn_params.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "smtp/ascii.hpp"

namespace cartero::smtp {

namespace {

// RFC 3461 4: xchar, "any ASCII CHAR between "!" (33) and "~" (126) inclusive,
// except for "+" and "="".
bool is_xchar(char c) { return c >= '!' && c <= '~' && c != '+' && c != '='; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// RFC 3461 4.2 and 4.4: the decoded value "MUST consist entirely of printable (graphic
// and white space) characters from the US-ASCII repertoire". White space is taken as
// SP only: HT would be folded or mangled in the DSN header it ends up in.
bool printable_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= ' ' && c <= '~'; });
}

// RFC 5322 3.2.3 atext, the characters of the ORCPT addr-type atom.
bool is_atext(char c) {
    static constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           specials.find(c) != std::string_view::npos;
}

}  // namespace

std::optional<std::string> xtext_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_xchar(text[i])) {
            out.push_back(text[i]);
            continue;
        }
        if (text[i] != '+' || text.size() - i < 3) return std::nullopt;
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

std::string xtext_encode(std::string_view text) {
    static constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (is_xchar(c)) {
            out.push_back(c);
            continue;
        }
        const auto octet = static_cast<unsigned char>(c);
        out += '+';
        out += digits[octet >> 4];
        out += digits[octet & 0x0f];
    }
    return out;
}

std::optional<DsnReturn> parse_ret(std::string_view value) {
    if (iequals(value, "FULL")) return DsnReturn::full;
    if (iequals(value, "HDRS")) return DsnReturn::headers;
    return std::nullopt;
}

std::string format_notify(std::uint8_t bits) {
    if (bits & notify_never) return "NEVER";
    std::string value;
    for (const auto& [bit, word] : {std::pair{notify_success, "SUCCESS"}, std::pair{notify_failure, "FAILURE"},
                                    std::pair{notify_delay, "DELAY"}})
        if (bits & bit) value += (value.empty() ? "" : ",") + std::string(word);
    return value;
}

std::optional<std::uint8_t> parse_notify(std::string_view value) {
    if (iequals(value, "NEVER")) return notify_never;
    struct Keyword {
        std::string_view name;
        NotifyBit bit;
    };
    static constexpr std::array<Keyword, 3> keywords{{
        {"SUCCESS", notify_success},
        {"FAILURE", notify_failure},
        {"DELAY", notify_delay},
    }};
    std::uint8_t bits = 0;
    // notify-list-element = "SUCCESS" / "FAILURE" / "DELAY", 1# of them: no empty element.
    while (true) {
        const std::size_t comma = std::min(value.find(','), value.size());
        const std::string_view element = value.substr(0, comma);
        const auto found = std::find_if(keywords.begin(), keywords.end(),
                                        [&](const Keyword& k) { return iequals(k.name, element); });
        if (found == keywords.end()) return std::nullopt;  // NEVER in a list lands here too
        bits |= found->bit;
        if (comma == value.size()) return bits;
        value.remove_prefix(comma + 1);
    }
}

std::optional<std::string> parse_envid(std::string_view value) {
    if (value.empty() || value.size() > max_envid_length) return std::nullopt;
    auto decoded = xtext_decode(value);
    if (!decoded || !printable_ascii(*decoded)) return std::nullopt;
    return decoded;
}

std::optional<OriginalRecipient> parse_orcpt(std::string_view value) {
    if (value.size() > max_orcpt_length) return std::nullopt;
    const std::size_t semicolon = value.find(';');
    if (semicolon == std::string_view::npos || semicolon == 0) return std::nullopt;
    const std::string_view type = value.substr(0, semicolon);
    if (!std::all_of(type.begin(), type.end(), is_atext)) return std::nullopt;
    auto address = xtext_decode(value.substr(semicolon + 1));
    if (!address || address->empty() || !printable_ascii(*address)) return std::nullopt;
    return OriginalRecipient{std::string(type), std::move(*address)};
}

}  // namespace cartero::smtp
