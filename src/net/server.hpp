// Server: the listeners and I/O threads. Thread-per-core: each I/O thread runs
// its own io_context; one acceptor per listener hands each new connection to
// the threads in turn, and a connection stays on its thread for its whole life,
// so the session path takes no shared locks.
//
// Signals: SIGHUP calls the reload function and, if it succeeds, new
// connections use the new Runtime (sessions in progress keep theirs); a change
// of the TLS certificate or key file (checked every tls.watch_interval) does
// the same, so a renewal needs no signal; SIGTERM
// and SIGINT stop accepting, ask sessions to finish (421 4.3.2 at their next
// command) and stop after limits.shutdown_grace. systemd hears of each step
// (net/service_manager.hpp), and its watchdog is fed while every I/O thread
// answers.
//
// Privileges: none; the listening sockets are opened before (and may be
// systemd's), and the local submission socket is in data_dir.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/listening_sockets.hpp"
#include "net/services.hpp"

namespace cartero::net {

struct BoundListener {
    config::ListenerRole role;
    std::string address;  // "127.0.0.1:2525", the port as actually bound
};

class Server {
public:
    using Reload = std::function<std::shared_ptr<const Runtime>()>;  // throws on a bad config

    Server(std::shared_ptr<const Runtime> runtime, Services& services, Reload reload);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves on the listening sockets (net/listening_sockets.hpp), already
    // bound, perhaps by systemd; the caller checked that the roles that need
    // TLS have a certificate.
    std::vector<BoundListener> listen(std::vector<ListeningSocket> sockets);
    // Binds the local submission socket (role local, local_submission.hpp) at
    // `path`; its connections share the I/O threads, limits and shutdown with
    // the TCP ones. Throws std::runtime_error naming the path.
    BoundListener bind_local(const std::filesystem::path& path);

    // Runs until SIGTERM/SIGINT (or stop()) and the sessions are drained.
    void run();
    void stop();

private:
    struct Worker;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cartero::net
