// A temporary key directory for one test, removed afterwards. Test support for tests/unit/dkim only.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "dkim/key.hpp"

namespace cartero::dkim::testing {

class TempKeyDir {
public:
    TempKeyDir() {
        std::random_device random;
        path_ = std::filesystem::path(::testing::TempDir()) / ("cartero-dkim-" + std::to_string(random()));
        std::filesystem::create_directories(path_);
    }
    ~TempKeyDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempKeyDir(const TempKeyDir&) = delete;
    TempKeyDir& operator=(const TempKeyDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

    // Generates a key and writes it as <dir>/<domain>/<selector>.key; returns it.
    PrivateKey add(std::string_view domain, std::string_view selector, KeyAlgorithm algorithm) const {
        auto generated = generate_key(algorithm);
        EXPECT_TRUE(std::holds_alternative<PrivateKey>(generated));
        const auto& key = std::get<PrivateKey>(generated);
        const auto problem = write_key_file(file(domain, selector), key.pem(), false);
        EXPECT_FALSE(problem) << problem->message;
        return key;
    }

    std::filesystem::path file(std::string_view domain, std::string_view selector) const {
        return path_ / std::string(domain) / (std::string(selector) + ".key");
    }

private:
    std::filesystem::path path_;
};

}  // namespace cartero::dkim::testing
