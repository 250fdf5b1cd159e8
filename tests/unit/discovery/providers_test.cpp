// The provider table shipped in data/providers.toml: every entry complete and
// sourced, the lookups by domain, MX and SMTP host, and typo suggestions.
#include "discovery/providers.hpp"

#include <gtest/gtest.h>

#include <set>

namespace cartero::discovery {
namespace {

TEST(Providers, TableHasTwentyProvidersEachSourcedAndDated) {
    const auto& table = providers();
    EXPECT_GE(table.size(), 20u);
    std::set<std::string> ids;
    std::set<std::string> domains;
    for (const auto& p : table) {
        EXPECT_TRUE(ids.insert(p.id).second) << "duplicate id " << p.id;
        EXPECT_FALSE(p.source.empty()) << p.id;
        EXPECT_EQ(p.checked.size(), 10u) << p.id;
        EXPECT_FALSE(p.smtp.empty()) << p.id;
        for (const auto& s : p.smtp) EXPECT_NE(s.security, Security::none) << p.id;
        for (const auto& d : p.domains) EXPECT_TRUE(domains.insert(d).second) << "domain " << d << " in two entries";
    }
    // The providers the issue names.
    for (const char* id : {"gmail", "google-workspace", "outlook", "microsoft365", "yahoo", "aol", "icloud", "gmx",
                           "webde", "fastmail", "zoho", "proton", "yandex", "mailru", "ionos", "ovh", "gandi", "orange",
                           "free", "movistar"}) {
        EXPECT_TRUE(ids.contains(id)) << "missing provider " << id;
    }
}

TEST(Providers, LookupByDomain) {
    struct Case { const char* domain; const char* want; };
    const Case cases[] = {
        {"gmail.com", "gmail"}, {"GMail.COM.", "gmail"}, {"hotmail.es", "outlook"}, {"icloud.com", "icloud"},
        {"web.de", "webde"}, {"free.fr", "free"}, {"telefonica.net", "movistar"}, {"example.com", nullptr},
        {"mail.gmail.com", nullptr},
    };
    for (const auto& c : cases) {
        const Provider* got = find_by_domain(c.domain);
        EXPECT_EQ(got ? got->id.c_str() : std::string("(none)"), std::string(c.want ? c.want : "(none)")) << c.domain;
    }
}

TEST(Providers, LookupByMxTakesTheLongestSuffix) {
    struct Case { const char* mx; const char* want; };
    const Case cases[] = {
        {"aspmx.l.google.com", "google-workspace"},
        {"alt1.aspmx.l.google.com.", "google-workspace"},
        {"example-com.mail.protection.outlook.com", "microsoft365"},
        {"hotmail-com.olc.protection.outlook.com", "outlook"},
        {"mx01.mail.icloud.com", "icloud"},
        {"in1-smtp.messagingengine.com", "fastmail"},
        {"mx1.mail.ovh.net", "ovh"},
        {"mail.protonmail.ch", "proton"},
        {"notgoogle.com", nullptr},  // a suffix matches whole labels only
        {"mx.example.com", nullptr},
    };
    for (const auto& c : cases) {
        const Provider* got = find_by_mx(c.mx);
        EXPECT_EQ(got ? got->id.c_str() : std::string("(none)"), std::string(c.want ? c.want : "(none)")) << c.mx;
    }
}

TEST(Providers, FactsOfTheBigOnes) {
    const Provider* gmail = find_by_domain("gmail.com");
    ASSERT_NE(gmail, nullptr);
    EXPECT_EQ(gmail->smtp.front(), (ServerSetting{"smtp", "smtp.gmail.com", 465, Security::ssl}));
    const Provider* outlook = find_by_domain("outlook.com");
    ASSERT_NE(outlook, nullptr);
    EXPECT_EQ(outlook->smtp.front(), (ServerSetting{"smtp", "smtp-mail.outlook.com", 587, Security::starttls}));
    EXPECT_EQ(outlook->auth, std::vector<std::string>{"oauth2"});
    const Provider* m365 = find_by_mx("x.mail.protection.outlook.com");
    ASSERT_NE(m365, nullptr);
    EXPECT_NE(std::find(m365->notes.begin(), m365->notes.end(), Note::smtp_auth_off_by_default), m365->notes.end());
    const Provider* web = find_by_domain("web.de");
    ASSERT_NE(web, nullptr);
    EXPECT_EQ(web->username, "%EMAILLOCALPART%");
    EXPECT_EQ(find_by_smtp_host("SMTP.mail.me.com"), find_by_domain("icloud.com"));
    EXPECT_EQ(find_by_smtp_host("smtp.example.com"), nullptr);
}

TEST(Providers, NearestSmtpHostsForTypos) {
    struct Case { const char* typed; std::vector<std::string> want; };
    const Case cases[] = {
        {"smtp.gmial.com", {"smtp.gmail.com"}},       // swapped letters
        {"smtp.gmail.co", {"smtp.gmail.com"}},        // one missing
        {"smpt.gmail.com", {"smtp.gmail.com"}},
        {"stmp.office365.com", {"smtp.office365.com"}},
        {"smtp.gmail.com", {}},                       // exact: not a typo
        {"mail.example.org", {}},                     // nothing near
        {"", {}},
    };
    for (const auto& c : cases) {
        auto got = nearest_smtp_hosts(c.typed, 1);
        EXPECT_EQ(got, c.want) << c.typed;
    }
    EXPECT_EQ(edit_distance("smtp", "smpt"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Providers, DefectsInATableAreNamed) {
    const auto fails_with = [](const std::string& toml, const std::string& part) {
        try {
            parse_providers(toml);
            ADD_FAILURE() << "accepted: " << toml;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        }
    };
    const std::string good_head = "[[provider]]\nid = \"x\"\nname = \"X\"\ndomains = [\"x.test\"]\nmx_suffixes = []\n"
                                  "username = \"%EMAILADDRESS%\"\nauth = [\"password\"]\nnotes = []\n"
                                  "source = \"s\"\nchecked = \"2026-01-01\"\n";
    const std::string smtp = "[[provider.smtp]]\nhost = \"smtp.x.test\"\nport = 465\nsecurity = \"ssl\"\n";
    EXPECT_EQ(parse_providers(good_head + smtp).size(), 1u);
    fails_with(good_head, "no [[provider.smtp]]");
    fails_with(good_head + "[[provider.smtp]]\nhost = \"h\"\nport = 0\nsecurity = \"ssl\"\n", "port");
    fails_with(good_head + "[[provider.smtp]]\nhost = \"h\"\nport = 465\nsecurity = \"tls\"\n", "security");
    std::string bad_note = good_head;
    bad_note.replace(bad_note.find("notes = []"), 10, "notes = [\"nope\"]");
    fails_with(bad_note + smtp, "unknown note");
    fails_with("[[provider]\n", "line");
}

}  // namespace
}  // namespace cartero::discovery
