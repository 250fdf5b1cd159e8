#include "net/proxy_header.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include <boost/asio/ip/address.hpp>

namespace cartero::net {
namespace {

using Status = ProxyHeader::Status;

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::size_t kV1MaxLine = 107;  // proxy-protocol.txt 2.1: worst case with CRLF
constexpr std::array<unsigned char, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2Fixed = 16;          // signature, ver_cmd, family, length
constexpr std::size_t kV2MaxPayload = 520;    // addresses (216 for AF_UNIX) and room for TLVs

constexpr std::size_t kShortest = 15;  // "PROXY UNKNOWN\r\n"

ProxyHeader need(std::size_t total) { return {Status::incomplete, total, std::nullopt, {}}; }

ProxyHeader invalid(std::string error) { return {Status::invalid, 0, std::nullopt, std::move(error)}; }

ProxyHeader complete(std::size_t length, std::optional<ProxiedClient> client) {
    return {Status::complete, length, std::move(client), {}};
}

std::optional<std::uint16_t> port_number(std::string_view text) {
    unsigned value = 0;
    // proxy-protocol.txt 2.1: decimal, no leading zeros, 0..65535.
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// "PROXY TCP4 src dst sport dport" (the line without its CRLF).
ProxyHeader parse_v1_line(std::string_view line, std::size_t length) {
    std::array<std::string_view, 6> fields;
    std::size_t count = 0;
    while (!line.empty() && count < fields.size()) {
        const std::size_t space = line.find(' ');
        fields[count++] = line.substr(0, space);
        line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    }
    if (count >= 2 && fields[1] == "UNKNOWN") return complete(length, std::nullopt);  // the rest is ignored
    if (count != 6 || !line.empty()) return invalid("a PROXY v1 line needs 6 fields");
    if (fields[1] != "TCP4" && fields[1] != "TCP6") return invalid("unknown PROXY v1 protocol");
    boost::system::error_code ec;
    const auto source = boost::asio::ip::make_address(std::string(fields[2]), ec);
    if (ec || source.is_v4() != (fields[1] == "TCP4")) return invalid("bad PROXY v1 source address");
    boost::asio::ip::make_address(std::string(fields[3]), ec);
    if (ec) return invalid("bad PROXY v1 destination address");
    const auto port = port_number(fields[4]);
    if (!port || !port_number(fields[5])) return invalid("bad PROXY v1 port");
    return complete(length, ProxiedClient{source.to_string(), *port});
}

ProxyHeader parse_v1(std::string_view bytes) {
    const std::size_t end = bytes.find("\r\n");
    if (end == std::string_view::npos) {
        if (bytes.size() >= kV1MaxLine) return invalid("PROXY v1 line longer than 107 octets");
        return need(bytes.size() + 1);  // one octet at a time: the line's end is not known
    }
    if (end + 2 > kV1MaxLine) return invalid("PROXY v1 line longer than 107 octets");
    return parse_v1_line(bytes.substr(0, end), end + 2);
}

std::uint16_t big_endian16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

ProxyHeader parse_v2(std::string_view bytes) {
    if (bytes.size() < kV2Fixed) return need(kV2Fixed);
    const auto* octets = reinterpret_cast<const unsigned char*>(bytes.data());
    const unsigned version = octets[12] >> 4;
    const unsigned command = octets[12] & 0x0F;
    const unsigned family = octets[13] >> 4;
    const unsigned transport = octets[13] & 0x0F;
    const std::size_t payload = big_endian16(octets + 14);
    if (version != 2) return invalid("unknown PROXY protocol version");
    if (payload > kV2MaxPayload) return invalid("PROXY v2 header too long");
    if (bytes.size() < kV2Fixed + payload) return need(kV2Fixed + payload);
    const std::size_t length = kV2Fixed + payload;
    if (command == 0x0) return complete(length, std::nullopt);  // LOCAL: the balancer itself
    if (command != 0x1) return invalid("unknown PROXY v2 command");
    if (transport != 0x1 || (family != 0x1 && family != 0x2))  // STREAM over INET or INET6 only
        return complete(length, std::nullopt);                  // 2.2: "UNSPEC": use the real peer
    const unsigned char* address = octets + kV2Fixed;
    if (family == 0x1) {
        if (payload < 12) return invalid("PROXY v2 IPv4 addresses truncated");
        boost::asio::ip::address_v4::bytes_type source;
        std::memcpy(source.data(), address, source.size());
        return complete(length, ProxiedClient{boost::asio::ip::address_v4(source).to_string(), big_endian16(address + 8)});
    }
    if (payload < 36) return invalid("PROXY v2 IPv6 addresses truncated");
    boost::asio::ip::address_v6::bytes_type source;
    std::memcpy(source.data(), address, source.size());
    auto client = boost::asio::ip::address_v6(source);
    const std::string ip = client.is_v4_mapped()
                               ? boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, client).to_string()
                               : client.to_string();
    return complete(length, ProxiedClient{ip, big_endian16(address + 32)});
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view bytes) {
    if (bytes.size() < kShortest) return need(kShortest);
    if (std::memcmp(bytes.data(), kV2Signature.data(), kV2Signature.size()) == 0) return parse_v2(bytes);
    if (bytes.substr(0, kV1Prefix.size()) != kV1Prefix) return invalid("no PROXY header");
    return parse_v1(bytes);
}

}  // namespace cartero::net
