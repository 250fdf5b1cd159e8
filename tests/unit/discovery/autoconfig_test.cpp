// config-v1.1.xml as providers publish it (reference client-config.md 1.1 and
// 1.5): placeholders, several socket types and servers, and hostile or broken
// files refused with the reason.
#include "discovery/autoconfig.hpp"

#include <gtest/gtest.h>

namespace cartero::discovery {
namespace {

const Address alice{"alice", "example.com"};

// The shape of a hosting provider's file: 465 SSL first, 587 STARTTLS second,
// the user name the whole address, incoming IMAP and POP3.
const char* const hosting_xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <displayName>Example Hosting</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.com</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>outlook.example.com</hostname>
      <port>443</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.%EMAILDOMAIN%</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <documentation url="https://example.com/help">
      <descr lang="en">Setting up your mail program</descr>
    </documentation>
  </emailProvider>
</clientConfig>
)";

TEST(Autoconfig, HostingFileWithPlaceholders) {
    auto parsed = parse_autoconfig(hosting_xml, alice);
    ASSERT_TRUE(std::holds_alternative<Settings>(parsed)) << std::get<std::string>(parsed);
    const auto& s = std::get<Settings>(parsed);
    EXPECT_EQ(s.source, Source::autoconfig);
    EXPECT_EQ(s.provider, "Example Hosting");
    ASSERT_EQ(s.outgoing.size(), 2u);
    EXPECT_EQ(s.outgoing[0].host, "smtp.example.com");
    EXPECT_EQ(s.outgoing[0].port, 465);
    EXPECT_EQ(s.outgoing[0].security, Security::ssl);
    EXPECT_EQ(s.outgoing[0].auth, std::vector<std::string>{"password"});
    EXPECT_EQ(s.outgoing[1].port, 587);
    EXPECT_EQ(s.outgoing[1].security, Security::starttls);
    EXPECT_EQ(s.username, "alice@example.com");
    EXPECT_EQ(s.username_form, "%EMAILADDRESS%");
    ASSERT_EQ(s.incoming.size(), 2u) << "exchange is not shown";
    EXPECT_EQ(s.incoming[0], (ServerSetting{"imap", "imap.example.com", 993, Security::ssl}));
    EXPECT_EQ(s.incoming[1], (ServerSetting{"pop3", "pop.example.com", 995, Security::ssl}));
}

// Microsoft's consumer file: STARTTLS on 587, OAuth2 only; web.de: local part.
TEST(Autoconfig, OAuth2OnlyAndLocalPartUserName) {
    const char* xml = R"(<clientConfig version="1.1"><emailProvider id="outlook.com">
      <domain>outlook.com</domain><displayName>Outlook.com</displayName>
      <outgoingServer type="smtp"><hostname>smtp-mail.outlook.com</hostname><port>587</port>
        <socketType>STARTTLS</socketType><authentication>OAuth2</authentication>
        <username>%EMAILLOCALPART%</username></outgoingServer>
    </emailProvider></clientConfig>)";
    auto parsed = parse_autoconfig(xml, alice);
    ASSERT_TRUE(std::holds_alternative<Settings>(parsed)) << std::get<std::string>(parsed);
    const auto& s = std::get<Settings>(parsed);
    EXPECT_EQ(s.outgoing.at(0).auth, std::vector<std::string>{"oauth2"});
    EXPECT_EQ(s.username, "alice");
}

