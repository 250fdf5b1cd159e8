// Shared by the spool tests: a fresh spool directory and synchronous commits.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include "spool/spool.hpp"

namespace cartero::spool::testing {

inline std::filesystem::path fresh_directory(const std::string& name) {
    auto path = std::filesystem::temp_directory_path() / ("cartero-spool-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    return path;
}

inline Envelope envelope_to(std::vector<std::string> recipients) {
    return Envelope{"sender@example.org", std::move(recipients), "sender@example.org", true, false, 1700000000};
}

// Commits and waits for the completion; returns the queue ID.
inline std::string commit_now(Spool& spool, const std::string& data, std::vector<std::string> recipients = {"a@x"}) {
    std::promise<std::error_code> done;
    const std::string id = spool.new_id();
    spool.commit(id, envelope_to(std::move(recipients)), std::make_shared<const std::string>(data),
                 [&done](std::error_code error) { done.set_value(error); });
    const std::error_code error = done.get_future().get();
    if (error) throw std::system_error(error, "commit");
    return id;
}

inline FsSpoolOptions small_segments(const std::filesystem::path& directory, std::uint64_t size = 1 << 20) {
    FsSpoolOptions options;
    options.directory = directory;
    options.segment_size = size;
    options.done_linger = std::chrono::milliseconds(1);
    return options;
}

}  // namespace cartero::spool::testing
