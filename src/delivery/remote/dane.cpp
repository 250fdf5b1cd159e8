// DANE decisions; see dane.hpp.
#include "delivery/remote/dane.hpp"

#include <algorithm>

namespace cartero::delivery::dane {

std::vector<dns::TlsaRecord> usable(const std::vector<dns::TlsaRecord>& records) {
    std::vector<dns::TlsaRecord> out;
    std::copy_if(records.begin(), records.end(), std::back_inserter(out), [](const dns::TlsaRecord& r) {
        // RFC 7672 3.1.1/3.1.2: DANE-EE(3) and DANE-TA(2); RFC 6698 2.1.2/2.1.3:
        // selector 0 (certificate) or 1 (SubjectPublicKeyInfo), matching 0 (full),
        // 1 (SHA-256) or 2 (SHA-512). A digest of the wrong length cannot match.
        const bool usage = r.usage == 2 || r.usage == 3;
        const bool selector = r.selector <= 1;
        const bool matching = (r.matching_type == 0 && !r.data.empty()) || (r.matching_type == 1 && r.data.size() == 32) ||
                              (r.matching_type == 2 && r.data.size() == 64);
        return usage && selector && matching;
    });
    return out;
}

std::string tlsa_name(std::string_view host, std::uint16_t port) {
    return "_" + std::to_string(port) + "._tcp." + std::string(host);
}

Decision decide(dns::Resolver& resolver, std::string_view host, std::uint16_t port, bool dnssec_host) {
    // RFC 7672 2.2.1/2.2.2: an MX host or address obtained insecurely gets no TLSA lookup.
    if (!dnssec_host) return {};
    const std::string name = tlsa_name(host, port);
    const dns::TlsaAnswer answer = resolver.tlsa(name);
    if (answer.status == dns::Status::temporary)  // includes a bogus (failed validation) answer
        return {Kind::unusable, {}, "DANE: TLSA lookup of " + name + " failed: " + answer.error};
    if (answer.status != dns::Status::ok || !answer.secure) return {};  // no records, or not signed: no DANE
    std::vector<dns::TlsaRecord> records = usable(answer.records);
    if (records.empty())
        return {Kind::encrypt, {}, "DANE: " + name + " has no usable TLSA record; TLS required, not authenticated"};
    return {Kind::verify, std::move(records), {}};
}

}  // namespace cartero::delivery::dane
