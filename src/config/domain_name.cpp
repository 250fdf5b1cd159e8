// Domain name syntax: see domain_name.hpp.
#include "config/domain_name.hpp"

#include <algorithm>

#include "base/idna.hpp"

namespace cartero::config {
namespace {

constexpr std::size_t kMaxLabel = 63;   // RFC 1035 2.3.4
constexpr std::size_t kMaxName = 253;   // 255 on the wire minus length octets

bool is_letter_digit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_label(std::string_view label) {
    if (label.empty() || label.size() > kMaxLabel) {
        return false;
    }
    if (label.front() == '-' || label.back() == '-') {
        return false;
    }
    return std::all_of(label.begin(), label.end(), [](char c) { return is_letter_digit(c) || c == '-'; });
}

}  // namespace

bool is_domain_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxName) {
        return false;
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        if (!is_label(name.substr(start, dot - start))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        start = dot + 1;
    }
}

std::optional<std::string> ascii_domain_name(std::string_view name) {
    auto ascii = base::ascii_domain(name);
    if (!ascii || name.ends_with('.') || !is_domain_name(*ascii)) return std::nullopt;
    return ascii;
}

bool forbidden_in_account_address(char c) {
    const auto octet = static_cast<unsigned char>(c);
    return octet <= 0x20 || octet == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>';
}

std::string lower_ascii(std::string_view text) {
    std::string lowered(text);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    return lowered;
}

}  // namespace cartero::config
