// Is this text base64? The syntax check the AUTH exchange applies to each SASL
// response before anything else (RFC 4954 4: a response that cannot be base64
// decoded is refused with 501 5.5.2 and the exchange ends), and the one rule
// auth/sasl.cpp checks before decoding, so the two never disagree.
//
// Strict RFC 4648 4: whole groups of four characters from the alphabet, "=" only
// as one or two final pad characters, and (RFC 4648 3.5) the bits a pad leaves
// over are zero, so each decoded value has exactly one encoding. The empty text is
// base64 of nothing. Header-only and pure: auth/ uses it without linking smtp/.
//
// Trust: the text is untrusted network input; it is only read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cartero::smtp {

// The 6-bit value of a base64 alphabet character (RFC 4648 4, Table 1), or -1.
constexpr int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

constexpr bool is_base64(std::string_view text) {
    if (text.size() % 4 != 0) return false;
    const std::size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    const std::string_view data = text.substr(0, text.size() - pad);
    for (const char c : data)
        if (base64_value(c) < 0) return false;
    // One pad: the last character carries 2 spare bits; two pads: 4 spare bits.
    if (pad == 1) return (base64_value(data.back()) & 0x03) == 0;
    if (pad == 2) return (base64_value(data.back()) & 0x0f) == 0;
    return true;
}

// The octets of strict base64 text, or nullopt when is_base64() says no. Used by
// the client for the server's SASL challenges (RFC 7628 3.2.2's JSON error).
inline std::optional<std::string> decode_base64(std::string_view text) {
    if (!is_base64(text)) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    unsigned bits = 0;
    int count = 0;
    for (const char c : text) {
        if (c == '=') break;
        bits = (bits << 6) | static_cast<unsigned>(base64_value(c));
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

}  // namespace cartero::smtp
