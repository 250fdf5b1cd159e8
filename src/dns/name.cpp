// See name.hpp.
#include "dns/name.hpp"

#include "base/idna.hpp"

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

std::optional<std::string> name_problem(std::string_view as_given) {
    const auto ascii = base::ascii_domain(as_given);
    if (!ascii) return "not a valid internationalized domain name (IDNA) in " + quoted(as_given);
    const std::string_view name = *ascii;
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
    if (auto ascii = base::ascii_domain(name)) return std::move(*ascii);
    // Unreachable after name_problem; never ask a name that was not converted.
    return {};
}

}  // namespace cartero::dns
