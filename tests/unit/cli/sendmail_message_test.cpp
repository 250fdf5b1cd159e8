// `cartero sendmail`, pure half: the classic command line, the dot rule, line
// ends, header parsing, address lists, and what prepare() adds and removes.
#include "cli/sendmail_message.hpp"

#include <gtest/gtest.h>

namespace cartero::cli::sendmail {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : "|") + item;
    return out;
}

Options parsed(const std::vector<std::string>& args) {
    auto result = parse_arguments(args);
    if (auto* error = std::get_if<UsageError>(&result)) {
        ADD_FAILURE() << "parse_arguments refused: " << error->message;
        return {};
    }
    return std::get<Options>(result);
}

// A one-line summary of the options that matter, so each case is one string.
std::string summary(const Options& o) {
    return std::string(o.extract_recipients ? "t" : "-") + (o.dot_ends_input ? "." : "i") + (o.verbose ? "v" : "-") +
           (o.eight_bit ? "8" : "7") + " f=" + (o.sender ? *o.sender : "(none)") + " F=" + o.full_name +
           " C=" + o.config_path + " N=" + o.notify + " R=" + o.ret + " V=" + o.envid + " rcpt=" + join(o.recipients);
}

TEST(SendmailArguments, Table) {
    struct Case { std::vector<std::string> args; std::string want; };
    const Case cases[] = {
        {{}, "-.-7 f=(none) F= C= N= R= V= rcpt="},
        {{"bob@example.test"}, "-.-7 f=(none) F= C= N= R= V= rcpt=bob@example.test"},
        {{"-t", "-i"}, "ti-7 f=(none) F= C= N= R= V= rcpt="},
        {{"-ti"}, "ti-7 f=(none) F= C= N= R= V= rcpt="},  // grouped flags, as getopt
        {{"-oi", "-t"}, "ti-7 f=(none) F= C= N= R= V= rcpt="},
        {{"-f", "a@x"}, "-.-7 f=a@x F= C= N= R= V= rcpt="},
        {{"-fa@x"}, "-.-7 f=a@x F= C= N= R= V= rcpt="},
        {{"-r", "a@x"}, "-.-7 f=a@x F= C= N= R= V= rcpt="},
        {{"-ra@x"}, "-.-7 f=a@x F= C= N= R= V= rcpt="},
        {{"-f", "<>"}, "-.-7 f=<> F= C= N= R= V= rcpt="},
        {{"-F", "Cron Daemon", "root"}, "-.-7 f=(none) F=Cron Daemon C= N= R= V= rcpt=root"},
        {{"-FCronDaemon", "-i", "-B8BITMIME", "-oem", "ana"},  // Debian cron's exact call
         "-i-8 f=(none) F=CronDaemon C= N= R= V= rcpt=ana"},
        {{"-B", "7bit"}, "-.-7 f=(none) F= C= N= R= V= rcpt="},
        {{"-oep", "-odb", "-odi", "-odq", "-oee", "-oeq", "-oew", "-om", "-bm", "-m", "-G", "-U", "-n"},
         "-.-7 f=(none) F= C= N= R= V= rcpt="},
        {{"-v", "a@x"}, "-.v7 f=(none) F= C= N= R= V= rcpt=a@x"},
        {{"-C", "/etc/cartero.toml"}, "-.-7 f=(none) F= C=/etc/cartero.toml N= R= V= rcpt="},
        {{"--config", "/c.toml", "-t"}, "t.-7 f=(none) F= C=/c.toml N= R= V= rcpt="},
        {{"--config=/c.toml"}, "-.-7 f=(none) F= C=/c.toml N= R= V= rcpt="},
        {{"-N", "success,failure", "-R", "hdrs", "-V", "env1"},
         "-.-7 f=(none) F= C= N=SUCCESS,FAILURE R=HDRS V=env1 rcpt="},
        {{"--", "-odd@x"}, "-.-7 f=(none) F= C= N= R= V= rcpt=-odd@x"},
        // The first non-option ends the options (POSIX getopt): "-t" is then a recipient.
        {{"a@x", "-t"}, "-.-7 f=(none) F= C= N= R= V= rcpt=a@x|-t"},
        {{"-i", "-f", "me@x", "a@x", "b@y"}, "-i-7 f=me@x F= C= N= R= V= rcpt=a@x|b@y"},
    };
    for (const auto& c : cases) {
        const std::string got = summary(parsed(c.args));
        EXPECT_EQ(got, c.want) << "args " << join(c.args) << ": got " << got << ", want " << c.want;
    }
}

