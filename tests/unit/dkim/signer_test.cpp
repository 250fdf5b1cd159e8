#include "dkim/signer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "temp_keys.hpp"

namespace cartero::dkim {
namespace {

using testing::TempKeyDir;

constexpr std::int64_t kTime = 1749700000;

const std::string kMessage =
    "Received: from client (127.0.0.1) by mx.example.org (cartero) with ESMTPSA id 1; Thu, 12 Jun 2025 "
    "10:00:00 +0000\r\n"
    "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\n\r\nHi Bob.\r\n";

std::size_t count_of(std::string_view text, std::string_view what) {
    std::size_t count = 0;
    for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

TEST(Signer, OneSignaturePerKeyOfTheDomain) {
    TempKeyDir dir;
    dir.add("example.org", "r1", KeyAlgorithm::rsa);
    dir.add("example.org", "e1", KeyAlgorithm::ed25519);
    dir.add("other.example", "x", KeyAlgorithm::ed25519);
    auto loaded = Signer::load(dir.path());
    EXPECT_TRUE(loaded.problems.empty());
    ASSERT_EQ(loaded.signer.keys().size(), 3u);

    const SignResult result = loaded.signer.sign(kMessage, "EXAMPLE.org", kTime);
    ASSERT_TRUE(result.is_signed()) << result.detail;
    EXPECT_EQ(count_of(result.headers, "DKIM-Signature:"), 2u);
    EXPECT_TRUE(result.headers.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=e1;"))
        << result.headers;
    const std::string rsa = result.headers.substr(result.headers.find("DKIM-Signature:", 1));
    for (const std::string_view tag : {" a=rsa-sha256;", " d=example.org;", " s=r1;", "t=1749700000;"}) {
        EXPECT_NE(rsa.find(tag), std::string::npos) << tag << " in " << rsa;
    }
    EXPECT_EQ(result.headers.find("received"), std::string::npos);  // cartero's Received is not signed
    EXPECT_TRUE(result.headers.ends_with("\r\n"));
}

TEST(Signer, ReasonsForNotSigning) {
    TempKeyDir dir;
    dir.add("example.org", "e1", KeyAlgorithm::ed25519);
    const Signer signer = Signer::load(dir.path()).signer;

    struct Case {
        std::string message;
        std::string domain;
        Unsigned want;
        std::string detail_contains;
    };
    const Case cases[] = {
        {kMessage, "example.net", Unsigned::no_key, "no key for example.net in " + dir.path().string()},
        {"To: b@example.net\r\nSubject: x\r\n\r\nbody\r\n", "example.org", Unsigned::no_from, "no From"},
        {"From: a@example.org\r\nTo: b\nSubject: x\r\n\r\n", "example.org", Unsigned::malformed, "bare CR or LF on line 2"},
        {"From: a@example.org\r\ngarbage\r\n\r\n", "example.org", Unsigned::malformed, "line 2"},
        {"", "example.org", Unsigned::no_from, "no From"},
    };
    for (const auto& c : cases) {
        const SignResult result = signer.sign(c.message, c.domain, kTime);
        ASSERT_FALSE(result.is_signed()) << c.message;
        EXPECT_EQ(*result.why_not, c.want) << c.message << ": got " << to_string(*result.why_not);
        EXPECT_NE(result.detail.find(c.detail_contains), std::string::npos) << "got \"" << result.detail << "\"";
        EXPECT_TRUE(result.headers.empty());
    }
    const SignResult disabled = Signer::disabled().sign(kMessage, "example.org", kTime);
    EXPECT_EQ(disabled.why_not, Unsigned::disabled);
}

TEST(Signer, UnusableFilesAreReportedAndLeftOut) {
    TempKeyDir dir;
    dir.add("example.org", "good", KeyAlgorithm::ed25519);
    dir.add("example.org", "open", KeyAlgorithm::ed25519);
    ::chmod(dir.file("example.org", "open").c_str(), 0644);
    std::ofstream(dir.file("example.org", "junk")) << "not a key";
    ::chmod(dir.file("example.org", "junk").c_str(), 0600);
    std::filesystem::create_directories(dir.path() / "not_a_domain!");
    std::ofstream(dir.path() / "example.org" / "README.txt") << "ignored: not *.key";

    const auto loaded = Signer::load(dir.path());
    ASSERT_EQ(loaded.signer.keys().size(), 1u);
    EXPECT_EQ(loaded.signer.keys()[0].selector, "good");
    ASSERT_EQ(loaded.problems.size(), 3u);
    std::string all;
    for (const auto& problem : loaded.problems) all += problem.message + "\n";
    EXPECT_NE(all.find("chmod 600 " + dir.file("example.org", "open").string()), std::string::npos) << all;
    EXPECT_NE(all.find("junk.key: not a PEM private key"), std::string::npos) << all;
    EXPECT_NE(all.find("not a domain name"), std::string::npos) << all;
}

TEST(Signer, MissingDirectoryMeansNoKeys) {
    const auto loaded = Signer::load("/nonexistent/cartero-dkim-test");
    EXPECT_TRUE(loaded.problems.empty());
    EXPECT_TRUE(loaded.signer.keys().empty());
    EXPECT_FALSE(loaded.signer.has_key("example.org"));
}

// RSA PKCS#1 v1.5 and Ed25519 are deterministic, so every thread must get the
// same result; run under TSan/ASan builds this also checks for data races.
TEST(Signer, ConcurrentSigningGivesIdenticalSignatures) {
    TempKeyDir dir;
    dir.add("example.org", "r1", KeyAlgorithm::rsa);
    dir.add("example.org", "e1", KeyAlgorithm::ed25519);
    const Signer signer = Signer::load(dir.path()).signer;
    const std::string want = signer.sign(kMessage, "example.org", kTime).headers;
    ASSERT_FALSE(want.empty());
    constexpr int kThreads = 4;
    constexpr int kRounds = 20;
    std::vector<std::string> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round) {
                const auto result = signer.sign(kMessage, "example.org", kTime);
                if (result.headers != want) got[t] = result.headers;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& mismatch : got) EXPECT_EQ(mismatch, "");
}

TEST(KeyDir, DataDirPlaceholderExpands) {
    config::Config config;
    config.data_dir = "/srv/cartero";
    EXPECT_EQ(key_dir(config), std::filesystem::path("/srv/cartero/dkim"));
    config.dkim.key_dir = "/etc/cartero/dkim";
    EXPECT_EQ(key_dir(config), std::filesystem::path("/etc/cartero/dkim"));
    config.dkim.enabled = false;
    EXPECT_EQ(load_signer(config).signer.sign(kMessage, "example.org", kTime).why_not, Unsigned::disabled);
}

}  // namespace
}  // namespace cartero::dkim
