// UniqueFd: sole owner of a POSIX file descriptor, closed on destruction.
//
// Trust: none needed; pure resource handling. Privileges: none.
#pragma once

#include <unistd.h>

#include <utility>

namespace cartero::base {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    // Hands the descriptor to a new owner (an Asio socket) without closing it.
    int release() { return std::exchange(fd_, -1); }
    explicit operator bool() const { return fd_ >= 0; }

    // Closing errors are ignored on purpose: every file whose contents matter is
    // fsync'ed (and the result checked) before it is closed.
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace cartero::base
