// dns::Resolver: the DNS questions outbound mail asks — MX (RFC 5321 5.1,
// RFC 7505 null MX), A and AAAA for the hosts found, TXT (DKIM keys RFC 6376
// 3.6.2, MTA-STS `_mta-sts` RFC 8461 3.1), TLSA (RFC 6698 2.1, for DANE
// RFC 7672) and SRV (RFC 2782; RFC 6186 and RFC 8314 5.1 submission records
// for `cartero discover`). Answers are values: a status, a plain-words error for the log
// and the queue, the records, and whether DNSSEC validated them.
//
// Two implementations (STYLE rule 11): the libunbound one
// (dns/unbound_resolver.hpp) and a zone held in memory for tests
// (dns/zone_resolver.hpp). Both go through the same non-virtual front below,
// so name checks and IP-literal handling are identical in tests and in
// production.
//
// Trust: names come from envelopes (network, untrusted) and from DNS answers
// (untrusted); they are checked (dns/name.hpp) before they are asked, and every
// record is parsed with bounds checks (dns/rdata.hpp). Privileges: none beyond
// a UDP/TCP socket to the configured resolver.
//
// Thread safety: every method may be called from several delivery threads at
// once; calls block until the answer or the implementation's timeout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace cartero::dns {

// What a lookup found. `temporary` covers SERVFAIL, REFUSED, a timeout, an
// unreachable server and a DNSSEC validation failure (RFC 7672 2.1.1: a bogus
// answer must not be used, and may be fixed later): the caller retries later.
// `nxdomain` (the name does not exist) and `nodata` (it exists without records
// of that type) are definite answers.
enum class Status { ok, nxdomain, nodata, temporary };

std::string_view to_string(Status);

struct MxRecord {
    std::uint16_t preference = 0;
    std::string host;  // lower case, no trailing dot; "." is the root (null MX target)

    friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

struct MxAnswer {
    Status status = Status::temporary;
    std::string error;                // plain words when status != ok; empty otherwise
    std::vector<MxRecord> records;    // as received (order is meaningless; see order_mx)
    bool null_mx = false;             // RFC 7505 3: exactly one MX, preference 0, target "."
    bool secure = false;              // validated by DNSSEC (needs a trust anchor)
};

struct AddressAnswer {
    Status status = Status::temporary;
    std::string error;
    std::vector<boost::asio::ip::address> ipv6;  // AAAA
    std::vector<boost::asio::ip::address> ipv4;  // A
    bool secure = false;                         // both the A and the AAAA answers validated
};

struct TxtAnswer {
    Status status = Status::temporary;
    std::string error;
    // One entry per TXT record, its character-strings concatenated without
    // separators (RFC 6376 3.6.2.2, RFC 7208 3.3, RFC 8461 3.1): a DKIM key
    // longer than 255 octets arrives as several strings of one record.
    std::vector<std::string> records;
    bool secure = false;
};

// RFC 6698 2.1: certificate usage, selector, matching type, association data.
struct TlsaRecord {
    std::uint8_t usage = 0;
    std::uint8_t selector = 0;
    std::uint8_t matching_type = 0;
    std::string data;  // raw octets (not hex)

    friend bool operator==(const TlsaRecord&, const TlsaRecord&) = default;
};

struct TlsaAnswer {
    Status status = Status::temporary;
    std::string error;
    std::vector<TlsaRecord> records;
    bool secure = false;  // RFC 7672 2.2: TLSA records are usable only when secure
};

// RFC 2782: priority, weight, port, target. A target of "." means the
// service is decidedly not offered at this name (RFC 2782, RFC 6186 3.4).
struct SrvRecord {
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    std::uint16_t port = 0;
    std::string target;  // lower case, no trailing dot; "." is the root

    friend bool operator==(const SrvRecord&, const SrvRecord&) = default;
};

struct SrvAnswer {
    Status status = Status::temporary;
    std::string error;
    std::vector<SrvRecord> records;  // as received (see order_srv)
    bool secure = false;
};

class Resolver {
public:
    virtual ~Resolver() = default;

    // Names may be given with or without the trailing dot, in any case. A name
    // that cannot be in the DNS (empty label, label over 63 octets, name over
    // 253, bytes outside letters, digits, '-' and '_') answers nxdomain with an
    // error saying so, without a query.
    MxAnswer mx(std::string_view domain);

    // Asks AAAA and A. An IP literal ("192.0.2.1", "2001:db8::1") answers
    // itself without a query: some domains publish an address as their MX
    // target (RFC 5321 5.1 forbids it, but Postfix tolerates it, and so do we).
    // status: ok if either family has addresses; otherwise temporary if either
    // lookup failed temporarily; otherwise nxdomain or nodata.
    AddressAnswer addresses(std::string_view host);

    TxtAnswer txt(std::string_view name);
    TlsaAnswer tlsa(std::string_view name);
    // `name` is the whole owner, e.g. "_submissions._tcp.example.com".
    SrvAnswer srv(std::string_view name);

private:
    // Implementations receive a checked, lower-case name without trailing dot.
    virtual MxAnswer lookup_mx(const std::string& domain) = 0;
    virtual AddressAnswer lookup_addresses(const std::string& host) = 0;
    virtual TxtAnswer lookup_txt(const std::string& name) = 0;
    virtual TlsaAnswer lookup_tlsa(const std::string& name) = 0;
    virtual SrvAnswer lookup_srv(const std::string& name) = 0;
};

// One address family's answer (A or AAAA), before the two are combined.
struct FamilyAnswer {
    Status status = Status::temporary;
    std::string error;
    std::vector<boost::asio::ip::address> records;
    bool secure = false;
};

// The AddressAnswer of `host` from its AAAA and A answers, as described at
// Resolver::addresses. Shared by the implementations so they agree.
AddressAnswer combine_addresses(const std::string& host, FamilyAnswer ipv6, FamilyAnswer ipv4);

// RFC 7505 3: a null MX is a single record of preference 0 whose target is the
// root. Anything else (a "." among other MX records) is not a null MX; such
// "." targets are dropped by order_mx.
bool is_null_mx(const std::vector<MxRecord>& records);

}  // namespace cartero::dns
