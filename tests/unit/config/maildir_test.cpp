#include <gtest/gtest.h>

#include "config/config.hpp"

namespace cartero::config {
namespace {

Config with_data_dir() {
    Config config;
    config.data_dir = "/srv/cartero";
    return config;
}

TEST(MaildirFor, ExpandsTheTemplate) {
    const struct {
        std::string_view maildir_template;
        std::string_view localpart, domain;
        std::string_view want;
    } cases[] = {
        {"{data_dir}/mail/{domain}/{localpart}", "ana", "example.org", "/srv/cartero/mail/example.org/ana"},
        {"/var/mail/{localpart}/Maildir", "ana", "example.org", "/var/mail/ana/Maildir"},
        {"{data_dir}/{localpart}@{domain}", "a.b+tag", "example.org", "/srv/cartero/a.b+tag@example.org"},
        // One pass: placeholders inside substituted text stay literal.
        {"{data_dir}/{domain}/{localpart}", "{data_dir}", "example.org", "/srv/cartero/example.org/{data_dir}"},
    };
    for (const auto& c : cases) {
        Config config = with_data_dir();
        config.delivery.maildir = c.maildir_template;
        const std::filesystem::path got = maildir_for(config, c.localpart, c.domain);
        EXPECT_EQ(got, c.want) << c.maildir_template << " with " << c.localpart << "@" << c.domain << ": got "
                               << got << ", want " << c.want;
    }
}

TEST(MaildirFor, RefusesPartsThatWouldEscapeTheMailbox) {
    using namespace std::string_literals;
    const struct {
        std::string localpart, domain;
    } cases[] = {
        {"..", "example.org"},       {".", "example.org"},        {"../../etc", "example.org"},
        {"a/b", "example.org"},      {".hidden", "example.org"},  {"", "example.org"},
        {"ana\0x"s, "example.org"},  {"ana", ".."},               {"ana", "../x"},
        {"ana", "example.org/x"},    {"ana", ""},                 {"ana", ".example.org"},
        {"ana", "exa\0mple.org"s},
    };
    const Config config = with_data_dir();
    for (const auto& c : cases) {
        EXPECT_THROW(maildir_for(config, c.localpart, c.domain), InvalidMailbox)
            << "\"" << c.localpart << "\" @ \"" << c.domain << "\": got a path, want InvalidMailbox";
    }
}

// The predicate maildir_for throws on is the one account creation asks
// (accounts::local_address_problem): each refusal says why.
TEST(MailboxNameProblem, NamesTheProblem) {
    using namespace std::string_literals;
    const struct {
        std::string part;
        std::optional<std::string> want;
    } cases[] = {
        {"ana", std::nullopt},           {"a.b+tag", std::nullopt},       {"example.org", std::nullopt},
        {"", "is empty"},                {".", "starts with '.'"},        {"..", "starts with '.'"},
        {".hidden", "starts with '.'"},  {"sales/eu", "contains '/'"},    {"ana\0x"s, "contains a NUL octet"},
    };
    for (const auto& c : cases) {
        const auto got = mailbox_name_problem(c.part);
        EXPECT_EQ(got, c.want) << "\"" << c.part << "\": got " << got.value_or("ok") << ", want "
                               << c.want.value_or("ok");
    }
}

}  // namespace
}  // namespace cartero::config
