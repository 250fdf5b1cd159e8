#include "net/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace cartero::net {
namespace {

[[noreturn]] void config_error(const config::Config& config, const std::string& key, const std::string& what) {
    throw config::ConfigError(config.source.string() + ": " + key + ": " + what);
}

// getpwnam_r/getgrnam_r with a buffer that grows (ERANGE) instead of a guess.
template <typename Entry, typename Lookup>
std::optional<Entry> find_entry(const std::string& name, Lookup lookup) {
    std::vector<char> buffer(1024);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        const int error = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < (1U << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error != 0 || found == nullptr) return std::nullopt;
        return entry;
    }
}

std::string chown_command(const RunAs& who, const std::filesystem::path& path, bool recursive) {
    return std::string("chown ") + (recursive ? "-R " : "") + who.user + ":" + who.group + " " + path.string();
}

bool owned_by(const std::filesystem::path& path, const RunAs& who) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0 && info.st_uid == who.uid;
}

// data_dir and what is directly in it (spool/, accounts.db, keys, sockets):
// deeper entries were made by cartero itself, as this user, once these were.
void check_data_dir(const config::Config& config, const RunAs& who) {
    const auto& directory = config.data_dir;
    const std::string fix = "run: " + chown_command(who, directory, true);
    struct stat info {};
    if (::stat(directory.c_str(), &info) != 0) {
        const std::string why = errno == EACCES ? "a directory above it is closed to that user (chmod o+x each one)"
                                                : std::strerror(errno);
        config_error(config, "data_dir", directory.string() + " cannot be reached by user " + who.user + ": " + why);
    }
    if (info.st_uid != who.uid || ::access(directory.c_str(), R_OK | W_OK | X_OK) != 0)
        config_error(config, "data_dir", directory.string() + " is not owned by user " + who.user + " (" + fix + ")");
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        if (!owned_by(entry.path(), who))
            config_error(config, "data_dir", entry.path().string() + " is not owned by user " + who.user + " (" +
                                                 fix + ")");
    }
}

void check_readable(const config::Config& config, const std::string& key, const std::filesystem::path& path,
                    const RunAs& who) {
    if (path.empty() || ::access(path.c_str(), R_OK) == 0) return;
    config_error(config, key, path.string() + " is not readable by user " + who.user + " (run: chgrp " + who.group +
                                  " " + path.string() + " && chmod 640 " + path.string() + ")");
}

void check_log_file(const config::Config& config, const RunAs& who) {
    const auto& file = config.log_file;
    if (file.empty()) return;
    std::error_code error;
    const bool exists = std::filesystem::exists(file, error);
    const auto directory = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    if (exists ? ::access(file.c_str(), W_OK) == 0 : ::access(directory.c_str(), W_OK | X_OK) == 0) return;
    config_error(config, "log.file", (exists ? file : directory).string() + " is not writable by user " + who.user +
                                         " (run: " + chown_command(who, exists ? file : directory, false) + ")");
}

[[noreturn]] void failed(const char* call) {
    throw std::runtime_error(std::string("cannot drop privileges: ") + call + ": " + std::strerror(errno));
}

}  // namespace

std::optional<RunAs> run_as(const config::Config& config) {
    if (config.run_as_user.empty()) {
        if (!config.run_as_group.empty())
            config_error(config, "server.group", "needs server.user (the user cartero becomes)");
        return std::nullopt;
    }
    const auto user = find_entry<passwd>(config.run_as_user, ::getpwnam_r);
    if (!user) config_error(config, "server.user", "no user \"" + config.run_as_user + "\" on this system (create it: useradd --system cartero)");
    RunAs who{config.run_as_user, config.run_as_group, user->pw_uid, user->pw_gid};
    if (!config.run_as_group.empty()) {
        const auto group = find_entry<struct group>(config.run_as_group, ::getgrnam_r);
        if (!group) config_error(config, "server.group", "no group \"" + config.run_as_group + "\" on this system");
        who.gid = group->gr_gid;
    } else if (const auto* primary = ::getgrgid(who.gid); primary != nullptr) {
        who.group = primary->gr_name;
    } else {
        who.group = std::to_string(who.gid);
    }
    if (::geteuid() != 0 && ::geteuid() != who.uid)
        config_error(config, "server.user", "cartero runs as uid " + std::to_string(::geteuid()) +
                                                ", which cannot become " + who.user +
                                                " (start it as root, or remove server.user)");
    return who;
}

void become(const RunAs& who) {
    if (::geteuid() == who.uid && ::getegid() == who.gid) return;
    const gid_t groups[] = {who.gid};
    if (::setgroups(1, groups) != 0) failed("setgroups");
    if (::setresgid(who.gid, who.gid, who.gid) != 0) failed("setresgid");
    if (::setresuid(who.uid, who.uid, who.uid) != 0) failed("setresuid");
    // A switch that left a way back would be worse than none (CERT POS37-C).
    if (who.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        throw std::runtime_error("cannot drop privileges: root could be regained after switching to " + who.user);
}

void make_data_dir(const config::Config& config, const RunAs& who) {
    const auto& directory = config.data_dir;
    if (std::filesystem::exists(directory)) return;
    std::filesystem::create_directories(directory);
    if (::chown(directory.c_str(), who.uid, who.gid) != 0)
        throw std::runtime_error("cannot give " + directory.string() + " to " + who.user + ": " + std::strerror(errno));
}

void check_access(const config::Config& config, const RunAs& who) {
    check_data_dir(config, who);
    check_readable(config, "tls.key", config.tls.key, who);
    check_readable(config, "tls.cert", config.tls.cert, who);
    check_log_file(config, who);
}

}  // namespace cartero::net
