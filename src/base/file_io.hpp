// File I/O helpers: whole writes and reads that survive EINTR and short
// transfers, and the directory fsync that makes a create/rename/unlink durable.
//
// Trust: paths come from the caller (configuration, never the network).
// Privileges: whatever the caller's process has; nothing is elevated here.
// Errors are returned as std::error_code (STYLE rule 8: error_code at the I/O edge).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "base/unique_fd.hpp"

namespace cartero::base {

// The errno of the last failed call as an error_code.
std::error_code last_error();

// open(2) retried on EINTR; the error is returned in `error`.
UniqueFd open_file(const std::filesystem::path& path, int flags, std::error_code& error, mode_t mode = 0600);

// Writes every byte of `bytes` at the current position.
std::error_code write_all(int fd, std::string_view bytes);

// Writes every byte of `bytes` at `offset`.
std::error_code pwrite_all(int fd, std::string_view bytes, std::uint64_t offset);

// Writes every buffer of `buffers` in order starting at `offset`, in as few
// pwritev(2) calls as IOV_MAX allows. The span's iovecs are adjusted in place
// on short writes, so the caller must not reuse them.
std::error_code pwritev_all(int fd, std::span<iovec> buffers, std::uint64_t offset);

// Reads the whole file into `out`.
std::error_code read_whole(int fd, std::string& out);

// Reads exactly `length` bytes at `offset`; a short file is an error (EIO).
std::error_code pread_exact(int fd, char* out, std::size_t length, std::uint64_t offset);

// Creates `path` holding `bytes` with `mode`, as one durable step: a private
// temporary file next to it is written and fsynced, then link(2)ed into place,
// then the directory is fsynced. A reader never sees a partial file, and link
// never replaces: when `path` exists already (another process made it first)
// the result is std::errc::file_exists and that file is left as it is.
std::error_code create_durably(const std::filesystem::path& path, std::string_view bytes, mode_t mode = 0600);

// Writes `path` with `bytes` and `mode` as one durable step that replaces any
// file there: the same private temporary file, fsynced, then rename(2)d over
// `path`, then the directory fsynced. A reader sees the old file or the new
// one, whole, and the new one never exists with another mode.
std::error_code replace_durably(const std::filesystem::path& path, std::string_view bytes, mode_t mode = 0600);

// fsync(2) on a directory, so an entry created, renamed or removed in it
// survives a power cut (POSIX leaves that undefined without it).
std::error_code fsync_directory(const std::filesystem::path& directory);

}  // namespace cartero::base
