// See rdata.hpp.
#include "dns/rdata.hpp"

#include <algorithm>

#include "dns/name.hpp"

namespace cartero::dns {
namespace {

// RFC 1035 3.1: a name is at most 255 octets in wire form.
constexpr std::size_t max_wire_name = 255;

bool is_label_octet(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::uint8_t octet(std::string_view wire, std::size_t at) { return static_cast<std::uint8_t>(wire[at]); }

}  // namespace

std::optional<std::string> parse_name(std::string_view wire, std::size_t& offset) {
    std::string name;
    std::size_t at = offset;
    std::size_t wire_length = 0;
    while (true) {
        if (at >= wire.size()) return std::nullopt;
        const std::size_t length = octet(wire, at++);
        ++wire_length;
        if (length == 0) break;
        // 0x40/0x80/0xC0 prefixes (compression, extended labels) are > 63.
        if (length > max_label_length || wire.size() - at < length) return std::nullopt;
        wire_length += length;
        if (wire_length > max_wire_name) return std::nullopt;
        const auto label = wire.substr(at, length);
        // A '.', NUL or space inside a label would read as a different name
        // once in presentation form; host names never hold them (RFC 1123 2.1).
        if (!std::all_of(label.begin(), label.end(), is_label_octet)) return std::nullopt;
        if (!name.empty()) name += '.';
        name.append(label);
        at += length;
    }
    if (name.empty()) {
        offset = at;
        return ".";
    }
    if (name_problem(name)) return std::nullopt;
    offset = at;
    return normalize_name(name);
}

std::optional<MxRecord> parse_mx(std::string_view rdata) {
    if (rdata.size() < 3) return std::nullopt;
    MxRecord record;
    record.preference = static_cast<std::uint16_t>(octet(rdata, 0) << 8 | octet(rdata, 1));
    std::size_t offset = 2;
    auto host = parse_name(rdata, offset);
    if (!host || offset != rdata.size()) return std::nullopt;
    record.host = std::move(*host);
    return record;
}

std::optional<boost::asio::ip::address> parse_a(std::string_view rdata) {
    boost::asio::ip::address_v4::bytes_type bytes;
    if (rdata.size() != bytes.size()) return std::nullopt;
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = octet(rdata, i);
    return boost::asio::ip::address_v4(bytes);
}

std::optional<boost::asio::ip::address> parse_aaaa(std::string_view rdata) {
    boost::asio::ip::address_v6::bytes_type bytes;
    if (rdata.size() != bytes.size()) return std::nullopt;
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = octet(rdata, i);
    return boost::asio::ip::address_v6(bytes);
}

std::optional<std::string> parse_txt(std::string_view rdata) {
    // RFC 1035 3.3.14: at least one character-string (which may be empty).
    if (rdata.empty()) return std::nullopt;
    std::string text;
    std::size_t at = 0;
    while (at < rdata.size()) {
        const std::size_t length = octet(rdata, at++);
        if (rdata.size() - at < length) return std::nullopt;
        text.append(rdata.substr(at, length));
        at += length;
    }
    return text;
}

std::optional<TlsaRecord> parse_tlsa(std::string_view rdata) {
    // RFC 6698 2.1: three one-octet fields, then the association data. Empty
    // data cannot match anything; reject it rather than let it match nothing
    // silently.
    if (rdata.size() < 4) return std::nullopt;
    return TlsaRecord{octet(rdata, 0), octet(rdata, 1), octet(rdata, 2), std::string(rdata.substr(3))};
}

std::optional<SrvRecord> parse_srv(std::string_view rdata) {
    // Six octets of numbers and at least the root name.
    if (rdata.size() < 7) return std::nullopt;
    const auto u16 = [&](std::size_t at) { return static_cast<std::uint16_t>(octet(rdata, at) << 8 | octet(rdata, at + 1)); };
    SrvRecord record{u16(0), u16(2), u16(4), {}};
    std::size_t offset = 6;
    auto target = parse_name(rdata, offset);
    if (!target || offset != rdata.size()) return std::nullopt;
    record.target = std::move(*target);
    return record;
}

}  // namespace cartero::dns
