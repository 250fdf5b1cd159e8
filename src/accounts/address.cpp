// Account address rules; see address.hpp for the case-folding decision.
#include "accounts/address.hpp"

#include <algorithm>

#include "base/idna.hpp"
#include "config/config.hpp"
#include "config/domain_name.hpp"

namespace cartero::accounts {
namespace {

// RFC 5321 4.5.3.1.1 and 4.5.3.1.2.
constexpr std::size_t max_local_part = 64;
constexpr std::size_t max_domain = 255;

// `local` with every '/' turned into '-' and leading dots dropped: a name
// the operator can take as it is in the CLI's refusal.
std::string suggested_local_part(std::string_view local) {
    std::string out(local.substr(std::min(local.find_first_not_of('.'), local.size())));
    std::replace(out.begin(), out.end(), '/', '-');
    return out.empty() ? "mailbox" : out;
}

}  // namespace

std::string normalize_domain(std::string_view domain) {
    // An invalid IDNA name keeps its lower-cased spelling: it then equals no
    // local domain (those are valid A-labels) and policy refuses it at RCPT.
    return base::ascii_domain(domain).value_or(config::lower_ascii(domain));
}

std::string normalize_address(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return config::lower_ascii(address);
    return config::lower_ascii(address.substr(0, at)) + "@" + normalize_domain(address.substr(at + 1));
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
    if (std::any_of(address.begin(), address.end(), config::forbidden_in_account_address))
        return "contains a space, control character, quote, backslash or angle bracket";
    if (!base::ascii_domain(domain))
        return "domain " + std::string(domain) + " is not a valid internationalized domain name (IDNA, UTS #46)";
    return std::nullopt;
}

std::optional<std::string> local_address_problem(std::string_view address,
                                                 const std::vector<std::string>& local_domains) {
    if (auto problem = address_problem(address)) return problem;
    // The Maildir courier's own rule (config::mailbox_name_problem): a name it
    // would refuse at delivery is refused here, when it is created.
    const auto local_part = address.substr(0, address.rfind('@'));
    if (const auto problem = config::mailbox_name_problem(local_part))
        return "the local part \"" + std::string(local_part) + "\" " + *problem +
               ", so it cannot name a mailbox directory (Maildir keeps each mailbox in a directory named after it); "
               "choose a local part without '/' that does not start with '.', e.g. " +
               suggested_local_part(local_part) + "@" + std::string(domain_of(address));
    const auto domain = normalize_domain(domain_of(address));
    const bool local = std::any_of(local_domains.begin(), local_domains.end(),
                                   [&](const std::string& d) { return normalize_domain(d) == domain; });
    if (local) return std::nullopt;
    return "domain " + domain + " is not a local domain of this server; add it to local_domains in the config file";
}

}  // namespace cartero::accounts
