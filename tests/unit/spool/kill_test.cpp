// A child process commits in a loop and is killed with SIGKILL; every message
// whose commit callback ran (the child reports its ID on a pipe) must be
// recovered by the parent.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "base/file_io.hpp"
#include "spool_fixture.hpp"

namespace cartero::spool {
namespace {

[[noreturn]] void commit_forever(const std::filesystem::path& directory, int report) {
    auto spool = open_fs_spool(testing::small_segments(directory, 256 * 1024));
    spool->recover();
    std::vector<std::thread> sessions;
    for (int t = 0; t < 4; ++t)
        sessions.emplace_back([&spool, report] {
            for (;;) {
                const std::string id = spool->new_id();
                std::promise<void> acknowledged;
                spool->commit(id, testing::envelope_to({"a@x"}), std::make_shared<const std::string>(std::string(5000, 'k')),
                              [&](std::error_code error) {
                                  if (!error) (void)base::write_all(report, id + "\n");
                                  acknowledged.set_value();
                              });
                acknowledged.get_future().wait();
            }
        });
    for (auto& session : sessions) session.join();
    ::_exit(0);
}

TEST(FsSpoolKill, EveryAcknowledgedMessageSurvivesSigkill) {
    const auto directory = testing::fresh_directory("kill");
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        commit_forever(directory, fds[1]);
    }
    ::close(fds[1]);
    std::string reported;
    char buffer[65536];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
    while (std::chrono::steady_clock::now() < deadline) {
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        reported.append(buffer, static_cast<std::size_t>(n));
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) reported.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);

    std::set<std::string> acknowledged;
    for (std::size_t start = 0, end; (end = reported.find('\n', start)) != std::string::npos; start = end + 1)
        acknowledged.insert(reported.substr(start, end - start));
    ASSERT_GT(acknowledged.size(), 10u) << "the child made too little progress to test anything";

    auto spool = open_fs_spool(testing::small_segments(directory));
    std::set<std::string> recovered;
    for (const auto& message : spool->recover()) {
        EXPECT_EQ(message.data->size(), 5000u) << message.id;
        recovered.insert(message.id);
    }
    spool->close();
    for (const auto& id : acknowledged) EXPECT_TRUE(recovered.contains(id)) << "acknowledged " << id << " was lost";
    std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace cartero::spool
