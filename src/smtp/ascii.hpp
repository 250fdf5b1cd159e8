// ASCII case helpers for the protocol core: SMTP verbs, ESMTP keywords and domain
// names are case-insensitive in ASCII only (RFC 5321 2.4); UTF-8 octets are left alone,
// and no locale is consulted (std::toupper would depend on the global locale).
//
// Trust: pure functions over any octets.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace cartero::smtp {

inline char upper_ascii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
inline char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string upper_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return upper_ascii(c); });
    return out;
}

inline std::string lower_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return lower_ascii(c); });
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return upper_ascii(x) == upper_ascii(y); });
}

}  // namespace cartero::smtp
