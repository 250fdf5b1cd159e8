// See resolver.hpp. The checks every implementation shares.
#include "dns/resolver.hpp"

#include "dns/name.hpp"

namespace cartero::dns {
namespace {

// A name that cannot exist in the DNS is a definite answer, not a reason to
// retry: nxdomain, and the reason in plain words.
template <typename Answer>
std::optional<Answer> refuse_bad_name(std::string_view name) {
    auto problem = name_problem(name);
    if (!problem) return std::nullopt;
    Answer answer;
    answer.status = Status::nxdomain;
    answer.error = "not a valid domain name: " + *problem;
    return answer;
}

std::optional<boost::asio::ip::address> ip_literal(std::string_view host) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    boost::system::error_code error;
    auto address = boost::asio::ip::make_address(std::string(host), error);
    // A scoped IPv6 literal ("fe80::1%eth0") names an interface of this host,
    // not a mail server; it is not an address we will take from outside.
    if (error || (address.is_v6() && address.to_v6().scope_id() != 0)) return std::nullopt;
    return address;
}

}  // namespace

std::string_view to_string(Status status) {
    switch (status) {
        case Status::ok: return "ok";
        case Status::nxdomain: return "nxdomain";
        case Status::nodata: return "nodata";
        case Status::temporary: return "temporary";
    }
    return "unknown";
}

bool is_null_mx(const std::vector<MxRecord>& records) {
    return records.size() == 1 && records.front().preference == 0 && records.front().host == ".";
}

AddressAnswer combine_addresses(const std::string& host, FamilyAnswer ipv6, FamilyAnswer ipv4) {
    AddressAnswer out;
    out.ipv6 = std::move(ipv6.records);
    out.ipv4 = std::move(ipv4.records);
    out.secure = ipv6.secure && ipv4.secure;
    if (!out.ipv6.empty() || !out.ipv4.empty()) {
        // One family failing while the other answers is normal (a broken
        // AAAA server is common); deliver over the family that answered.
        out.status = Status::ok;
    } else if (ipv6.status == Status::temporary || ipv4.status == Status::temporary) {
        out.status = Status::temporary;
        out.error = ipv4.status == Status::temporary ? ipv4.error : ipv6.error;
    } else if (ipv4.status == Status::nxdomain || ipv6.status == Status::nxdomain) {
        out.status = Status::nxdomain;
        out.error = "host " + host + " does not exist";
    } else {
        out.status = Status::nodata;
        out.error = "no A or AAAA records for " + host;
    }
    return out;
}

MxAnswer Resolver::mx(std::string_view domain) {
    if (auto refused = refuse_bad_name<MxAnswer>(domain)) return *refused;
    auto answer = lookup_mx(normalize_name(domain));
    answer.null_mx = answer.status == Status::ok && is_null_mx(answer.records);
    return answer;
}

AddressAnswer Resolver::addresses(std::string_view host) {
    // An MX target written as an address (RFC 5321 5.1 says it must be a
    // name; Postfix's smtp_addr_one interprets it as an address anyway).
    // "secure" stays false: no DNSSEC signature covers the address itself.
    if (auto literal = ip_literal(host)) {
        AddressAnswer answer;
        answer.status = Status::ok;
        (literal->is_v6() ? answer.ipv6 : answer.ipv4).push_back(*literal);
        return answer;
    }
    if (auto refused = refuse_bad_name<AddressAnswer>(host)) return *refused;
    return lookup_addresses(normalize_name(host));
}

TxtAnswer Resolver::txt(std::string_view name) {
    if (auto refused = refuse_bad_name<TxtAnswer>(name)) return *refused;
    return lookup_txt(normalize_name(name));
}

TlsaAnswer Resolver::tlsa(std::string_view name) {
    if (auto refused = refuse_bad_name<TlsaAnswer>(name)) return *refused;
    return lookup_tlsa(normalize_name(name));
}

SrvAnswer Resolver::srv(std::string_view name) {
    if (auto refused = refuse_bad_name<SrvAnswer>(name)) return *refused;
    return lookup_srv(normalize_name(name));
}

}  // namespace cartero::dns
