// Logging setup: see logging.hpp.
#include "observe/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
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

// log.file, appended to, and opened again by name on SIGHUP (log rotation).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit ReopenableFileSink(std::filesystem::path path) : path_(std::move(path)), file_(open(path_)) {
        if (file_ == nullptr)
            throw spdlog::spdlog_ex("cannot open log file " + path_.string() + ": " + std::strerror(errno));
    }
    ~ReopenableFileSink() override { std::fclose(file_); }

    std::optional<std::string> reopen() {
        std::FILE* fresh = open(path_);
        if (fresh == nullptr) return "cannot open log file " + path_.string() + ": " + std::strerror(errno);
        std::lock_guard lock(mutex_);
        std::fclose(std::exchange(file_, fresh));
        return std::nullopt;
    }

private:
    static std::FILE* open(const std::filesystem::path& path) { return std::fopen(path.c_str(), "ae"); }

    void sink_it_(const spdlog::details::log_msg& message) override {
        spdlog::memory_buf_t line;
        formatter_->format(message, line);
        std::fwrite(line.data(), 1, line.size(), file_);
    }
    void flush_() override { std::fflush(file_); }

    std::filesystem::path path_;
    std::FILE* file_;  // guarded by mutex_ (base_sink's)
};

// The file sink of the logger init_logging made, if it writes to a file.
std::shared_ptr<ReopenableFileSink> current_file_sink;

spdlog::sink_ptr make_sink(const std::filesystem::path& file) {
    if (file.empty()) {
        current_file_sink.reset();
        return std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
    current_file_sink = std::make_shared<ReopenableFileSink>(file);
    return current_file_sink;
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

std::optional<std::string> reopen_log_file() {
    if (!current_file_sink) return std::nullopt;
    return current_file_sink->reopen();
}

void security_event(std::string_view session_id, std::string_view event, std::string_view client_ip,
                    std::string_view details) {
    const std::string_view client = client_ip.empty() ? std::string_view("local") : client_ip;
    if (details.empty())
        spdlog::warn("{}: security: event={} client={}", session_id, event, client);
    else
        spdlog::warn("{}: security: event={} client={} {}", session_id, event, client, details);
}

}  // namespace cartero::observe
