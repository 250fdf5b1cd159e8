// The listening sockets of the server: handed over by systemd (socket
// activation, sd_listen_fds_with_names(3)) or bound here from the config's
// [[listener]] tables. Either way they exist before cartero drops its
// privileges (net/privileges.hpp), so ports below 1024 need root only for
// this step.
//
// Socket activation: each passed socket's role is its FileDescriptorName=
// (mx, submission, submissions: contrib/systemd/); the [[listener]] tables are
// then not bound, since systemd owns the addresses. A socket with another name,
// or one that is not a listening TCP socket, is a start-up error naming it.
//
// Trust: the environment variables LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES come
// from the service manager; libsystemd checks LISTEN_PID against our pid, so
// an inherited environment cannot hand us sockets meant for another process.
// Privileges: binding a port below 1024 needs root or CAP_NET_BIND_SERVICE.
#pragma once

#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "config/config.hpp"

namespace cartero::net {

struct ListeningSocket {
    // Role and PROXY protocol settings. A socket from systemd takes them from
    // the first [[listener]] of its role, if there is one (its address is
    // systemd's business, its proxy_protocol and proxy_from are not).
    config::Listener listener;
    base::UniqueFd fd;
    bool from_service_manager = false;
};

// Throws std::runtime_error naming the address that could not be bound, or the
// passed socket that cannot be used and why.
std::vector<ListeningSocket> open_listening_sockets(const config::Config& config);

}  // namespace cartero::net
