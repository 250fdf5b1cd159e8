// See settings.hpp.
#include "discovery/settings.hpp"

#include <algorithm>

#include "base/idna.hpp"

namespace cartero::discovery {

std::string_view to_string(Source source) {
    switch (source) {
        case Source::table: return "provider table";
        case Source::autoconfig: return "autoconfig";
        case Source::srv: return "SRV records";
        case Source::mx: return "MX records";
        case Source::probe: return "port probe";
    }
    return "";
}

std::string_view source_id(Source source) {
    switch (source) {
        case Source::table: return "table";
        case Source::autoconfig: return "autoconfig";
        case Source::srv: return "srv";
        case Source::mx: return "mx";
        case Source::probe: return "probe";
    }
    return "";
}

std::optional<Address> split_address(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
    const bool clean = std::all_of(address.begin(), address.end(), [](char c) {
        return static_cast<unsigned char>(c) > ' ' && c != 0x7f;
    });
    if (!clean) return std::nullopt;
    // The A-label form (an IDN domain is asked and shown as the DNS knows it):
    // lower case, no root dot.
    auto domain = base::ascii_domain(address.substr(at + 1));
    if (!domain || domain->empty()) return std::nullopt;
    return Address{std::string(address.substr(0, at)), std::move(*domain)};
}

std::string expand_placeholders(std::string_view text, const Address& address) {
    struct Placeholder { std::string_view name; std::string value; };
    const Placeholder placeholders[] = {
        {"%EMAILADDRESS%", address.local + "@" + address.domain},
        {"%EMAILLOCALPART%", address.local},
        {"%EMAILDOMAIN%", address.domain},
        {"%REALNAME%", ""},
    };
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        bool replaced = false;
        if (text[at] == '%') {
            for (const auto& p : placeholders) {
                if (text.substr(at).starts_with(p.name)) {
                    out += p.value;
                    at += p.name.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += text[at++];
    }
    return out;
}

}  // namespace cartero::discovery
