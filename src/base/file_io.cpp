// File I/O helpers; see file_io.hpp.
#include "base/file_io.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace cartero::base {

std::error_code last_error() { return {errno, std::generic_category()}; }

UniqueFd open_file(const std::filesystem::path& path, int flags, std::error_code& error, mode_t mode) {
    int fd;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    error = fd < 0 ? last_error() : std::error_code{};
    return UniqueFd(fd);
}

std::error_code write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_error();
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

std::error_code pwrite_all(int fd, std::string_view bytes, std::uint64_t offset) {
    while (!bytes.empty()) {
        const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_error();
        bytes.remove_prefix(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

namespace {

// Drops the first `written` bytes from the front of `buffers`; returns the
// buffers still (partly) unwritten.
std::span<iovec> consume(std::span<iovec> buffers, std::size_t written) {
    while (!buffers.empty() && written >= buffers.front().iov_len) {
        written -= buffers.front().iov_len;
        buffers = buffers.subspan(1);
    }
    if (!buffers.empty()) {
        buffers.front().iov_base = static_cast<char*>(buffers.front().iov_base) + written;
        buffers.front().iov_len -= written;
    }
    return buffers;
}

}  // namespace

std::error_code pwritev_all(int fd, std::span<iovec> buffers, std::uint64_t offset) {
    while (!buffers.empty()) {
        const auto count = static_cast<int>(std::min<std::size_t>(buffers.size(), IOV_MAX));
        const ssize_t n = ::pwritev(fd, buffers.data(), count, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_error();
        buffers = consume(buffers, static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

std::error_code read_whole(int fd, std::string& out) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) return last_error();
    out.resize(static_cast<std::size_t>(st.st_size));
    std::error_code error = pread_exact(fd, out.data(), out.size(), 0);
    return error;
}

std::error_code pread_exact(int fd, char* out, std::size_t length, std::uint64_t offset) {
    while (length > 0) {
        const ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_error();
        if (n == 0) return std::make_error_code(std::errc::io_error);
        out += n;
        length -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

std::error_code fsync_directory(const std::filesystem::path& directory) {
    std::error_code error;
    UniqueFd fd = open_file(directory, O_RDONLY | O_DIRECTORY, error);
    if (error) return error;
    while (::fsync(fd.get()) != 0) {
        if (errno != EINTR) return last_error();
    }
    return {};
}

namespace {

// The private temporary file both durable writes start from: created with
// O_EXCL and exactly `mode`, written and fsynced. Its name is returned in `temp`.
std::error_code write_temporary(const std::filesystem::path& path, std::string_view bytes, mode_t mode,
                                std::string& temp) {
    temp = path.string() + ".tmp." + std::to_string(::getpid());
    std::error_code error;
    UniqueFd fd = open_file(temp, O_CREAT | O_EXCL | O_WRONLY, error, mode);
    if (error) return error;
    // The umask may have removed bits but never adds any; fchmod makes the mode exact.
    if (::fchmod(fd.get(), mode) != 0) error = last_error();
    if (!error) error = write_all(fd.get(), bytes);
    if (!error && ::fsync(fd.get()) != 0) error = last_error();
    if (error) ::unlink(temp.c_str());
    return error;
}

}  // namespace

std::error_code create_durably(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
    std::string temp;
    std::error_code error = write_temporary(path, bytes, mode, temp);
    if (error) return error;
    if (::link(temp.c_str(), path.c_str()) != 0) error = last_error();
    ::unlink(temp.c_str());
    if (error) return error;
    return fsync_directory(path.parent_path());
}

std::error_code replace_durably(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
    std::string temp;
    std::error_code error = write_temporary(path, bytes, mode, temp);
    if (error) return error;
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        error = last_error();
        ::unlink(temp.c_str());
        return error;
    }
    return fsync_directory(path.parent_path());
}

}  // namespace cartero::base
