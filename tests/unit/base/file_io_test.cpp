#include "base/file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace cartero::base {
namespace {

std::filesystem::path fresh_directory(const std::string& name) {
    auto path = std::filesystem::temp_directory_path() / ("cartero-base-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path;
}

TEST(FileIo, PwritevAllWritesManyBuffersInOrder) {
    const auto directory = fresh_directory("pwritev");
    std::error_code error;
    UniqueFd fd = open_file(directory / "f", O_RDWR | O_CREAT, error);
    ASSERT_FALSE(error) << error.message();
    // More buffers than IOV_MAX (1024 on Linux), so the call has to be split.
    std::vector<std::string> pieces;
    std::string want;
    for (int i = 0; i < 3000; ++i) {
        pieces.push_back(std::to_string(i) + ",");
        want += pieces.back();
    }
    std::vector<iovec> buffers;
    for (auto& piece : pieces) buffers.push_back(iovec{piece.data(), piece.size()});
    ASSERT_FALSE(pwritev_all(fd.get(), buffers, 5));
    std::string got;
    ASSERT_FALSE(read_whole(fd.get(), got));
    EXPECT_EQ(got, std::string(5, '\0') + want);
    EXPECT_FALSE(fsync_directory(directory));
    std::filesystem::remove_all(directory);
}

TEST(FileIo, ErrorsAreReturnedNotThrown) {
    std::error_code error;
    UniqueFd fd = open_file("/nonexistent/cartero/file", O_RDONLY, error);
    EXPECT_FALSE(fd);
    EXPECT_EQ(error, std::errc::no_such_file_or_directory) << "got " << error.message();
    EXPECT_EQ(fsync_directory("/nonexistent/cartero"), std::errc::no_such_file_or_directory);
    char byte;
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    write_end.reset();
    EXPECT_EQ(pread_exact(read_end.get(), &byte, 1, 0), std::errc::invalid_seek);
}

}  // namespace
}  // namespace cartero::base