TEST(Autoconfig, FirstKnownSocketTypeWinsAndBadServersAreLeftOut) {
    const char* xml = R"(<clientConfig><emailProvider id="x">
      <outgoingServer type="smtp"><hostname>bad host.example.com</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
      <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>0</port><socketType>SSL</socketType></outgoingServer>
      <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>99999</port><socketType>SSL</socketType></outgoingServer>
      <outgoingServer type="ews"><hostname>ews.example.com</hostname><port>443</port><socketType>SSL</socketType></outgoingServer>
      <outgoingServer type="smtp"><hostname>SMTP.Example.COM.</hostname><port> 587 </port>
        <socketType>TLS-fancy</socketType><socketType>STARTTLS</socketType><socketType>SSL</socketType>
        <authentication>client-IP-address</authentication></outgoingServer>
    </emailProvider></clientConfig>)";
    auto parsed = parse_autoconfig(xml, alice);
    ASSERT_TRUE(std::holds_alternative<Settings>(parsed)) << std::get<std::string>(parsed);
    const auto& s = std::get<Settings>(parsed);
    ASSERT_EQ(s.outgoing.size(), 1u);
    EXPECT_EQ(s.outgoing[0].host, "smtp.example.com");
    EXPECT_EQ(s.outgoing[0].port, 587);
    EXPECT_EQ(s.outgoing[0].security, Security::starttls);
    EXPECT_EQ(s.outgoing[0].auth, std::vector<std::string>{"none"});
}

TEST(Autoconfig, UnusableFilesAreRefusedWithTheReason) {
    struct Case { const char* name; std::string xml; const char* reason; };
    const Case cases[] = {
        {"not XML", "<html><body>Not found</body>", "not well-formed XML"},
        {"HTML page", "<html><body>Not found</body></html>", "no <clientConfig>"},
        {"no provider", "<clientConfig version=\"1.1\"/>", "no <emailProvider>"},
        {"no SMTP", "<clientConfig><emailProvider id=\"x\"><incomingServer type=\"imap\"/></emailProvider></clientConfig>",
         "no usable <outgoingServer"},
        {"placeholder makes a bad host",
         "<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>%EMAILADDRESS%</hostname>"
         "<port>465</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>",
         "no usable <outgoingServer"},
        {"too large", std::string(max_autoconfig_size + 1, ' '), "larger than 128 KiB"},
        // pugixml never expands entities declared in a DTD: no billion laughs, no XXE.
        {"entity declaration",
         "<!DOCTYPE c [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><clientConfig><emailProvider>"
         "<outgoingServer type=\"smtp\"><hostname>&x;</hostname><port>465</port><socketType>SSL</socketType>"
         "</outgoingServer></emailProvider></clientConfig>",
         "no usable <outgoingServer"},
    };
    for (const auto& c : cases) {
        auto parsed = parse_autoconfig(c.xml, alice);
        ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << c.name << ": accepted";
        EXPECT_NE(std::get<std::string>(parsed).find(c.reason), std::string::npos)
            << c.name << ": got " << std::get<std::string>(parsed);
    }
}

TEST(Autoconfig, UrlsInOrderWithTheAddressEncoded) {
    const auto urls = autoconfig_urls(Address{"a+b", "example.com"});
    ASSERT_EQ(urls.size(), 2u);
    EXPECT_EQ(urls[0].url(443), "https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.com");
    EXPECT_EQ(urls[1].url(8443),
              "https://example.com:8443/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.com");
}

TEST(Settings, SplitAddressAndPlaceholders) {
    const auto a = split_address("Alice.Smith@Example.COM.");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->local, "Alice.Smith");
    EXPECT_EQ(a->domain, "example.com");
    EXPECT_FALSE(split_address("alice"));
    EXPECT_FALSE(split_address("@example.com"));
    EXPECT_FALSE(split_address("alice@"));
    EXPECT_FALSE(split_address("al ice@example.com"));
    EXPECT_FALSE(split_address("alice@example.com\n"));
    EXPECT_EQ(split_address("ana@B\xc3\xbc" "cher.example")->domain, "xn--bcher-kva.example");
    EXPECT_FALSE(split_address("ana@xn--zz.example")) << "an invalid A-label";
    EXPECT_EQ(expand_placeholders("%EMAILLOCALPART%+x@%EMAILDOMAIN% %REALNAME%%", *a), "Alice.Smith+x@example.com %");
}

}  // namespace
}  // namespace cartero::discovery
