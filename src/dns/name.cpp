// See name.hpp.
#include "dns/name.hpp"

namespace cartero::dns {
namespace {

bool is_label_octet(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string quoted(std::string_view name) {
    std::string out = "\"";
    for (const char c : name) {
        // Untrusted bytes go into logs: show controls and non-ASCII as '?'.
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return out + "\"";
}

}  // namespace

std::optional<std::string> name_problem(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty()) return "empty domain name";
    if (name.size() > max_name_length) return "domain name longer than 253 characters";
    std::size_t label = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label == 0) return "empty label in " + quoted(name);
            label = 0;
            continue;
        }
        if (!is_label_octet(c)) return "character not allowed in a domain name in " + quoted(name);
        if (++label > max_label_length) return "label longer than 63 characters in " + quoted(name);
    }
    if (label == 0) return "empty label in " + quoted(name);
    return std::nullopt;
}

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace cartero::dns
