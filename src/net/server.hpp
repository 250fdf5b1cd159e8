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
// command) and stop after limits.shutdown_grace.
//
// Privileges: binds the listener sockets; needs nothing else.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

    // Binds every configured listener. Throws std::runtime_error naming the address.
    std::vector<BoundListener> bind();
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