TEST(SendmailArguments, UsageErrorsNameTheProblem) {
    struct Case { std::vector<std::string> args; std::string want; };
    const Case cases[] = {
        {{"-x"}, "unknown option -x"},
        {{"-tx"}, "unknown option -x"},
        {{"-q"}, "-q (queue runs) is not supported: use `cartero queue flush`"},
        {{"-bp"}, "-bp (list the queue) is not supported: use `cartero queue list`"},
        {{"-bs"}, "-bs (SMTP on standard input) is not supported"},
        {{"-bv"}, "mode -bv is not supported (only -bm, send mail)"},
        {{"-oX"}, "option -oX is not supported"},
        {{"-f"}, "option -f needs a value"},
        {{"-R", "most"}, "-R wants full or hdrs, not \"most\""},
        {{"-B", "BINARYMIME"}, "-B wants 7BIT or 8BITMIME, not \"BINARYMIME\""},
        {{"--verbose"}, "unknown option --verbose"},
        {{"--config"}, "--config needs a file"},
    };
    for (const auto& c : cases) {
        const auto result = parse_arguments(c.args);
        const auto* error = std::get_if<UsageError>(&result);
        ASSERT_NE(error, nullptr) << "args " << join(c.args) << ": accepted, want a usage error";
        EXPECT_TRUE(error->message.starts_with(c.want))
            << "args " << join(c.args) << ": got \"" << error->message << "\", want it to start with \"" << c.want << "\"";
    }
}

TEST(SendmailInput, LoneDot) {
    EXPECT_TRUE(is_lone_dot("."));
    EXPECT_TRUE(is_lone_dot(".\r"));
    EXPECT_FALSE(is_lone_dot(".."));
    EXPECT_FALSE(is_lone_dot(" ."));
    EXPECT_FALSE(is_lone_dot(""));
    EXPECT_FALSE(is_lone_dot(". "));
}

TEST(SendmailInput, LineEndsBecomeCrlf) {
    struct Case { std::string in; std::string want; };
    const Case cases[] = {
        {"", ""},
        {"a\nb\n", "a\r\nb\r\n"},
        {"a\r\nb\r\n", "a\r\nb\r\n"},
        {"a\rb", "a\r\nb\r\n"},          // a lone CR cannot travel in SMTP either
        {"a\n\nb", "a\r\n\r\nb\r\n"},     // a missing last line end is added
        {"a\r\r\nb\n", "a\r\n\r\nb\r\n"},
    };
    for (const auto& c : cases) EXPECT_EQ(normalize_line_ends(c.in), c.want) << "input " << c.in;
}

TEST(SendmailHeader, SplitsFieldsFoldsAndBody) {
    const auto message = split_message("From me Thu Nov 26 10:00:00 2026\r\nSubject: a\r\n  b\r\nTo: x@y\r\n\r\nbody\r\n");
    ASSERT_EQ(message.header.size(), 2u);
    EXPECT_EQ(message.header[0].name, "Subject");
    EXPECT_EQ(message.header[0].field, "Subject: a\r\n  b\r\n");
    EXPECT_EQ(field_value(message.header[0]), "a  b");
    EXPECT_EQ(message.header[1].name, "To");
    EXPECT_EQ(message.body, "body\r\n");

    // No empty line: the first line that is not a field starts the body.
    const auto headless = split_message("just text\r\nmore\r\n");
    EXPECT_TRUE(headless.header.empty());
    EXPECT_EQ(headless.body, "just text\r\nmore\r\n");
    const auto no_blank = split_message("Subject: s\r\nnot a field\r\n");
    ASSERT_EQ(no_blank.header.size(), 1u);
    EXPECT_EQ(no_blank.body, "not a field\r\n");
}

