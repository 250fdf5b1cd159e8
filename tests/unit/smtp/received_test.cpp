// received_header: RFC 5321 4.4 trace line, RFC 3848 / 6531 protocol names,
// folding, date, and sanitizing the client's HELO name.
#include <gtest/gtest.h>

#include "smtp/received.hpp"

namespace cartero::smtp {
namespace {

Trace base_trace() {
    Trace t;
    t.helo = "client.example";
    t.peer = PeerInfo{"192.0.2.7", 1234, false};
    return t;
}

ReceivedOptions base_options() {
    ReceivedOptions o;
    o.by_hostname = "mx.example.org";
    o.queue_id = "QID1";
    o.when = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000
    return o;
}

TEST(Received, ProtocolNames) {
    struct Case {
        bool esmtp, tls, auth, utf8;
        std::string want;
    };
    const std::vector<Case> cases{
        {false, false, false, false, "with SMTP"},         {true, false, false, false, "with ESMTP"},
        {true, true, false, false, "with ESMTPS"},         {true, false, true, false, "with ESMTPA"},
        {true, true, true, false, "with ESMTPSA"},         {true, false, false, true, "with UTF8SMTP"},
        {true, true, false, true, "with UTF8SMTPS"},       {true, false, true, true, "with UTF8SMTPA"},
        {true, true, true, true, "with UTF8SMTPSA"},
    };
    for (const auto& c : cases) {
        Trace t = base_trace();
        t.esmtp = c.esmtp;
        t.smtputf8 = c.utf8;
        if (c.tls) t.tls = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128};
        if (c.auth) t.auth_user = "alice@example.org";
        const std::string got = received_header(t, base_options());
        EXPECT_NE(got.find(c.want + " "), std::string::npos) << "got " << got << ", want " << c.want;
    }
}

TEST(Received, FullHeaderIsFoldedAndEndsWithCrlf) {
    Trace t = base_trace();
    t.tls = TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256};
    t.auth_user = "alice@example.org";
    ReceivedOptions o = base_options();
    o.for_recipient = "bob@example.org";
    o.include_auth_user = true;
    EXPECT_EQ(received_header(t, o),
              "Received: from client.example ([192.0.2.7])\r\n"
              "\t(Authenticated sender: alice@example.org) by mx.example.org (cartero)\r\n"
              "\twith ESMTPSA (TLSv1.3 TLS_AES_256_GCM_SHA384) id QID1 for <bob@example.org>;\r\n"
              "\tTue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST(Received, MinimalHeader) {
    Trace t = base_trace();
    t.peer.ip = "2001:db8::7";
    t.auth_user = "alice@example.org";  // not shown unless include_auth_user
    EXPECT_EQ(received_header(t, base_options()),
              "Received: from client.example ([IPv6:2001:db8::7]) by mx.example.org (cartero)\r\n"
              "\twith ESMTPA id QID1; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST(Received, LinesStayWithin78Columns) {
    Trace t = base_trace();
    t.helo = std::string(70, 'h');
    t.tls = TlsInfo{"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256};
    const std::string header = received_header(t, base_options());
    std::size_t start = 0;
    for (std::size_t end; (end = header.find("\r\n", start)) != std::string::npos; start = end + 2) {
        EXPECT_LE(end - start, 78u) << header;
    }
}

TEST(Received, HeloCannotInjectHeaderSyntax) {
    Trace t = base_trace();
    t.helo = "evil\r\nX-Injected: yes (comment; by";
    const std::string header = received_header(t, base_options());
    EXPECT_EQ(header.find("\r\nX-Injected"), std::string::npos) << header;
    EXPECT_NE(header.find("from evil__X-Injected:_yes__comment__by ("), std::string::npos) << header;
}

}  // namespace
}  // namespace cartero::smtp
