// compose(): every message is parsed back with GMime's own parser and its
// fields, body and attachments compared with what went in (non-ASCII included).
#include "cli/outgoing_message.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace cartero::cli {
namespace {

struct Unref {
    void operator()(void* object) const { g_object_unref(object); }
};
template <typename T>
using Ref = std::unique_ptr<T, Unref>;

Ref<GMimeMessage> parse(const std::string& text) {
    Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
    Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    return Ref<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

// The decoded content of a leaf part.
std::string content_of(GMimeObject* object) {
    GMimeDataWrapper* wrapper = g_mime_part_get_content(GMIME_PART(object));
    Ref<GMimeStream> out(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(wrapper, out.get());
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::string raw_header(GMimeObject* object, const char* name) {
    const char* value = g_mime_object_get_header(object, name);
    return value == nullptr ? std::string() : value;
}

OutgoingMessage sample() {
    OutgoingMessage m;
    m.from_address = "ana@example.com";
    m.from_name = "Ana Núñez";
    m.to = {"bob@example.org"};
    m.subject = "Prueba de envío — ñandú";
    m.body = "Hola,\nesto es una prueba: ñandú.\n";
    m.date = 1796464800;  // 2026-12-05 10:00:00 UTC
    m.utc_offset = 3600;
    return m;
}

TEST(ComposeTest, HeadersDecodeToTheOriginals) {
    const std::string text = compose(sample());
    auto parsed = parse(text);
    ASSERT_TRUE(parsed);
    EXPECT_STREQ(g_mime_message_get_subject(parsed.get()), "Prueba de envío — ñandú");
    InternetAddressList* from = g_mime_message_get_from(parsed.get());
    ASSERT_EQ(internet_address_list_length(from), 1);
    InternetAddress* sender = internet_address_list_get_address(from, 0);
    EXPECT_STREQ(internet_address_get_name(sender), "Ana Núñez");
    EXPECT_STREQ(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(sender)), "ana@example.com");
    InternetAddressList* to = g_mime_message_get_addresses(parsed.get(), GMIME_ADDRESS_TYPE_TO);
    ASSERT_EQ(internet_address_list_length(to), 1);
    EXPECT_STREQ(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(to, 0))),
                 "bob@example.org");
    // RFC 2047: the fields on the wire are encoded words in UTF-8, not 8-bit text.
    const auto subject_at = text.find("\r\nSubject: ");
    ASSERT_NE(subject_at, std::string::npos);
    const std::string raw_subject = text.substr(subject_at + 2, text.find("\r\n", subject_at + 2) - subject_at - 2);
    EXPECT_NE(raw_subject.find("=?UTF-8?"), std::string::npos) << "got " << raw_subject;
    const auto from_at = text.find("\r\nFrom: ");
    ASSERT_NE(from_at, std::string::npos);
    EXPECT_EQ(text.substr(from_at + 2, text.find("\r\n", from_at + 2) - from_at - 2).find("=?"), 10u);
    EXPECT_EQ(raw_header(GMIME_OBJECT(parsed.get()), "Date"), "Sat, 05 Dec 2026 11:00:00 +0100");
    EXPECT_EQ(raw_header(GMIME_OBJECT(parsed.get()), "MIME-Version"), "1.0");
    const std::string id = g_mime_message_get_message_id(parsed.get());
    EXPECT_TRUE(id.ends_with("@example.com")) << "got " << id;
}

TEST(ComposeTest, SevenBitCrlfAndShortLines) {
    OutgoingMessage m = sample();
    m.body = std::string(5000, 'x') + "\nñ\r\nend";
    m.attachments.push_back({"a.bin", std::string(3000, '\xff'), "application/octet-stream"});
    const std::string text = compose(m);
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        ASSERT_NE(end, std::string::npos) << "the message must end with CRLF";
        ASSERT_GT(end, start) << "bare LF at " << start;
        EXPECT_EQ(text[end - 1], '\r') << "bare LF at " << end;
        EXPECT_LE(end - 1 - start, 998u) << "line at " << start;  // RFC 5322 2.1.1
        start = end + 1;
    }
    for (const char c : text) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << "8-bit octet in the message";
    auto parsed = parse(text);
    GMimeObject* body = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(parsed.get())), 0);
    EXPECT_EQ(g_mime_part_get_content_encoding(GMIME_PART(body)), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    // Decoded from a CRLF message, the text has CRLF line ends.
    const std::string got = content_of(body);
    const std::string want = std::string(5000, 'x') + "\r\nñ\r\nend\r\n";
    EXPECT_TRUE(got == want) << "the text did not decode to the original; got ..."
                             << ::testing::PrintToString(got.substr(got.size() > 20 ? got.size() - 20 : 0));
}

