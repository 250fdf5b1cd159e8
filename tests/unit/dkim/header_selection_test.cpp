#include "dkim/header_selection.hpp"

#include <gtest/gtest.h>

namespace cartero::dkim {
namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ":") + name;
    return out;
}

std::vector<HeaderField> fields_of(std::string_view message) {
    return std::get<ParsedMessage>(parse_message(message)).fields;
}

struct SelectionCase {
    std::string_view message;
    std::string_view want_h;
};

TEST(SelectHeaders, Table) {
    const SelectionCase cases[] = {
        // Only From present: From is oversigned, and so are the absent Reply-To, Subject, To and Cc.
        {"From: a@b\r\n\r\n", "from:from:reply-to:subject:to:cc"},
        // Received, Return-Path, X- fields and DKIM-Signature are never signed.
        {"Received: x\r\nReturn-Path: <a@b>\r\nDKIM-Signature: v=1\r\nX-Mailer: m\r\nFrom: a@b\r\n\r\n",
         "from:from:reply-to:subject:to:cc"},
        {"From: a@b\r\nTo: c@d\r\nSubject: s\r\nDate: d\r\nMessage-ID: <m>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain\r\nList-Unsubscribe: <u>\r\nList-Unsubscribe-Post: x\r\n\r\n",
         "from:from:reply-to:subject:subject:date:to:to:cc:message-id:mime-version:content-type:"
         "list-unsubscribe:list-unsubscribe-post"},
        // Several From fields: each listed, plus one.
        {"From: a@b\r\nFROM: c@d\r\n\r\n", "from:from:from:reply-to:subject:to:cc"},
        // Not oversigned names appear once per instance, never for absent ones.
        {"From: a@b\r\nReferences: <1>\r\nReferences: <2>\r\nIn-Reply-To: <2>\r\n\r\n",
         "from:from:reply-to:subject:to:cc:in-reply-to:references:references"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(joined(select_headers(fields_of(c.message)).names), c.want_h) << "message \"" << c.message << "\"";
    }
}

// RFC 6376 5.4.2: instances are picked from the bottom up, one per listing;
// listings past the last instance pick nothing.
TEST(PickFields, BottomUpPerName) {
    const auto fields = fields_of("From: 1\r\nTo: t\r\nFrom: 2\r\nSubject: s\r\n\r\n");
    const auto picked = pick_fields(fields, {"from", "subject", "from", "from", "to", "x-absent"});
    ASSERT_EQ(picked.size(), 4u);
    EXPECT_EQ(picked[0].value, " 2");
    EXPECT_EQ(picked[1].value, " s");
    EXPECT_EQ(picked[2].value, " 1");
    EXPECT_EQ(picked[3].value, " t");
}

TEST(SelectHeaders, FieldsFollowNames) {
    const auto fields = fields_of("Received: r\r\nFrom: first\r\nSubject: s\r\nFrom: second\r\n\r\n");
    const auto selection = select_headers(fields);
    ASSERT_EQ(selection.fields.size(), 3u);
    EXPECT_EQ(selection.fields[0].value, " second");
    EXPECT_EQ(selection.fields[1].value, " first");
    EXPECT_EQ(selection.fields[2].value, " s");
}

TEST(CountFields, CaseInsensitive) {
    const auto fields = fields_of("from: a\r\nFROM: b\r\nFrom: c\r\nX: y\r\n\r\n");
    EXPECT_EQ(count_fields(fields, "From"), 3u);
    EXPECT_EQ(count_fields(fields, "to"), 0u);
}

}  // namespace
}  // namespace cartero::dkim
