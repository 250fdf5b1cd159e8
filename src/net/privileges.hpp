// Privilege drop: started as root to bind ports 25, 465 and 587, cartero
// becomes server.user (and server.group) once its listening sockets are open
// and before it reads a byte from the network (STYLE rule 13; Postfix's
// master binds, then its daemons run as mail_owner).
//
// After the switch, what the server must reach is checked as the new user:
// data_dir writable (and owned by it, with what is directly inside, so the
// spool and the accounts database are usable), tls.key readable (a reload
// reads it again), log.file writable (it is reopened on SIGHUP). A failure is
// a start-up error naming the command that fixes it (`chown -R ...`).
//
// Trust: the config names the user; nothing from the network reaches here.
// Privileges: needs root (CAP_SETUID, CAP_SETGID) to switch; gives them up for
// good (real, effective and saved IDs, supplementary groups).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "config/config.hpp"

namespace cartero::net {

struct RunAs {
    std::string user;
    std::string group;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Who server.user and server.group name, or nullopt when server.user is empty.
// Throws config::ConfigError for an unknown user or group, for server.group
// without server.user, and when cartero runs as neither root nor that user
// (it could not switch).
std::optional<RunAs> run_as(const config::Config& config);

// Becomes `who` for good: supplementary groups, then group, then user (the
// order in which each step is still allowed); then checks that root cannot be
// regained. Nothing happens when cartero already runs as that user and group.
// Throws std::runtime_error naming the failed call.
void become(const RunAs& who);

// Run before become(): creates data_dir, owned by `who`, when it is missing
// (a first start as root), as Postfix creates its queue directory.
void make_data_dir(const config::Config& config, const RunAs& who);

// Run after become(): throws config::ConfigError naming what `who` cannot
// use and the command that fixes it.
void check_access(const config::Config& config, const RunAs& who);

}  // namespace cartero::net