TEST(SendmailHeader, AddressLists) {
    struct Case { std::string value; std::string want; };
    const Case cases[] = {
        {"a@x", "a@x"},
        {"a@x, b@y", "a@x|b@y"},
        {"Ana <a@x>, \"Bob, Jr.\" <b@y>", "a@x|b@y"},
        {"a@x (Ana, the boss), b@y", "a@x|b@y"},
        {"friends: a@x, b@y;, c@z", "a@x|b@y|c@z"},
        {"undisclosed-recipients:;", ""},
        {"<@relay.example:a@x>", "a@x"},
        {"\"odd,local\"@x", "\"odd,local\"@x"},
        {"\"Quote \\\" inside\" <a@x>", "a@x"},
        {"root", "root"},
        {"", ""},
        {" , ,", ""},
    };
    for (const auto& c : cases) {
        const std::string got = join(parse_address_list(c.value));
        EXPECT_EQ(got, c.want) << "list \"" << c.value << "\": got " << got << ", want " << c.want;
    }
}

TEST(SendmailHeader, Date) {
    std::tm t{};
    t.tm_year = 2026 - 1900;
    t.tm_mon = 10;
    t.tm_mday = 26;
    t.tm_wday = 4;
    t.tm_hour = 9;
    t.tm_min = 5;
    t.tm_sec = 7;
    EXPECT_EQ(rfc5322_date(t, 3600), "Thu, 26 Nov 2026 09:05:07 +0100");
    EXPECT_EQ(rfc5322_date(t, -(3 * 3600 + 30 * 60)), "Thu, 26 Nov 2026 09:05:07 -0330");
    EXPECT_EQ(rfc5322_date(t, 0), "Thu, 26 Nov 2026 09:05:07 +0000");
}

Context context() {
    Context c;
    c.login = "ana";
    c.hostname = "host.example";
    c.local_time.tm_year = 2026 - 1900;
    c.local_time.tm_mon = 10;
    c.local_time.tm_mday = 26;
    c.local_time.tm_wday = 4;
    c.utc_offset = 0;
    c.unique = "20261126000000.abc";
    return c;
}

Submission prepared(const Options& options, std::string_view input, const Context& c = context()) {
    auto result = prepare(options, input, c);
    if (auto* error = std::get_if<DataError>(&result)) {
        ADD_FAILURE() << "prepare refused: " << error->message;
        return {};
    }
    return std::get<Submission>(result);
}

TEST(SendmailPrepare, RecipientsFromHeadersBccRemoved) {
    const auto s = prepared(parsed({"-t"}),
                            "From: Ana <ana@host.example>\nTo: Bob <bob@example.test>\nCc: c@example.test\n"
                            "Bcc: hidden@example.test,\n  also@example.test\nSubject: hi\n\nbody\n");
    EXPECT_EQ(join(s.recipients), "bob@example.test|c@example.test|hidden@example.test|also@example.test");
    EXPECT_EQ(s.data.find("Bcc"), std::string::npos) << s.data;
    EXPECT_EQ(s.data.find("also@"), std::string::npos) << "the folded Bcc line must go too:\n" << s.data;
    EXPECT_NE(s.data.find("Subject: hi\r\n"), std::string::npos);
    EXPECT_TRUE(s.data.ends_with("\r\n\r\nbody\r\n")) << s.data;
    EXPECT_EQ(s.sender, "ana@host.example");  // LOGIN@hostname without -f
}

TEST(SendmailPrepare, ResentFieldsWinWithT) {
    const auto s = prepared(parsed({"-t"}), "To: old@x\nResent-To: new@y\nResent-Bcc: hidden@z\n\nb\n");
    EXPECT_EQ(join(s.recipients), "new@y|hidden@z");
    EXPECT_EQ(s.data.find("Resent-Bcc"), std::string::npos);
}

TEST(SendmailPrepare, ArgumentsAndHeadersTogetherWithoutDuplicates) {
    const auto s = prepared(parsed({"-t", "bob@x", "extra@y, bob@x"}), "To: bob@x\n\nb\n");
    EXPECT_EQ(join(s.recipients), "bob@x|extra@y");
    // Without -t the header is not read for recipients, and Bcc still never leaves.
    const auto args_only = prepared(parsed({"only@z"}), "To: bob@x\nBcc: secret@w\n\nb\n");
    EXPECT_EQ(join(args_only.recipients), "only@z");
    EXPECT_EQ(args_only.data.find("secret@w"), std::string::npos);
}

