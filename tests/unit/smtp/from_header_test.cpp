// smtp::from_field and header_block: the From: addresses an authenticated
// user's message claims (RFC 5322 3.6.2, 3.4, 2.2.3, 4.4).
#include "smtp/from_header.hpp"

#include <gtest/gtest.h>

namespace cartero::smtp {
namespace {

using Status = FromField::Status;
using List = std::vector<std::string>;

TEST(FromHeader, MailboxListForms) {
    struct Case { std::string_view value; List want; };
    for (const auto& c : std::vector<Case>{
             {" alice@example.org", {"alice@example.org"}},
             {" Alice <alice@example.org>", {"alice@example.org"}},
             {" \"Doe, Alice\" <alice@example.org>", {"alice@example.org"}},
             {" \"Bob <bob@evil.example>\" <alice@example.org>", {"alice@example.org"}},
             {" =?UTF-8?B?w4FsaWNl?= <alice@example.org>", {"alice@example.org"}},
             {" alice@example.org (Alice, the <boss@evil.example>)", {"alice@example.org"}},
             {" (comment (nested)) alice@example.org", {"alice@example.org"}},
             {" a@example.org, B <b@example.net>", {"a@example.org", "b@example.net"}},
             {" <@relay.example,@other.example:alice@example.org>", {"alice@example.org"}},
             {" Team: a@example.org, b@example.org;", {"a@example.org", "b@example.org"}},
             {" Team: a@example.org;, c@example.org", {"a@example.org", "c@example.org"}},
             {" undisclosed:;, a@example.org", {"a@example.org"}},
             {" \"john doe\"@example.org", {"\"john doe\"@example.org"}},
             {" john . doe @ example.org", {"john.doe@example.org"}},
             {" Alice\r\n <alice@example.org>", {"alice@example.org"}},
             {" alice@example.org,,", {"alice@example.org"}},
         })
        EXPECT_EQ(mailbox_list(c.value), c.want) << "value: " << c.value;
}

TEST(FromHeader, UnreadableValuesGiveNothing) {
    for (std::string_view value : {"", " ", " alice", " @example.org", " alice@", " Alice alice@example.org",
                                   " \"unterminated <a@example.org>", " (unterminated a@example.org",
                                   " <a@example.org", " <a@example.org> trailing", " <a@example.org> <b@example.org>",
                                   " Team: a@example.org", " a@example.org, junk", " <@route.example>"})
        EXPECT_TRUE(mailbox_list(value).empty()) << "value: " << value;
}

TEST(FromHeader, FieldInTheHeaderBlock) {
    const auto from = from_field("Received: x\r\nfrom: Alice\r\n <alice@example.org>,\r\n\tbob@example.org\r\nTo: x@y\r\n");
    EXPECT_EQ(from.status, Status::found);
    EXPECT_EQ(from.addresses, (List{"alice@example.org", "bob@example.org"}));
    EXPECT_EQ(from_field("FROM : a@example.org\r\n").addresses, List{"a@example.org"});  // RFC 5322 4.5.8
    EXPECT_EQ(from_field("To: a@example.org\r\nSubject: From: b@example.org\r\n").status, Status::absent);
    EXPECT_EQ(from_field("X-From: b@example.org\r\n").status, Status::absent);
    EXPECT_EQ(from_field("From: a@example.org\r\nFrom: b@example.org\r\n").status, Status::several);
    EXPECT_EQ(from_field("From: nobody\r\n").status, Status::unparseable);
    EXPECT_EQ(from_field("").status, Status::absent);
}

TEST(FromHeader, HeaderBlockEndsAtTheFirstEmptyLine) {
    EXPECT_EQ(header_block("From: a@b\r\n\r\nFrom: c@d\r\n"), "From: a@b\r\n");
    EXPECT_EQ(header_block("\r\nFrom: c@d\r\n"), "");
    EXPECT_EQ(header_block("From: a@b\r\n"), "From: a@b\r\n");
    // A From: in the body is not the message's From.
    EXPECT_EQ(from_field(header_block("Subject: x\r\n\r\nFrom: c@d\r\n")).status, Status::absent);
}

TEST(FromHeader, CollectorKeepsTheHeaderAcrossSlicesWithinItsLimit) {
    const std::string message = "Subject: x\r\nFrom: a@example.org\r\n\r\nbody\r\nFrom: evil@example.org\r\n";
    for (std::size_t cut = 0; cut <= message.size(); ++cut) {
        HeaderCollector collector(1000);
        collector.add(std::string_view(message).substr(0, cut));
        collector.add(std::string_view(message).substr(cut));
        EXPECT_EQ(collector.block(), "Subject: x\r\nFrom: a@example.org\r\n") << "cut at " << cut;
    }
    HeaderCollector small(12);
    small.add(message);
    EXPECT_EQ(small.block(), "Subject: x\r\n");
}

}  // namespace
}  // namespace cartero::smtp
