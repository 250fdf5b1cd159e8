// SessionRules: sender ownership on submission, null sender, unknown local
// recipients, relay control, [[route]] domains and the classic open-relay
// address tricks.
#include "policy/session_rules.hpp"

#include <gtest/gtest.h>

namespace cartero::policy {
namespace {

using smtp::Address;
using smtp::Role;

std::shared_ptr<const accounts::Directory> directory() {
    static const auto snapshot = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.com", "xn--bcher-kva.example"},
        std::vector<std::string>{"alice@example.com", "bob@example.com", "dora@b\xC3\xBC" "cher.example"},
        std::vector<std::pair<std::string, std::string>>{{"sales@example.com", "alice@example.com"},
                                                         {"fwd@example.com", "carol@example.org"}},
        std::vector<config::Route>{{"bench.test", config::Transport::discard}});
    return snapshot;
}

std::string show(const std::optional<smtp::Reply>& reply) {
    return reply ? std::to_string(reply->code) + " " + reply->enhanced + " " + reply->text : "accept";
}

Address address(const std::string& text) {
    if (text.empty()) return Address{};
    const auto at = text.rfind('@');
    if (at == std::string::npos) return Address{text, ""};  // "<Postmaster>" as smtp/ parses it
    return Address{text.substr(0, at), text.substr(at + 1)};
}

struct Session {
    Role role;
    std::string auth_user;
    bool trusted = false;
};

smtp::SessionFacts facts_for(const Session& session, const smtp::PeerInfo& peer) {
    smtp::SessionFacts facts;
    facts.role = session.role;
    facts.peer = &peer;
    facts.auth_user = session.auth_user;
    return facts;
}

TEST(SessionRulesMail, Table) {
    const SessionRules rules(directory);
    struct Case { Session session; std::string sender; std::string want; };
    const Case cases[] = {
        {{Role::mx, ""}, "anyone@elsewhere.org", "accept"},
        {{Role::mx, ""}, "", "accept"},  // bounces arrive on mx
        {{Role::mx, ""}, "alice@example.com", "accept"},
        {{Role::submission, "alice@example.com"}, "alice@example.com", "accept"},
        {{Role::submissions, "alice@example.com"}, "Alice@Example.COM", "accept"},
        {{Role::submission, "alice@example.com"}, "sales@example.com", "accept"},
        {{Role::submission, "bob@example.com"}, "sales@example.com",
         "553 5.7.1 <sales@example.com>: Sender address rejected: not owned by user bob@example.com"},
        {{Role::submission, "bob@example.com"}, "alice@example.com",
         "553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user bob@example.com"},
        {{Role::submissions, "alice@example.com"}, "alice@elsewhere.org",
         "553 5.7.1 <alice@elsewhere.org>: Sender address rejected: not owned by user alice@example.com"},
        {{Role::submission, "alice@example.com"}, "fwd@example.com",
         "553 5.7.1 <fwd@example.com>: Sender address rejected: not owned by user alice@example.com"},
        {{Role::submission, "alice@example.com"}, "",
         "553 5.7.1 <>: Sender address rejected: null sender not allowed for submission"},
        {{Role::submissions, ""}, "alice@example.com", "530 5.7.0 Authentication required"},
    };
    for (const auto& c : cases) {
        const smtp::PeerInfo peer{"192.0.2.1", 40000, c.session.trusted};
        const auto got = show(rules.check_mail(facts_for(c.session, peer), address(c.sender)));
        EXPECT_EQ(got, c.want) << "MAIL FROM:<" << c.sender << "> as '" << c.session.auth_user << "': got " << got
                               << ", want " << c.want;
    }
}

TEST(SessionRulesRcpt, Table) {
    const SessionRules rules(directory);
    const std::string relay = ": Relay access denied";
    const std::string unknown = ": Recipient address rejected: User unknown in local recipient table";
    struct Case { Session session; std::string recipient; std::string want; };
    const Case cases[] = {
        {{Role::mx, ""}, "alice@example.com", "accept"},
        {{Role::mx, ""}, "ALICE@EXAMPLE.COM", "accept"},
        {{Role::mx, ""}, "sales@example.com", "accept"},
        {{Role::mx, ""}, "fwd@example.com", "accept"},  // alias to a remote address: ours to forward
        {{Role::mx, ""}, "nobody@example.com", "550 5.1.1 <nobody@example.com>" + unknown},
        {{Role::mx, ""}, "carol@example.org", "554 5.7.1 <carol@example.org>" + relay},
        {{Role::mx, "", true}, "carol@example.org", "accept"},  // trusted_networks
        {{Role::submission, "alice@example.com"}, "carol@example.org", "accept"},
        {{Role::submission, "alice@example.com"}, "nobody@example.com", "550 5.1.1 <nobody@example.com>" + unknown},
        // Open-relay tricks (Postfix SMTPD_ACCESS_README "dangerous" forms): local, never relayed.
        {{Role::mx, ""}, "user%example.org@example.com", "550 5.1.1 <user%example.org@example.com>" + unknown},
        {{Role::mx, ""}, "user!example.org@example.com", "550 5.1.1 <user!example.org@example.com>" + unknown},
        {{Role::mx, ""}, "example.org!user@example.com", "550 5.1.1 <example.org!user@example.com>" + unknown},
        {{Role::mx, ""}, "\"user@example.org\"@example.com",
         "550 5.1.1 <\"user@example.org\"@example.com>" + unknown},
        // `@example.com:user@example.org`: smtp/ drops the source route, policy sees user@example.org.
        {{Role::mx, ""}, "user@example.org", "554 5.7.1 <user@example.org>" + relay},
        // An address literal is not a local domain.
        {{Role::mx, ""}, "user@[127.0.0.1]", "554 5.7.1 <user@[127.0.0.1]>" + relay},
        {{Role::submission, "alice@example.com"}, "user@[127.0.0.1]", "accept"},
        // A [[route]] domain: any address in it, from anyone, on every role, without a user
        // check; only that exact domain (no open relay through its sub-domains or look-alikes).
        {{Role::mx, ""}, "anyone@bench.test", "accept"},
        {{Role::mx, ""}, "Anyone@BENCH.Test", "accept"},
        {{Role::submission, ""}, "anyone@bench.test", "accept"},
        {{Role::submissions, "alice@example.com"}, "anyone@bench.test", "accept"},
        {{Role::mx, ""}, "x@sub.bench.test", "554 5.7.1 <x@sub.bench.test>" + relay},
        {{Role::mx, ""}, "x@bench.test.example.org", "554 5.7.1 <x@bench.test.example.org>" + relay},
        {{Role::mx, ""}, "x@otherbench.test", "554 5.7.1 <x@otherbench.test>" + relay},
        {{Role::mx, ""}, "x@test", "554 5.7.1 <x@test>" + relay},
        {{Role::mx, ""}, "x%carol@example.org@bench.test", "accept"},  // a local part like any other: discarded
        // RFC 5321 4.5.1: <Postmaster> without a domain MUST be accepted, from anyone.
        {{Role::mx, ""}, "postmaster", "accept"},
        {{Role::mx, ""}, "PostMaster", "accept"},
        {{Role::mx, ""}, "root", "554 5.7.1 <root>" + relay},  // smtp/ never sends this; fail closed
        // ... and postmaster@ every local domain, with or without an alias (accounts.postmaster).
        {{Role::mx, ""}, "postmaster@example.com", "accept"},
        {{Role::mx, ""}, "PostMaster@EXAMPLE.com", "accept"},
        {{Role::mx, ""}, "postmaster@b\xC3\xBC" "cher.example", "accept"},
        {{Role::mx, ""}, "postmaster@example.org", "554 5.7.1 <postmaster@example.org>" + relay},
        // Subaddresses (accounts.recipient_delimiter, default "+"): local, never relayed.
        {{Role::mx, ""}, "alice+news@example.com", "accept"},
        {{Role::mx, ""}, "nobody+news@example.com", "550 5.1.1 <nobody+news@example.com>" + unknown},
        {{Role::mx, ""}, "alice+news@example.org", "554 5.7.1 <alice+news@example.org>" + relay},
        // IDNA: a U-label and its A-label are one domain; invalid IDNA is bad syntax.
        {{Role::mx, ""}, "dora@xn--bcher-kva.example", "accept"},
        {{Role::mx, ""}, "dora@B\xC3\x9C" "CHER.example", "accept"},
        {{Role::mx, ""}, "nobody@b\xC3\xBC" "cher.example",
         "550 5.1.1 <nobody@b\xC3\xBC" "cher.example>" + unknown},
        {{Role::mx, ""}, "dora@xn--zz.example", "501 5.1.3 Bad recipient address syntax"},
        {{Role::submission, "alice@example.com"}, "x@\xF0\x9F\x92\xA9.la", "501 5.1.3 Bad recipient address syntax"},
    };
    for (const auto& c : cases) {
        const smtp::PeerInfo peer{"192.0.2.1", 40000, c.session.trusted};
        const auto got = show(rules.check_rcpt(facts_for(c.session, peer), Address{}, address(c.recipient)));
        EXPECT_EQ(got, c.want) << "RCPT TO:<" << c.recipient << ">: got " << got << ", want " << c.want;
    }
}

// A reload swaps the snapshot: the next RCPT sees the new user.
// policy.check_from_header: the From: addresses of an authenticated user's
// message follow the MAIL FROM rule (own address or an alias of the user).
TEST(SessionRulesMessage, FromHeaderOwnedByTheUser) {
    const SessionRules rules(directory);
    struct Case { Session session; std::string header; std::string want; };
    const Case cases[] = {
        {{Role::submission, "alice@example.com"}, "From: Alice <alice@example.com>\r\n", "accept"},
        {{Role::submission, "alice@example.com"}, "From: ALICE@Example.com\r\n", "accept"},
        {{Role::submission, "alice@example.com"}, "From: Sales <sales@example.com>, alice@example.com\r\n", "accept"},
        {{Role::submission, "alice@example.com"}, "Subject: no from\r\n", "accept"},
        {{Role::submission, "bob@example.com"}, "From: \"Alice\" <alice@example.com>\r\n",
         "553 5.7.1 <alice@example.com>: From: header address not owned by user bob@example.com"},
        {{Role::submissions, "bob@example.com"}, "From: bob@example.com,\r\n ceo@example.com\r\n",
         "553 5.7.1 <ceo@example.com>: From: header address not owned by user bob@example.com"},
        {{Role::submission, "bob@example.com"}, "From: sales@example.com\r\n",
         "553 5.7.1 <sales@example.com>: From: header address not owned by user bob@example.com"},
        {{Role::submission, "bob@example.com"}, "From: bob@example.com\r\nFrom: alice@example.com\r\n",
         "550 5.6.0 Error: message has more than one From: header (RFC 5322 3.6)"},
        {{Role::submission, "bob@example.com"}, "From: Bob\r\n", "550 5.6.0 Error: From: header has no readable address"},
        {{Role::submission, "bob@example.com"}, "From: a\x01" "b@example.com\r\n",
         "553 5.7.1 <a?b@example.com>: From: header address not owned by user bob@example.com"},
        // Not authenticated submission: mx (mail from anyone, never signed) and the local socket.
        {{Role::mx, ""}, "From: alice@example.com\r\n", "accept"},
        {{Role::local, "bob@example.com"}, "From: alice@example.com\r\n", "accept"},
    };
    const smtp::PeerInfo peer{"192.0.2.1", 1, false};
    for (const auto& c : cases)
        EXPECT_EQ(show(rules.check_message(facts_for(c.session, peer), c.header)), c.want) << c.header;
    const SessionRules off(directory, SessionRules::Settings{false, {}});
    EXPECT_EQ(show(off.check_message(facts_for({Role::submission, "bob@example.com"}, peer), "From: alice@example.com\r\n")),
              "accept");
}

// A bounce to an SRS address of ours: accepted when the server's check says it
// verifies, else 550 5.1.1; a real user of that name, or no SRS at all, as before.
TEST(SessionRulesRcpt, SrsAddresses) {
    SessionRules::Settings settings;
    settings.srs = [](std::string_view local) -> std::optional<smtp::srs::Problem> {
        if (local.find("good") != std::string_view::npos) return std::nullopt;
        return smtp::srs::Problem::bad_hash;
    };
    const SessionRules rules(directory, settings);
    const SessionRules without(directory);
    const smtp::PeerInfo peer{"192.0.2.1", 1, false};
    const auto facts = facts_for({Role::mx, ""}, peer);
    const auto rcpt = [&](const SessionRules& r, const std::string& to) {
        return show(r.check_rcpt(facts, Address{}, address(to)));
    };
    EXPECT_EQ(rcpt(rules, "SRS0=good=AA=example.org=carol@example.com"), "accept");
    EXPECT_EQ(rcpt(rules, "SRS0=evil=AA=example.org=carol@example.com"),
              "550 5.1.1 <SRS0=evil=AA=example.org=carol@example.com>: Recipient address rejected: invalid SRS address");
    EXPECT_EQ(rcpt(without, "SRS0=good=AA=example.org=carol@example.com"),
              "550 5.1.1 <SRS0=good=AA=example.org=carol@example.com>: Recipient address rejected: User unknown in "
              "local recipient table");
    // Not a local domain: the relay rule, not SRS.
    EXPECT_EQ(rcpt(rules, "SRS0=good=AA=example.org=carol@example.net"),
              "554 5.7.1 <SRS0=good=AA=example.org=carol@example.net>: Relay access denied");
}

TEST(SessionRules, UsesTheCurrentDirectory) {
    using Aliases = std::vector<std::pair<std::string, std::string>>;
    std::shared_ptr<const accounts::Directory> current = std::make_shared<const accounts::Directory>(
        std::vector<std::string>{"example.com"}, std::vector<std::string>{}, Aliases{});
    const SessionRules rules([&] { return current; });
    const smtp::PeerInfo peer{"192.0.2.1", 40000, false};
    const auto facts = facts_for({Role::mx, ""}, peer);
    EXPECT_TRUE(rules.check_rcpt(facts, Address{}, address("new@example.com")));
    current = std::make_shared<const accounts::Directory>(std::vector<std::string>{"example.com"},
                                                          std::vector<std::string>{"new@example.com"},
                                                          Aliases{});
    EXPECT_FALSE(rules.check_rcpt(facts, Address{}, address("new@example.com")));
}

}  // namespace
}  // namespace cartero::policy