TEST(SendmailPrepare, AddsFromDateAndMessageIdWhenMissing) {
    const auto s = prepared(parsed({"-F", "Cron Daemon", "root"}), "Subject: cron\n\nout\n");
    EXPECT_EQ(join(s.recipients), "root@host.example");  // bare names get @hostname
    EXPECT_EQ(s.data,
              "Subject: cron\r\n"
              "From: \"Cron Daemon\" <ana@host.example>\r\n"
              "Date: Thu, 26 Nov 2026 00:00:00 +0000\r\n"
              "Message-ID: <20261126000000.abc@host.example>\r\n"
              "\r\n"
              "out\r\n");
}

TEST(SendmailPrepare, KeepsExistingFromDateAndMessageId) {
    const std::string input = "From: a@x\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-Id: <m@x>\r\n\r\nb\r\n";
    const auto s = prepared(parsed({"-f", "bounce@x", "b@y"}), input);
    EXPECT_EQ(s.data, input);  // nothing to add; Message-Id matched without regard to case
    EXPECT_EQ(s.sender, "bounce@x");
}

TEST(SendmailPrepare, SenderForms) {
    struct Case { std::vector<std::string> args; std::string want; };
    const Case cases[] = {
        {{"-f", "Ana <a@x>", "b@y"}, "a@x"},
        {{"-f", "<>", "b@y"}, ""},
        {{"-f", "", "b@y"}, ""},
        {{"-f", "root", "b@y"}, "root@host.example"},
    };
    for (const auto& c : cases) EXPECT_EQ(prepared(parsed(c.args), "\nb\n").sender, c.want) << join(c.args);
}

TEST(SendmailPrepare, FullNameEncoding) {
    EXPECT_NE(prepared(parsed({"-F", "Q \"x\" \\", "b@y"}), "\nb\n").data.find("From: \"Q \\\"x\\\" \\\\\" <ana@host.example>"),
              std::string::npos);
    EXPECT_NE(prepared(parsed({"-F", "Jos\xc3\xa9", "b@y"}), "\nb\n").data.find("From: =?UTF-8?B?Sm9zw6k=?= <ana@host.example>"),
              std::string::npos);
}

TEST(SendmailPrepare, EightBit) {
    EXPECT_FALSE(prepared(parsed({"b@y"}), "\nplain\n").eight_bit);
    EXPECT_TRUE(prepared(parsed({"b@y"}), "\ncaf\xc3\xa9\n").eight_bit);
    EXPECT_TRUE(prepared(parsed({"-B8BITMIME", "b@y"}), "\nplain\n").eight_bit);
}

TEST(SendmailPrepare, Refusals) {
    struct Case { std::vector<std::string> args; std::string input; std::string login; int code; std::string want; };
    const Case cases[] = {
        {{}, "To: a@x\n\nb\n", "ana", ex_dataerr, "no recipients: give them as arguments"},
        {{"-t"}, "Subject: none\n\nb\n", "ana", ex_dataerr, "no recipients: the message has no To"},
        {{"-t"}, "To: undisclosed-recipients:;\n\nb\n", "ana", ex_dataerr, "no recipients"},
        {{"b@y"}, "\nb\n", "", ex_nouser, "no login name for this user: give the sender with -f"},
        {{"-F", "Evil\r\nBcc: x@y", "b@y"}, "\nb\n", "ana", ex_usage, "-F: the full name contains control"},
        {{"-f", "a@x, b@y", "c@z"}, "\nb\n", "ana", ex_usage, "-f takes one address"},
        {{"-f", "a b@x", "c@z"}, "\nb\n", "ana", ex_dataerr, "bad sender address"},
        {{"-f", "a@x\r\nRCPT TO:<d@w>", "c@z"}, "\nb\n", "ana", ex_dataerr, "bad sender address"},
        {{"c@z\r\nRCPT TO:<d@w>"}, "\nb\n", "ana", ex_dataerr, "bad recipient address"},
    };
    for (const auto& c : cases) {
        Context ctx = context();
        ctx.login = c.login;
        const auto result = prepare(parsed(c.args), c.input, ctx);
        const auto* error = std::get_if<DataError>(&result);
        ASSERT_NE(error, nullptr) << join(c.args) << ": accepted, want \"" << c.want << "\"";
        EXPECT_EQ(error->exit_code, c.code) << join(c.args) << ": " << error->message;
        EXPECT_TRUE(error->message.starts_with(c.want))
            << join(c.args) << ": got \"" << error->message << "\", want it to start with \"" << c.want << "\"";
    }
}

}  // namespace
}  // namespace cartero::cli::sendmail
