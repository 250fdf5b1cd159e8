// The ready configurations of `cartero discover --format`, compared in full.
#include "discovery/formats.hpp"

#include <gtest/gtest.h>

#include "base/translation.hpp"
#include "discovery/autoconfig.hpp"

namespace cartero::discovery {
namespace {

const Address alice{"alice", "example.com"};

Settings hosting() {
    Settings s;
    s.source = Source::autoconfig;
    s.where = "https://autoconfig.example.com/mail/config-v1.1.xml";
    s.provider = "Example Hosting";
    s.outgoing = {Outgoing{"smtp.example.com", 465, Security::ssl, {"password"}, false},
                  Outgoing{"smtp.example.com", 587, Security::starttls, {"password"}, false}};
    s.incoming = {ServerSetting{"imap", "imap.example.com", 993, Security::ssl}};
    s.username = "alice@example.com";
    s.username_form = "%EMAILADDRESS%";
    return s;
}

TEST(Formats, Msmtp) {
    base::choose_language(base::Language::en);
    EXPECT_EQ(render(Format::msmtp, hosting(), alice),
              "# cartero discover alice@example.com: https://autoconfig.example.com/mail/config-v1.1.xml\n"
              "account alice@example.com\n"
              "host smtp.example.com\n"
              "port 465\n"
              "tls on\n"
              "tls_starttls off\n"
              "tls_trust_file system\n"
              "auth on\n"
              "# password: msmtp asks for it, or add a line: passwordeval \"COMMAND\"\n"
              "user alice@example.com\n"
              "from alice@example.com\n"
              "account default : alice@example.com\n");
    Settings oauth = hosting();
    oauth.outgoing = {Outgoing{"smtp-mail.outlook.com", 587, Security::starttls, {"oauth2"}, false}};
    const std::string got = render(Format::msmtp, oauth, alice);
    EXPECT_NE(got.find("tls_starttls on\n"), std::string::npos) << got;
    EXPECT_NE(got.find("auth xoauth2\n"), std::string::npos) << got;
}

TEST(Formats, Swaks) {
    EXPECT_EQ(render(Format::swaks, hosting(), alice),
              "swaks --server smtp.example.com:465 --tls-on-connect --auth --auth-user alice@example.com "
              "--from alice@example.com --to alice@example.com\n");
    Settings starttls = hosting();
    starttls.outgoing.erase(starttls.outgoing.begin());
    starttls.username = "it's";
    EXPECT_EQ(render(Format::swaks, starttls, alice),
              "swaks --server smtp.example.com:587 --tls --auth --auth-user 'it'\\''s' "
              "--from alice@example.com --to alice@example.com\n");
}

TEST(Formats, Env) {
    EXPECT_EQ(render(Format::env, hosting(), alice),
              "SMTP_HOST=smtp.example.com\nSMTP_PORT=465\nSMTP_SECURITY=ssl\nSMTP_USERNAME=alice@example.com\n"
              "SMTP_AUTH=password\n");
}

TEST(Formats, ThunderbirdReadsBackTheSame) {
    const std::string xml = render(Format::thunderbird, hosting(), alice);
    EXPECT_NE(xml.find("<clientConfig version=\"1.1\">"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<socketType>SSL</socketType>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<username>%EMAILADDRESS%</username>"), std::string::npos) << xml;
    auto back = parse_autoconfig(xml, alice);
    ASSERT_TRUE(std::holds_alternative<Settings>(back)) << std::get<std::string>(back);
    const auto& s = std::get<Settings>(back);
    ASSERT_EQ(s.outgoing.size(), 2u);
    EXPECT_EQ(s.outgoing[0].host + ":" + std::to_string(s.outgoing[0].port), "smtp.example.com:465");
    EXPECT_EQ(s.outgoing[1].security, Security::starttls);
    EXPECT_EQ(s.outgoing[1].auth, std::vector<std::string>{"password"});
    EXPECT_EQ(s.incoming, hosting().incoming);
    EXPECT_EQ(s.provider, "Example Hosting");
    EXPECT_EQ(parse_format("thunderbird"), Format::thunderbird);
    EXPECT_FALSE(parse_format("outlook"));
}

}  // namespace
}  // namespace cartero::discovery
