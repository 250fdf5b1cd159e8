// Logging setup: see logging.hpp.
#include "observe/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>
#include <string>
#include <utility>

namespace cartero::observe {
namespace {

// The names config accepts for log.level; spdlog's own from_str would map an
// unknown name to "off" and silence the log.
constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 5> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
}};

spdlog::level::level_enum level_from_name(std::string_view name) {
    for (const auto& [known, level] : kLevels) {
        if (known == name) {
            return level;
        }
    }
    throw std::invalid_argument("unknown log level \"" + std::string(name) + "\"");
}

spdlog::sink_ptr make_sink(const std::filesystem::path& file) {
    if (file.empty()) {
        return std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
    return std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), /*truncate=*/false);
}

}  // namespace

void init_logging(std::string_view level, const std::filesystem::path& file) {
    const spdlog::level::level_enum threshold = level_from_name(level);
    auto logger = std::make_shared<spdlog::logger>("cartero", make_sink(file));
    logger->set_pattern(std::string(kLinePattern), spdlog::pattern_time_type::utc);
    logger->set_level(threshold);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
}

void set_log_level(std::string_view level) { spdlog::default_logger()->set_level(level_from_name(level)); }

}  // namespace cartero::observe
