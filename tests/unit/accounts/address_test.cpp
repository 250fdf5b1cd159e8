// Account address rules: normalisation, syntax, local-domain membership.
#include "accounts/address.hpp"

#include <gtest/gtest.h>

namespace cartero::accounts {
namespace {

TEST(NormalizeAddress, FoldsAsciiOnly) {
    struct Case { std::string in, want; };
    const Case cases[] = {
        {"Alice@Example.COM", "alice@example.com"},
        {"alice@example.com", "alice@example.com"},
        {"\"Quoted\"@Example.com", "\"quoted\"@example.com"},
        {"J\xC3\x96RG@example.com", "j\xC3\x96rg@example.com"},  // UTF-8 octets kept as sent
        // The domain becomes its A-label (UTS #46); the local part stays as given.
        {"J\xC3\x96RG@B\xC3\x9C" "CHER.example", "j\xC3\x96rg@xn--bcher-kva.example"},
        {"alice@XN--BCHER-KVA.example.", "alice@xn--bcher-kva.example"},
        {"alice@xn--ZZ.example", "alice@xn--zz.example"},  // invalid IDNA: only lower-cased
        {"Postmaster", "postmaster"},
    };
    for (const auto& c : cases) {
        const auto got = normalize_address(c.in);
        EXPECT_EQ(got, c.want) << "normalize_address(" << c.in << "): got " << got << ", want " << c.want;
    }
}

TEST(DomainOf, SplitsAtLastAt) {
    EXPECT_EQ(domain_of("\"a@b\"@example.com"), "example.com");
    EXPECT_EQ(domain_of("no-at-sign"), "");
}

TEST(AddressProblem, AcceptsAndRefuses) {
    struct Case { std::string in; bool ok; };
    const Case cases[] = {
        {"alice@example.com", true},
        {"a.b+tag@example.com", true},
        {"alice", false},
        {"@example.com", false},
        {"alice@", false},
        {"a@b@example.com", false},
        {"al ice@example.com", false},
        {"\"alice\"@example.com", false},
        {"alice@exa\nmple.com", false},
        {std::string(65, 'a') + "@example.com", false},
        {"alice@" + std::string(256, 'd'), false},
        {"alice@b\xC3\xBC" "cher.example", true},
        {"alice@xn--zz.example", false},  // invalid IDNA
    };
    for (const auto& c : cases) {
        const auto problem = address_problem(c.in);
        EXPECT_EQ(!problem.has_value(), c.ok)
            << "address_problem(" << c.in << "): got " << problem.value_or("ok") << ", want " << (c.ok ? "ok" : "a problem");
    }
}

TEST(LocalAddressProblem, NamesTheConfigKey) {
    const std::vector<std::string> local = {"Example.com"};
    EXPECT_FALSE(local_address_problem("alice@EXAMPLE.com", local));
    const auto problem = local_address_problem("alice@other.org", local);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("local_domains"), std::string::npos) << "got " << *problem;
    EXPECT_NE(problem->find("other.org"), std::string::npos) << "got " << *problem;
}

TEST(LocalAddressProblem, ULabelAndALabelMatch) {
    EXPECT_FALSE(local_address_problem("alice@b\xC3\xBC" "cher.example", {"xn--bcher-kva.example"}));
    EXPECT_FALSE(local_address_problem("alice@xn--bcher-kva.example", {"b\xC3\xBC" "cher.example"}));
}

// Issue 8: a name the Maildir courier cannot use is refused when it is
// created, by the courier's own rule (config::mailbox_name_problem), with the
// problem and a name to use instead.
TEST(LocalAddressProblem, RefusesLocalPartsThatCannotNameAMailbox) {
    const std::vector<std::string> local = {"example.com"};
    struct Case { std::string in, problem, suggestion; };
    const Case cases[] = {
        {"sales/eu@example.com", "contains '/'", "sales-eu@example.com"},
        {".hidden@example.com", "starts with '.'", "hidden@example.com"},
        {"..@example.com", "starts with '.'", "mailbox@example.com"},
    };
    for (const auto& c : cases) {
        const auto problem = local_address_problem(c.in, local);
        ASSERT_TRUE(problem) << c.in << ": got ok, want refused";
        EXPECT_NE(problem->find(c.problem), std::string::npos) << c.in << ": got " << *problem;
        EXPECT_NE(problem->find("mailbox"), std::string::npos) << c.in << ": got " << *problem;
        EXPECT_NE(problem->find(c.suggestion), std::string::npos) << c.in << ": got " << *problem;
    }
    EXPECT_FALSE(local_address_problem("sales-eu@example.com", local));
    EXPECT_FALSE(local_address_problem("a.b+tag@example.com", local));
}

}  // namespace
}  // namespace cartero::accounts