TEST(ComposeTest, PlainAsciiBodyIsSevenBitTextPlainUtf8) {
    OutgoingMessage m = sample();
    m.body = "short ascii line\n";
    auto parsed = parse(compose(m));
    GMimeObject* body = g_mime_message_get_mime_part(parsed.get());
    ASSERT_TRUE(GMIME_IS_TEXT_PART(body));
    EXPECT_EQ(raw_header(body, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(g_mime_part_get_content_encoding(GMIME_PART(body)), GMIME_CONTENT_ENCODING_7BIT);
}

TEST(ComposeTest, AttachmentsDecodeByteForByteWithTheirNames) {
    OutgoingMessage m = sample();
    std::string pdf = "%PDF-1.4\n";
    for (int i = 0; i < 256; ++i) pdf += static_cast<char>(i);
    m.attachments.push_back({"Prueba de envío — ñandú.pdf", pdf, "application/pdf"});
    m.attachments.push_back({"notes.txt", "plain notes\n", ""});
    const std::string text = compose(m);
    EXPECT_NE(text.find("filename*=UTF-8''Prueba%20de%20env%C3%ADo"), std::string::npos);  // RFC 2231
    auto parsed = parse(text);
    GMimeObject* top = g_mime_message_get_mime_part(parsed.get());
    ASSERT_TRUE(GMIME_IS_MULTIPART(top));
    EXPECT_STREQ(g_mime_content_type_get_mime_type(g_mime_object_get_content_type(top)), "multipart/mixed");
    GMimeMultipart* mixed = GMIME_MULTIPART(top);
    ASSERT_EQ(g_mime_multipart_get_count(mixed), 3);
    struct Want {
        const char* name;
        std::string bytes;
        const char* type;
    };
    const std::vector<Want> wants{{"Prueba de envío — ñandú.pdf", pdf, "application/pdf"},
                                  {"notes.txt", "plain notes\n", "application/octet-stream"}};
    for (std::size_t i = 0; i < wants.size(); ++i) {
        GMimePart* part = GMIME_PART(g_mime_multipart_get_part(mixed, static_cast<int>(i) + 1));
        EXPECT_STREQ(g_mime_part_get_filename(part), wants[i].name);
        EXPECT_EQ(g_mime_part_get_content_encoding(part), GMIME_CONTENT_ENCODING_BASE64);
        EXPECT_EQ(content_of(GMIME_OBJECT(part)), wants[i].bytes) << wants[i].name;
        char* type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(GMIME_OBJECT(part)));
        EXPECT_STREQ(type, wants[i].type);
        g_free(type);
    }
}

TEST(ComposeTest, MessageIdDomainIsTheSenders) {
    struct Case {
        std::string address, want;
    };
    for (const auto& c : std::vector<Case>{{"a@example.com", "example.com"}, {"x@y@z.org", "z.org"},
                                           {"nobody", "localhost"}, {"trailing@", "localhost"}})
        EXPECT_EQ(message_id_domain(c.address), c.want) << c.address;
}

TEST(ComposeTest, MailboxesSplitIntoNameAndAddress) {
    struct Case {
        std::string text, name, address;
    };
    for (const auto& c : std::vector<Case>{{"ana@example.com", "", "ana@example.com"},
                                           {"Ana Núñez <ana@example.com>", "Ana Núñez", "ana@example.com"},
                                           {"\"Núñez, Ana\" <ana@example.com>", "Núñez, Ana", "ana@example.com"}}) {
        const auto got = parse_mailbox(c.text);
        ASSERT_TRUE(got) << c.text;
        EXPECT_EQ(got->name, c.name) << c.text;
        EXPECT_EQ(got->address, c.address) << c.text;
    }
    for (const char* bad : {"", "nobody", "a@b.com, c@d.com", "Group: a@b.com;"})
        EXPECT_FALSE(parse_mailbox(bad)) << bad;
}

TEST(ComposeTest, ContentTypeFromTheBytes) {
    EXPECT_EQ(content_type_of("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "application/pdf");
    EXPECT_EQ(content_type_of(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), "image/png");
    EXPECT_EQ(content_type_of("just some words\n"), "text/plain");
}

}  // namespace
}  // namespace cartero::cli
