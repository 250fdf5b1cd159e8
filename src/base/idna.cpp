// See idna.hpp. RFC 5890-5892 (IDNA2008) with the UTS #46 mapping (libidn2).
#include "base/idna.hpp"

#include <idn2.h>

#include <algorithm>
#include <memory>

namespace cartero::base {
namespace {

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// libidn2 on a NUL-terminated copy; nullopt on any refusal.
std::optional<std::string> idna_to_ascii(const std::string& name) {
    char* converted = nullptr;
    const int rc = idn2_to_ascii_8z(name.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    const std::unique_ptr<char, decltype(&idn2_free)> owned(converted, idn2_free);
    if (rc != IDN2_OK || converted == nullptr) return std::nullopt;
    return std::string(converted);
}

// An ASCII name: lower-case every label; an "xn--" label must also survive
// IDNA validation (it then comes back unchanged, as the A-label it is).
std::optional<std::string> ascii_labels(std::string_view name) {
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    for (std::size_t start = 0; start <= out.size();) {
        const std::size_t dot = std::min(out.find('.', start), out.size());
        const std::string label = out.substr(start, dot - start);
        if (label.starts_with("xn--") && idna_to_ascii(label) != label) return std::nullopt;
        start = dot + 1;
    }
    return out;
}

}  // namespace

std::optional<std::string> ascii_domain(std::string_view name) {
    if (name.find('\0') != std::string_view::npos) return std::nullopt;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (is_ascii(name)) return ascii_labels(name);
    auto converted = idna_to_ascii(std::string(name));
    if (!converted) return std::nullopt;
    // UTS #46 may map a non-ASCII full stop (U+3002) to a trailing '.'.
    if (!converted->empty() && converted->back() == '.') converted->pop_back();
    return converted;
}

}  // namespace cartero::base
