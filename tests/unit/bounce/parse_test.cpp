// compose()'s output read back by an independent parser, Python's email package
// (check_dsn.py): the MIME structure, the delivery-status groups per recipient and
// the returned original must come out as RFC 3464/6522 say, with no parser defects.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "dsn_fixture.hpp"

namespace cartero::bounce {
namespace {

using Fields = std::map<std::string, std::string>;

// Runs check_dsn.py on the message and reads its "key<TAB>value" lines.
Fields parse_with_python(const std::string& message) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("cartero-dsn-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".eml");
    std::ofstream(path, std::ios::binary) << message;
    const std::string command = std::string(CARTERO_PYTHON) + " " + CARTERO_CHECK_DSN + " " + path.string();
    Fields fields;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return fields;
    std::string output;
    std::array<char, 4096> buffer{};
    while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    std::filesystem::remove(path);
    EXPECT_EQ(status, 0) << output;
    std::size_t at = 0;
    while (at < output.size()) {
        const std::size_t end = std::min(output.find('\n', at), output.size());
        const std::string entry = output.substr(at, end - at);
        const std::size_t tab = entry.find('\t');
        if (tab != std::string::npos) fields[entry.substr(0, tab)] = entry.substr(tab + 1);
        at = end + 1;
    }
    return fields;
}

void expect_fields(const Fields& got, const Fields& want) {
    for (const auto& [key, value] : want) {
        const auto found = got.find(key);
        if (found == got.end()) {
            ADD_FAILURE() << key << ": missing, want " << value;
            continue;
        }
        EXPECT_EQ(found->second, value) << key;
    }
}

TEST(ParsedByPython, FailureForTwoRecipients) {
    auto e = testing::envelope();
    e.envid = "QQ314159";
    e.recipient_dsn = {{0, "rfc822", "Bob@example.net"}, {}, {smtp::notify_failure, "", ""}};
    auto dave = testing::bob_unknown();
    dave.index = 2;
    dave.status = "5.2.2";
    dave.diagnostic = "552-5.2.2 Mailbox full\n552 5.2.2 Try again in a week";
    const auto composed = compose(testing::input(ReportKind::failure), e, {testing::bob_unknown(), dave},
                                  testing::original_message);
    ASSERT_TRUE(composed);
    const Fields got = parse_with_python(composed->bytes);
    expect_fields(got, {
                           {"defects", ""},
                           {"content_type", "multipart/report"},
                           {"report_type", "delivery-status"},
                           {"subject", "Undelivered Mail Returned to Sender"},
                           {"from", "Mail Delivery System <MAILER-DAEMON@mx.example.org>"},
                           {"to", "s@example.org"},
                           {"auto_submitted", "auto-replied"},
                           {"has_date", "True"},
                           {"message_id", "<dsn-1@mx.example.org>"},
                           {"parts", "text/plain,message/delivery-status,message/rfc822"},
                           {"message.Reporting-MTA", "dns; mx.example.org"},
                           {"message.Original-Envelope-Id", "QQ314159"},
                           {"message.Arrival-Date", "Tue, 14 Nov 2023 22:13:20 +0000"},
                           {"recipients", "2"},
                           {"recipient.0.Original-Recipient", "rfc822;Bob@example.net"},
                           {"recipient.0.Final-Recipient", "rfc822; bob@example.net"},
                           {"recipient.0.Action", "failed"},
                           {"recipient.0.Status", "5.1.1"},
                           {"recipient.0.Remote-MTA", "dns; mx1.example.net"},
                           {"recipient.0.Diagnostic-Code",
                            "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown"},
                           {"recipient.1.Final-Recipient", "rfc822; dave@example.com"},
                           {"recipient.1.Status", "5.2.2"},
                           {"recipient.1.Diagnostic-Code", "smtp; 552-5.2.2 Mailbox full 552 5.2.2 Try again in a week"},
                           {"original_subject", "quarterly figures"},
                           {"original_body", "Hello Bob,\\nthe figures are attached.\\n"},
                       });
    EXPECT_EQ(got.count("recipient.1.Original-Recipient"), 0u);
    const std::string text = got.count("text") ? got.at("text") : "";
    EXPECT_NE(text.find("Your message to <dave@example.com> could not be delivered."), std::string::npos) << text;
    EXPECT_NE(text.find("The recipient's mailbox is full."), std::string::npos) << text;
}

TEST(ParsedByPython, DelayWithHeadersOnly) {
    const auto composed = compose(testing::input(ReportKind::delay), testing::envelope(), {testing::carol_delayed()},
                                  testing::original_message);
    ASSERT_TRUE(composed);
    const Fields got = parse_with_python(composed->bytes);
    expect_fields(got, {
                           {"defects", ""},
                           {"subject", "Delayed Mail (still being retried)"},
                           {"parts", "text/plain,message/delivery-status,text/rfc822-headers"},
                           {"recipients", "1"},
                           {"recipient.0.Action", "delayed"},
                           {"recipient.0.Status", "4.2.2"},
                           {"recipient.0.Will-Retry-Until", "Sun, 19 Nov 2023 22:13:20 +0000"},
                           {"recipient.0.Last-Attempt-Date", "Wed, 15 Nov 2023 02:13:20 +0000"},
                       });
    const std::string headers = got.count("original_headers") ? got.at("original_headers") : "";
    EXPECT_NE(headers.find("Subject: quarterly figures"), std::string::npos) << headers;
    EXPECT_EQ(headers.find("Hello Bob"), std::string::npos) << headers;
}

TEST(ParsedByPython, EightBitOriginalSurvives) {
    const std::string latin = "Subject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
                              "Content-Transfer-Encoding: 8bit\r\n\r\nna\xc3\xafve body\r\n";
    auto dave = testing::bob_unknown();
    dave.index = 2;
    dave.outcome = Outcome::delivered;
    dave.status = "2.0.0";
    dave.diagnostic = "250 2.0.0 Ok";
    auto e = testing::envelope();
    e.recipient_dsn = {{}, {}, {smtp::notify_success, "", ""}};
    const auto failure = compose(testing::input(ReportKind::failure), e, {testing::bob_unknown()}, latin);
    ASSERT_TRUE(failure);
    const Fields got = parse_with_python(failure->bytes);
    expect_fields(got, {{"defects", ""},
                        {"parts", "text/plain,message/delivery-status,message/rfc822"},
                        {"original_subject", "caf\xc3\xa9"},
                        {"original_body", "na\xc3\xafve body\\n"}});
    const auto success = compose(testing::input(ReportKind::success), e, {dave}, latin);
    ASSERT_TRUE(success);
    expect_fields(parse_with_python(success->bytes), {{"defects", ""},
                                                      {"subject", "Successful Mail Delivery Report"},
                                                      {"recipient.0.Action", "delivered"},
                                                      {"recipient.0.Status", "2.0.0"}});
}

}  // namespace
}  // namespace cartero::bounce
