// Parsers for the RDATA of the record types cartero asks, in DNS wire form
// (RFC 1035 3.3, 3.4.1; RFC 3596 2.2; RFC 6698 2.1; RFC 2782). libunbound hands each
// record's RDATA over without its RDLENGTH and with names uncompressed.
//
// Trust: RDATA comes from the network (any DNS server on the path, or the
// domain owner) and is hostile until parsed. Every read is bounds-checked;
// a record that does not parse exactly (short, trailing bytes, compression
// pointer where none may be, name over 255 octets, bytes outside host-name
// characters) is rejected whole — past MTAs were exploited through DNS reply
// parsing (Exim CVE-2023-42219, see docs/security.md). Pure; fuzzable.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "dns/resolver.hpp"

namespace cartero::dns {

// A name at `offset` in `wire`, uncompressed (RFC 3597 4: no compression in
// RDATA handed over by a resolver library). Advances `offset` past it. The
// root name is ".". Labels must hold letters, digits, '-' or '_' (dns/name.hpp);
// the result is lower case without the trailing dot.
std::optional<std::string> parse_name(std::string_view wire, std::size_t& offset);

std::optional<MxRecord> parse_mx(std::string_view rdata);                    // RFC 1035 3.3.9
std::optional<boost::asio::ip::address> parse_a(std::string_view rdata);     // RFC 1035 3.4.1
std::optional<boost::asio::ip::address> parse_aaaa(std::string_view rdata);  // RFC 3596 2.2
// RFC 1035 3.3.14: one or more <character-string>s, returned concatenated.
std::optional<std::string> parse_txt(std::string_view rdata);
std::optional<TlsaRecord> parse_tlsa(std::string_view rdata);               // RFC 6698 2.1
// RFC 2782: priority, weight, port (two octets each, network order), target
// (a name, never compressed: RFC 2782 "Target"; RFC 3597 4).
std::optional<SrvRecord> parse_srv(std::string_view rdata);

}  // namespace cartero::dns
