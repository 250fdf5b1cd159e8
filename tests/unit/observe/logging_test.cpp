#include "observe/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace cartero::observe {
namespace {

class LogFile : public ::testing::Test {
protected:
    void TearDown() override {
        spdlog::drop_all();
        std::filesystem::remove(path_);
    }
    std::string contents() const {
        std::ifstream in(path_);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    const std::filesystem::path path_ =
        std::filesystem::path(::testing::TempDir()) / ("cartero-log-" + std::to_string(getpid()) + ".log");
};

TEST_F(LogFile, OneGreppableLinePerEvent) {
    init_logging("info", path_);
    spdlog::info("s0000002a: connect from [192.0.2.1]:50000");
    spdlog::warn("disk almost full");
    const std::string pid = std::to_string(getpid());
    const std::regex want(
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z cartero\\[" + pid +
        "\\]: info: s0000002a: connect from \\[192\\.0\\.2\\.1\\]:50000\n"
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z cartero\\[" + pid + "\\]: warning: disk almost full\n");
    const std::string got = contents();  // no flush needed: every line is flushed
    EXPECT_TRUE(std::regex_match(got, want)) << "got:\n" << got;
}

TEST_F(LogFile, LevelFiltersLessSevereLines) {
    const struct {
        std::string_view level;
        bool want_debug, want_info, want_error;
    } cases[] = {
        {"trace", true, true, true},
        {"debug", true, true, true},
        {"info", false, true, true},
        {"warn", false, false, true},
        {"error", false, false, true},
    };
    for (const auto& c : cases) {
        std::filesystem::remove(path_);
        init_logging(c.level, path_);
        spdlog::debug("d-line");
        spdlog::info("i-line");
        spdlog::error("e-line");
        const std::string got = contents();
        EXPECT_EQ(got.find("d-line") != std::string::npos, c.want_debug) << c.level << ": debug line\n" << got;
        EXPECT_EQ(got.find("i-line") != std::string::npos, c.want_info) << c.level << ": info line\n" << got;
        EXPECT_EQ(got.find("e-line") != std::string::npos, c.want_error) << c.level << ": error line\n" << got;
        spdlog::drop_all();
    }
}

TEST(InitLogging, RefusesUnknownLevels) {
    for (std::string_view level : {"", "verbose", "warning", "INFO", "off", "critical"}) {
        EXPECT_THROW(init_logging(level), std::invalid_argument) << "\"" << level << "\"";
    }
}

}  // namespace
}  // namespace cartero::observe
