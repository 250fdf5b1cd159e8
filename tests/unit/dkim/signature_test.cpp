#include "dkim/signature.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cartero::dkim {
namespace {

std::vector<std::string_view> lines_of(std::string_view header) {
    std::vector<std::string_view> lines;
    for (std::size_t at = 0; at < header.size();) {
        const std::size_t end = header.find("\r\n", at);
        lines.push_back(header.substr(at, end - at));
        at = end + 2;
    }
    return lines;
}

// tag -> value with all whitespace removed (what a verifier compares).
std::map<std::string, std::string> tags_of(std::string_view header) {
    std::string value(header.substr(header.find(':') + 1));
    std::erase_if(value, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
    std::map<std::string, std::string> tags;
    for (std::size_t at = 0; at < value.size();) {
        const std::size_t end = std::min(value.find(';', at), value.size());
        const std::string tag = value.substr(at, end - at);
        tags[tag.substr(0, tag.find('='))] = tag.substr(tag.find('=') + 1);
        at = end + 1;
    }
    return tags;
}

SignatureTags sample_tags(std::string_view domain) {
    return SignatureTags{"rsa-sha256", domain, "20250612-rsa", 1749700000,
                         {"from", "from", "reply-to", "subject", "subject", "date", "to", "to", "cc", "cc",
                          "message-id", "mime-version", "content-type", "content-transfer-encoding"},
                         "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="};
}

TEST(SignatureHeader, FoldedAtMost78WithTabContinuations) {
    const std::string signature(344, 'A');
    for (const std::string_view domain : {"example.org", "a-much-longer-subdomain.of-an-organisation.example.com"}) {
        const std::string header = signature_header(sample_tags(domain), signature);
        ASSERT_TRUE(header.ends_with("\r\n"));
        const auto lines = lines_of(header);
        ASSERT_GT(lines.size(), 3u);
        EXPECT_TRUE(lines[0].starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;"));
        for (std::size_t i = 0; i < lines.size(); ++i) {
            EXPECT_LE(lines[i].size(), kFoldWidth) << "line " << i << ": " << lines[i];
            if (i > 0) {
                EXPECT_EQ(lines[i].front(), '\t') << "line " << i;
            }
            EXPECT_NE(lines[i].back(), ' ') << "line " << i;
        }
    }
}

TEST(SignatureHeader, TagsSurviveFolding) {
    const std::string signature(344, 'Q');
    const auto tags = tags_of(signature_header(sample_tags("example.org"), signature));
    EXPECT_EQ(tags.at("v"), "1");
    EXPECT_EQ(tags.at("a"), "rsa-sha256");
    EXPECT_EQ(tags.at("c"), "relaxed/relaxed");
    EXPECT_EQ(tags.at("d"), "example.org");
    EXPECT_EQ(tags.at("s"), "20250612-rsa");
    EXPECT_EQ(tags.at("t"), "1749700000");
    EXPECT_EQ(tags.at("h"), "from:from:reply-to:subject:subject:date:to:to:cc:cc:message-id:mime-version:"
                            "content-type:content-transfer-encoding");
    EXPECT_EQ(tags.at("bh"), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    EXPECT_EQ(tags.at("b"), signature);
}

TEST(SignatureHeader, BStartsItsOwnLine) {
    const auto lines = lines_of(signature_header(sample_tags("example.org"), "abcd"));
    EXPECT_EQ(lines.back(), "\tb=abcd");
}

// RFC 6376 3.7: the selected fields, then this signature with b= empty, relaxed,
// without the final CRLF.
TEST(SignedHeaderData, FieldsThenOwnFieldWithEmptyB) {
    const std::vector<HeaderField> selected = {{"From", " A <a@example.org>"}, {"Subject", "  Hi\r\n there"}};
    const std::string data = signed_header_data(selected, sample_tags("example.org"));
    EXPECT_TRUE(data.starts_with("from:A <a@example.org>\r\nsubject:Hi there\r\ndkim-signature:v=1; a=rsa-sha256; "
                                 "c=relaxed/relaxed; d=example.org; s=20250612-rsa; t=1749700000; h=from:from:"))
        << data;
    EXPECT_TRUE(data.ends_with("; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=")) << data;
    EXPECT_EQ(data.find("\r\n", data.find("dkim-signature")), std::string::npos);
}

TEST(Base64, Rfc4648Vectors) {
    EXPECT_EQ(base64(""), "");
    EXPECT_EQ(base64("f"), "Zg==");
    EXPECT_EQ(base64("fo"), "Zm8=");
    EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace cartero::dkim
