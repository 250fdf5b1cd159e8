// See zone_resolver.hpp.
#include "dns/zone_resolver.hpp"

#include <algorithm>
#include <stdexcept>

#include "dns/name.hpp"

namespace cartero::dns {
namespace {

// Test input is checked as strictly as network input: a test that builds a
// zone with a bad name has a bug.
std::string checked(std::string_view name) {
    if (name == ".") return ".";
    if (auto problem = name_problem(name)) throw std::invalid_argument("ZoneResolver: " + *problem);
    return normalize_name(name);
}

bool is_below(const std::string& candidate, const std::string& name) {
    return candidate.size() > name.size() + 1 && candidate.ends_with(name) &&
           candidate[candidate.size() - name.size() - 1] == '.';
}

}  // namespace

ZoneResolver::Node& ZoneResolver::node(std::string_view name) { return nodes_[checked(name)]; }

ZoneResolver& ZoneResolver::add_mx(std::string_view name, std::uint16_t preference, std::string_view host) {
    std::scoped_lock lock(mutex_);
    node(name).mx.push_back(MxRecord{preference, checked(host)});
    return *this;
}

ZoneResolver& ZoneResolver::add_address(std::string_view name, std::string_view address) {
    const auto parsed = boost::asio::ip::make_address(std::string(address));  // throws on a bad literal
    std::scoped_lock lock(mutex_);
    auto& n = node(name);
    (parsed.is_v6() ? n.ipv6 : n.ipv4).push_back(parsed);
    return *this;
}

ZoneResolver& ZoneResolver::add_txt(std::string_view name, std::string text) {
    std::scoped_lock lock(mutex_);
    node(name).txt.push_back(std::move(text));
    return *this;
}

ZoneResolver& ZoneResolver::add_tlsa(std::string_view name, TlsaRecord record) {
    std::scoped_lock lock(mutex_);
    node(name).tlsa.push_back(std::move(record));
    return *this;
}

ZoneResolver& ZoneResolver::add_srv(std::string_view name, SrvRecord record) {
    record.target = checked(record.target);
    std::scoped_lock lock(mutex_);
    node(name).srv.push_back(std::move(record));
    return *this;
}

ZoneResolver& ZoneResolver::add_cname(std::string_view name, std::string_view target) {
    std::scoped_lock lock(mutex_);
    node(name).cname = checked(target);
    return *this;
}

ZoneResolver& ZoneResolver::fail(std::string_view name) {
    std::scoped_lock lock(mutex_);
    node(name).servfail = true;
    return *this;
}

ZoneResolver& ZoneResolver::remove(std::string_view name) {
    std::scoped_lock lock(mutex_);
    nodes_.erase(checked(name));
    return *this;
}

ZoneResolver& ZoneResolver::set_secure(bool secure) {
    std::scoped_lock lock(mutex_);
    secure_ = secure;
    return *this;
}

int ZoneResolver::queries() const {
    std::scoped_lock lock(mutex_);
    return queries_;
}

ZoneResolver::Lookup ZoneResolver::find(const std::string& name) const {
    Lookup out;
    out.owner = name;
    for (int link = 0; link <= max_cname_chain; ++link) {
        const auto it = nodes_.find(out.owner);
        if (it == nodes_.end()) {
            const bool has_children = std::any_of(nodes_.begin(), nodes_.end(),
                                                  [&](const auto& entry) { return is_below(entry.first, out.owner); });
            out.found = has_children ? Found::empty_nonterminal : Found::none;
            return out;
        }
        if (it->second.servfail) {
            out.found = Found::servfail;
            return out;
        }
        if (it->second.cname.empty()) {
            out.found = Found::node;
            out.node = it->second;
            return out;
        }
        out.owner = it->second.cname;
    }
    out.found = Found::chain_too_long;
    return out;
}

template <typename Answer, typename Records>
Answer ZoneResolver::answer(const std::string& name, const char* type, Records Node::*field) const {
    std::unique_lock lock(mutex_);
    ++queries_;
    const auto found = find(name);
    Answer out;
    out.secure = secure_;
    lock.unlock();
    switch (found.found) {
        case Found::servfail:
            out.status = Status::temporary;
            out.error = std::string("DNS server failure (SERVFAIL) for ") + name + " " + type;
            return out;
        case Found::chain_too_long:
            out.status = Status::temporary;
            out.error = "CNAME chain too long for " + name;
            return out;
        case Found::none:
            out.status = Status::nxdomain;
            out.error = "domain " + name + " does not exist";
            return out;
        case Found::empty_nonterminal:
        case Found::node: break;
    }
    out.records = found.node.*field;
    out.status = out.records.empty() ? Status::nodata : Status::ok;
    if (out.records.empty()) out.error = std::string("no ") + type + " records for " + name;
    return out;
}

MxAnswer ZoneResolver::lookup_mx(const std::string& domain) {
    return answer<MxAnswer>(domain, "MX", &Node::mx);
}

TxtAnswer ZoneResolver::lookup_txt(const std::string& name) { return answer<TxtAnswer>(name, "TXT", &Node::txt); }

TlsaAnswer ZoneResolver::lookup_tlsa(const std::string& name) {
    return answer<TlsaAnswer>(name, "TLSA", &Node::tlsa);
}

SrvAnswer ZoneResolver::lookup_srv(const std::string& name) { return answer<SrvAnswer>(name, "SRV", &Node::srv); }

AddressAnswer ZoneResolver::lookup_addresses(const std::string& host) {
    // Two questions, as the unbound resolver asks them, combined the same way.
    return combine_addresses(host, answer<FamilyAnswer>(host, "AAAA", &Node::ipv6),
                             answer<FamilyAnswer>(host, "A", &Node::ipv4));
}

}  // namespace cartero::dns
