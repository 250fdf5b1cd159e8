// ZoneResolver: a Resolver answering from records held in memory — the second
// real implementation (STYLE rule 11) that unit tests of delivery, DKIM and
// MTA-STS use instead of a DNS server. It answers as an authoritative server
// would: a name with no records and no names below it is nxdomain; a name
// that exists (or has names below it, RFC 8020 empty non-terminal) without
// records of the asked type is nodata; a CNAME is followed (at most
// max_cname_chain links, as a resolver would, then temporary). A name marked
// with fail() answers temporary, like SERVFAIL. secure is what set_secure()
// says, for testing DANE decisions.
//
// Trust: test input. Thread-safe: records may change while other threads ask.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"

namespace cartero::dns {

class ZoneResolver final : public Resolver {
public:
    // Links of a CNAME chain followed before giving up (a loop or a chain
    // longer than any real one); unbound's own bound is similar.
    static constexpr int max_cname_chain = 8;

    ZoneResolver& add_mx(std::string_view name, std::uint16_t preference, std::string_view host);
    ZoneResolver& add_address(std::string_view name, std::string_view address);  // A or AAAA by form
    ZoneResolver& add_txt(std::string_view name, std::string text);
    ZoneResolver& add_tlsa(std::string_view name, TlsaRecord record);
    ZoneResolver& add_srv(std::string_view name, SrvRecord record);  // target "." allowed
    ZoneResolver& add_cname(std::string_view name, std::string_view target);
    // The name answers every question with a temporary failure (SERVFAIL).
    ZoneResolver& fail(std::string_view name);
    // The name and its records are gone (nxdomain, unless names below it remain).
    ZoneResolver& remove(std::string_view name);
    // Marks every answer secure (true) or insecure (false, the default).
    ZoneResolver& set_secure(bool secure);
    // How many questions were asked, for tests that check caching or that no
    // query was made.
    int queries() const;

private:
    struct Node {
        std::vector<MxRecord> mx;
        std::vector<boost::asio::ip::address> ipv4, ipv6;
        std::vector<std::string> txt;
        std::vector<TlsaRecord> tlsa;
        std::vector<SrvRecord> srv;
        std::string cname;
        bool servfail = false;
    };
    enum class Found { node, empty_nonterminal, none, servfail, chain_too_long };
    struct Lookup {
        Found found = Found::none;
        Node node;          // a copy, so the lock is not held by callers
        std::string owner;  // the name the records belong to after CNAMEs
    };

    MxAnswer lookup_mx(const std::string& domain) override;
    AddressAnswer lookup_addresses(const std::string& host) override;
    TxtAnswer lookup_txt(const std::string& name) override;
    TlsaAnswer lookup_tlsa(const std::string& name) override;
    SrvAnswer lookup_srv(const std::string& name) override;

    Node& node(std::string_view name);
    Lookup find(const std::string& name) const;
    template <typename Answer, typename Records>
    Answer answer(const std::string& name, const char* type, Records Node::*field) const;

    mutable std::mutex mutex_;
    std::map<std::string, Node> nodes_;
    bool secure_ = false;
    mutable int queries_ = 0;
};

}  // namespace cartero::dns
