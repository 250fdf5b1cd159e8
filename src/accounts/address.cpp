// Account address rules; see address.hpp for the case-folding decision.
#include "accounts/address.hpp"

#include <algorithm>

#include "base/idna.hpp"

namespace cartero::accounts {
namespace {

// RFC 5321 4.5.3.1.1 and 4.5.3.1.2.
constexpr std::size_t max_local_part = 64;
constexpr std::size_t max_domain = 255;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool forbidden_in_account_address(char c) {
    const auto octet = static_cast<unsigned char>(c);
    return octet <= 0x20 || octet == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>';
}

std::string lower_ascii(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

}  // namespace

std::string normalize_domain(std::string_view domain) {
    // An invalid IDNA name keeps its lower-cased spelling: it then equals no
    // local domain (those are valid A-labels) and policy refuses it at RCPT.
    return base::ascii_domain(domain).value_or(lower_ascii(domain));
}

std::string normalize_address(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return lower_ascii(address);
    return lower_ascii(address.substr(0, at)) + "@" + normalize_domain(address.substr(at + 1));
}

std::string_view domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

std::optional<std::string> address_problem(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return "missing '@': an address is local@domain";
    const auto local = address.substr(0, at);
    const auto domain = address.substr(at + 1);
    if (local.empty()) return "empty local part before '@'";
    if (domain.empty()) return "empty domain after '@'";
    if (local.size() > max_local_part) return "local part longer than 64 octets (RFC 5321 4.5.3.1.1)";
    if (domain.size() > max_domain) return "domain longer than 255 octets (RFC 5321 4.5.3.1.2)";
    if (local.find('@') != std::string_view::npos) return "more than one '@'";
    if (std::any_of(address.begin(), address.end(), forbidden_in_account_address))
        return "contains a space, control character, quote, backslash or angle bracket";
    if (!base::ascii_domain(domain))
        return "domain " + std::string(domain) + " is not a valid internationalized domain name (IDNA, UTS #46)";
    return std::nullopt;
}

std::optional<std::string> local_address_problem(std::string_view address,
                                                 const std::vector<std::string>& local_domains) {
    if (auto problem = address_problem(address)) return problem;
    const auto domain = normalize_domain(domain_of(address));
    const bool local = std::any_of(local_domains.begin(), local_domains.end(),
                                   [&](const std::string& d) { return normalize_domain(d) == domain; });
    if (local) return std::nullopt;
    return "domain " + domain + " is not a local domain of this server; add it to local_domains in the config file";
}

}  // namespace cartero::accounts
