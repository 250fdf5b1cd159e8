// MaildirCourier; see maildir.hpp.
#include "delivery/local/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "base/file_io.hpp"

namespace cartero::delivery {
namespace {

using base::UniqueFd;

constexpr mode_t directory_mode = 0700;
constexpr mode_t message_mode = 0600;

// Opens (creating if missing) directory `name` inside `parent`, never
// following a symlink: O_NOFOLLOW makes a symlink fail with ELOOP (or ENOTDIR).
UniqueFd open_child_directory(int parent, const std::string& name, std::error_code& error) {
    if (::mkdirat(parent, name.c_str(), directory_mode) != 0 && errno != EEXIST) {
        error = base::last_error();
        return {};
    }
    const int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    error = fd < 0 ? base::last_error() : std::error_code{};
    return UniqueFd(fd);
}

// The mailbox path relative to the root, refusing anything that could climb out.
std::optional<std::filesystem::path> below_root(const std::filesystem::path& root, const std::filesystem::path& path) {
    const auto relative = path.lexically_normal().lexically_relative(root.lexically_normal());
    if (relative.empty() || relative.is_absolute()) return std::nullopt;
    for (const auto& part : relative)
        if (part == ".." || part == ".") return std::nullopt;
    return relative;
}

std::string split_localpart(std::string_view address) { return std::string(address.substr(0, address.rfind('@'))); }
std::string split_domain(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

struct MailboxDirectories {
    UniqueFd tmp, fresh;  // tmp/ and new/
};

// Walks from the root to the mailbox and its tmp/ new/ cur/, creating what is
// missing; on failure `failure` names the directory that could not be used.
std::optional<MailboxDirectories> open_mailbox(const std::filesystem::path& root, const std::filesystem::path& relative,
                                               DeliveryOutcome& failure) {
    std::error_code error;
    std::filesystem::path where = root;
    UniqueFd mailbox = base::open_file(root, O_RDONLY | O_DIRECTORY, error);
    for (auto part = relative.begin(); part != relative.end() && !error; ++part) {
        where /= *part;
        mailbox = open_child_directory(mailbox.get(), part->string(), error);
    }
    auto subdirectory = [&](const char* name) {
        if (error) return UniqueFd();
        UniqueFd fd = open_child_directory(mailbox.get(), name, error);
        if (error) where /= name;
        return fd;
    };
    MailboxDirectories directories{subdirectory("tmp"), subdirectory("new")};
    subdirectory("cur");  // readers expect it; delivery itself never writes there
    if (error) {
        failure = classify(error, where.string());
        return std::nullopt;
    }
    return directories;
}

std::error_code write_copy(int fd, const spool::QueuedMessage& message, std::string_view recipient) {
    const std::string added =
        "Return-Path: <" + message.envelope.sender + ">\r\nDelivered-To: " + std::string(recipient) + "\r\n";
    iovec buffers[] = {{const_cast<char*>(added.data()), added.size()},
                       {const_cast<char*>(message.data->data()), message.data->size()}};
    if (auto error = base::pwritev_all(fd, buffers, 0)) return error;
    if (::fsync(fd) != 0) return base::last_error();
    return {};
}

}  // namespace

std::string maildir_host(std::string_view hostname) {
    std::string out;
    for (char c : hostname) {
        if (c == '/') out += "\\057";
        else if (c == ':') out += "\\072";
        else out += c;
    }
    return out;
}

MaildirCourier::MaildirCourier(std::filesystem::path root, MailboxPath mailbox_path, std::string hostname)
    : root_(std::move(root)), mailbox_path_(std::move(mailbox_path)), host_(maildir_host(hostname)) {}

std::string MaildirCourier::unique_name() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - seconds);
    return std::to_string(seconds.count()) + ".M" + std::to_string(micros.count()) + "P" + std::to_string(::getpid()) +
           "Q" + std::to_string(++counter_) + "." + host_;
}

DeliveryOutcome MaildirCourier::deliver(const spool::QueuedMessage& message, std::string_view recipient) {
    const auto path = mailbox_path_(split_localpart(recipient), split_domain(recipient));
    const auto relative = below_root(root_, path);
    if (!relative) return {DeliveryStatus::temporary, {}, "mailbox " + path.string() + " is outside " + root_.string()};
    DeliveryOutcome failure;
    auto directories = open_mailbox(root_, *relative, failure);
    if (!directories) return failure;

    const std::string name = unique_name();
    const int fd = ::openat(directories->tmp.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            message_mode);
    if (fd < 0) return classify(base::last_error(), (path / "tmp" / name).string());
    UniqueFd file(fd);
    std::error_code error = write_copy(file.get(), message, recipient);
    // rename(2) never follows a symlink in its last component, and new/ was opened with O_NOFOLLOW.
    if (!error && ::renameat(directories->tmp.get(), name.c_str(), directories->fresh.get(), name.c_str()) != 0)
        error = base::last_error();
    if (!error && ::fsync(directories->fresh.get()) != 0) error = base::last_error();
    if (error) {
        ::unlinkat(directories->tmp.get(), name.c_str(), 0);  // a half-written copy must not linger in tmp/
        return classify(error, (path / "new" / name).string());
    }
    return {DeliveryStatus::delivered, {}, "delivered to maildir"};
}

}  // namespace cartero::delivery
