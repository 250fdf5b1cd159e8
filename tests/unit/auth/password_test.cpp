// Passwords: argon2id round trip, imported crypt hashes, the new-password rule,
// app password format and digest, and the key file.
#include "auth/password.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

namespace cartero::auth {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "cartero-auth-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

TEST(Password, Argon2idRoundTrip) {
    const auto hash = hash_password("correct horse");
    EXPECT_TRUE(hash.starts_with("$argon2id$")) << "got " << hash;
    EXPECT_TRUE(verify_password("correct horse", hash));
    EXPECT_FALSE(verify_password("correct horsE", hash));
    EXPECT_FALSE(verify_password("", hash));
    EXPECT_NE(hash_password("correct horse"), hash) << "each hash must have its own salt";
}

// Vectors made with `openssl passwd -6/-5 -salt saltsalt` and libxcrypt bcrypt.
TEST(Password, ImportedCryptHashes) {
    struct Case { std::string password, stored; bool want; };
    const std::string sha512 =
        "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/uamSo5z0";
    const std::string sha256 = "$5$saltsalt$myjXcpMpE2Ofk7fj9hqyNYSn6lmWG4Mqnjx.KIRRr4/";
    const std::string bcrypt = "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";
    const Case cases[] = {
        {"correct horse", sha512, true},
        {"correct horsf", sha512, false},
        {"correct horse", sha256, true},
        {"Correct horse", sha256, false},
        {"correct horse", bcrypt, true},
        {"correct hors", bcrypt, false},
        {std::string("correct horse\0x", 15), sha512, false},  // NUL must not truncate
        {"correct horse", "$1$saltsalt$whatever", false},        // MD5-crypt: not accepted
        {"correct horse", "plaintext", false},
        {"", "", false},
        {"correct horse", "$6$", false},
    };
    for (const auto& c : cases) {
        const bool got = verify_password(c.password, c.stored);
        EXPECT_EQ(got, c.want) << "verify_password(" << c.password << ", " << c.stored << "): got " << got
                               << ", want " << c.want;
    }
    EXPECT_TRUE(supported_hash(sha512));
    EXPECT_TRUE(supported_hash(bcrypt));
    EXPECT_FALSE(supported_hash("$1$x$y"));
}

TEST(Password, NewPasswordRule) {
    struct Case { std::string password; bool ok; };
    const Case cases[] = {
        {"", false},
        {"1234567", false},
        {"12345678", true},
        {std::string("1234\0" "5678", 9), false},
        {"a long passphrase", true},
    };
    for (const auto& c : cases) {
        const auto problem = password_problem(c.password);
        EXPECT_EQ(!problem, c.ok) << "password_problem(" << c.password << "): got " << problem.value_or("ok")
                                  << ", want " << (c.ok ? "ok" : "a problem");
    }
}

TEST(AppPassword, FormatIsFourGroupsOfFourLetters) {
    for (int i = 0; i < 50; ++i) {
        const auto password = generate_app_password();
        ASSERT_EQ(password.size(), 19u) << "got " << password;
        for (std::size_t j = 0; j < password.size(); ++j) {
            const bool want_space = j % 5 == 4;
            EXPECT_EQ(password[j] == ' ', want_space) << "got " << password;
            if (!want_space) {
                EXPECT_TRUE(password[j] >= 'a' && password[j] <= 'z') << "got " << password;
            }
        }
    }
    EXPECT_NE(generate_app_password(), generate_app_password());
}

TEST(AppPassword, DigestIgnoresSpacesAndCaseAndDependsOnKey) {
    std::array<unsigned char, AppPasswordKey::size> bytes{};
    const AppPasswordKey key(bytes);
    bytes[0] = 1;
    const AppPasswordKey other_key(bytes);
    const auto digest = key.digest("abcd efgh ijkl mnop");
    EXPECT_EQ(digest.size(), 32u);
    EXPECT_TRUE(same_digest(digest, key.digest("abcdefghijklmnop")));
    EXPECT_TRUE(same_digest(digest, key.digest(" ABCD EFGH  ijkl mnop ")));
    EXPECT_FALSE(same_digest(digest, key.digest("abcd efgh ijkl mnoq")));
    EXPECT_FALSE(same_digest(digest, other_key.digest("abcd efgh ijkl mnop")));
    EXPECT_FALSE(same_digest(digest, digest.substr(1)));
}

TEST(AppPasswordKey, CreatedOncePrivateAndStable) {
    TempDir dir;
    const auto first = AppPasswordKey::load_or_create(dir.path());
    const auto path = dir.path() / "app-password.key";
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << "got mode " << std::oct << (info.st_mode & 0777) << ", want 600";
    EXPECT_EQ(info.st_size, 32);
    const auto second = AppPasswordKey::load_or_create(dir.path());
    EXPECT_TRUE(same_digest(first.digest("abcd"), second.digest("abcd"))) << "the key must survive a reload";
    const auto leftovers = std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{});
    EXPECT_EQ(leftovers, 1) << "no temp file may be left behind";
}

TEST(AppPasswordKey, RefusesAKeyOfTheWrongSize) {
    TempDir dir;
    std::ofstream(dir.path() / "app-password.key") << "short";
    EXPECT_THROW(AppPasswordKey::load_or_create(dir.path()), std::runtime_error);
}

}  // namespace
}  // namespace cartero::auth
