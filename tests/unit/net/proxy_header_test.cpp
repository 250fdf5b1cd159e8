#include "net/proxy_header.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cartero::net {
namespace {

using Status = ProxyHeader::Status;

std::string v2(unsigned char command, unsigned char family, const std::vector<unsigned char>& payload) {
    std::string bytes("\r\n\r\n\0\r\nQUIT\n", 12);
    bytes += static_cast<char>(0x20 | command);
    bytes += static_cast<char>(family);
    bytes += static_cast<char>(payload.size() >> 8);
    bytes += static_cast<char>(payload.size() & 0xFF);
    bytes.append(payload.begin(), payload.end());
    return bytes;
}

// 192.0.2.1:56324 -> 198.51.100.1:25
const std::vector<unsigned char> kIpv4 = {192, 0, 2, 1, 198, 51, 100, 1, 0xDC, 0x04, 0x00, 0x19};

struct Case {
    std::string name;
    std::string bytes;
    Status status;
    std::size_t length;
    std::string ip;  // "" = no client named
    std::uint16_t port;
};

TEST(ProxyHeader, ReadsVersionOneAndTwo) {
    std::vector<unsigned char> ipv6(36, 0);
    ipv6[0] = 0x20, ipv6[1] = 0x01, ipv6[2] = 0x0d, ipv6[3] = 0xb8, ipv6[15] = 0x07;
    ipv6[32] = 0x01, ipv6[33] = 0xBB;
    std::vector<unsigned char> mapped(36, 0);
    mapped[10] = mapped[11] = 0xFF, mapped[12] = 203, mapped[13] = 0, mapped[14] = 113, mapped[15] = 9;
    std::vector<unsigned char> with_tlv = kIpv4;
    with_tlv.insert(with_tlv.end(), {0x04, 0x00, 0x01, 0x00});  // PP2_TYPE_NOOP, ignored
    const std::vector<Case> cases = {
        {"v1 TCP4", "PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\r\n", Status::complete, 44, "192.0.2.1", 56324},
        {"v1 TCP6", "PROXY TCP6 2001:db8::7 2001:db8::1 443 465\r\n", Status::complete, 44, "2001:db8::7", 443},
        {"v1 UNKNOWN", "PROXY UNKNOWN\r\n", Status::complete, 15, "", 0},
        {"v1 UNKNOWN with addresses", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", Status::complete, 35, "", 0},
        {"v1 line not ended yet", "PROXY TCP4 192.0.2.1 198", Status::incomplete, 25, "", 0},
        {"v1 first octets", "PRO", Status::incomplete, 15, "", 0},
        {"v1 family and address disagree", "PROXY TCP4 2001:db8::7 192.0.2.2 1 2\r\n", Status::invalid, 0, "", 0},
        {"v1 port with a leading zero", "PROXY TCP4 192.0.2.1 192.0.2.2 025 25\r\n", Status::invalid, 0, "", 0},
        {"v1 port too big", "PROXY TCP4 192.0.2.1 192.0.2.2 65536 25\r\n", Status::invalid, 0, "", 0},
        {"v1 five fields", "PROXY TCP4 192.0.2.1 192.0.2.2 25\r\n", Status::invalid, 0, "", 0},
        {"v1 seven fields", "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n", Status::invalid, 0, "", 0},
        {"v1 unknown protocol", "PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n", Status::invalid, 0, "", 0},
        {"v1 over 107 octets", "PROXY TCP6 " + std::string(100, 'f'), Status::invalid, 0, "", 0},
        {"SMTP instead", "EHLO client.example\r\n", Status::invalid, 0, "", 0},
        {"TLS instead", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00", 15),
         Status::invalid, 0, "", 0},
        {"v2 PROXY TCP4", v2(1, 0x11, kIpv4), Status::complete, 28, "192.0.2.1", 56324},
        {"v2 PROXY TCP6", v2(1, 0x21, ipv6), Status::complete, 52, "2001:db8::7", 443},
        {"v2 IPv4-mapped client", v2(1, 0x21, mapped), Status::complete, 52, "203.0.113.9", 0},
        {"v2 TLVs after the addresses", v2(1, 0x11, with_tlv), Status::complete, 32, "192.0.2.1", 56324},
        {"v2 LOCAL (health check)", v2(0, 0x00, {}), Status::complete, 16, "", 0},
        {"v2 UNSPEC family", v2(1, 0x00, {}), Status::complete, 16, "", 0},
        {"v2 UDP is not a client here", v2(1, 0x12, kIpv4), Status::complete, 28, "", 0},
        {"v2 addresses not arrived", v2(1, 0x11, kIpv4).substr(0, 20), Status::incomplete, 28, "", 0},
        {"v2 fixed part not arrived", v2(1, 0x11, kIpv4).substr(0, 15), Status::incomplete, 16, "", 0},
        {"v2 IPv4 truncated", v2(1, 0x11, {1, 2, 3}), Status::invalid, 0, "", 0},
        {"v2 unknown command", v2(2, 0x11, kIpv4), Status::invalid, 0, "", 0},
        {"v2 payload too long", v2(1, 0x11, std::vector<unsigned char>(521, 0)), Status::invalid, 0, "", 0},
    };
    for (const Case& c : cases) {
        const ProxyHeader header = parse_proxy_header(c.bytes);
        EXPECT_EQ(header.status, c.status) << c.name << ": " << header.error;
        EXPECT_EQ(header.length, c.length) << c.name;
        EXPECT_EQ(header.client ? header.client->ip : "", c.ip) << c.name;
        EXPECT_EQ(header.client ? header.client->port : 0, c.port) << c.name;
        EXPECT_EQ(header.error.empty(), c.status != Status::invalid) << c.name;
    }
}

// What the server does: read exactly what the parser asks for, never more, so
// the octets after the header (a TLS ClientHello) stay in the socket.
TEST(ProxyHeader, AsksForNoOctetPastTheHeader) {
    const std::string tls_hello = "\x16\x03\x01";
    for (const std::string& header : {std::string("PROXY TCP4 192.0.2.1 198.51.100.1 56324 465\r\n"),
                                      std::string("PROXY UNKNOWN\r\n"), v2(1, 0x11, kIpv4), v2(0, 0x00, {})}) {
        const std::string stream = header + tls_hello;
        std::string read;
        ProxyHeader parsed = parse_proxy_header(read);
        while (parsed.status == Status::incomplete) {
            ASSERT_LE(parsed.length, header.size()) << "asked to read past the header";
            read = stream.substr(0, parsed.length);
            parsed = parse_proxy_header(read);
        }
        EXPECT_EQ(parsed.status, Status::complete);
        EXPECT_EQ(parsed.length, header.size());
        EXPECT_EQ(read, header);
    }
}

}  // namespace
}  // namespace cartero::net
