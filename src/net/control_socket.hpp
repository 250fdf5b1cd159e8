// Control socket: how `cartero queue` talks to the running server.
//
// `{data_dir}/control.sock`, a Unix stream socket, mode 0600: whoever can
// connect can delete mail, so only the server's own user (and root) may. The
// peer's uid (SO_PEERCRED) is checked again on each connection and names the
// operator in the log ("deleted by uid 1000 (ana)").
//
// Protocol: one JSON object per line each way (requests are tiny; a line longer
// than max_control_request ends the connection with an error reply).
//   {"op":"list"}                        -> {"ok":true,"messages":[MESSAGE...]}
//   {"op":"show","id":"ID"}              -> {"ok":true,"message":MESSAGE}
//   {"op":"flush"}                       -> {"ok":true,"flushed":N}
//   {"op":"flush|hold|release|delete|bounce","id":"ID"}
//                                        -> {"ok":true,"result":"done|after_delivery"}
//   anything else                        -> {"ok":false,"error":"..."}
// MESSAGE: {"id","sender","received_at","size","attempts","next_attempt","held",
//           "delivering","recipients":[{"address","status","last_error"}]}
// (times in unix seconds; next_attempt 0 when held or being delivered). See docs/queue.md.
//
// Trust: requests come from the server's own user, but are parsed as if hostile
// (bounded line, JSON errors become error replies). Privileges: creates one
// socket file in data_dir.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "scheduler/delivery_queue.hpp"

namespace cartero::net {

// Not config keys: the socket is owner-only, and a request is a verb and a
// queue ID (under 100 octets), so these only bound a misbehaving client.
inline constexpr std::size_t max_control_request = 4096;
inline constexpr std::chrono::seconds control_idle_timeout{30};

std::filesystem::path control_socket_path(const std::filesystem::path& data_dir);

// The answer to one request line: pure apart from the queue operations.
std::string answer_control_request(scheduler::DeliveryQueue& queue, std::string_view line, const std::string& who);

boost::json::object to_json(const scheduler::MessageView& view);

class ControlSocket {
public:
    // Binds `path` (replacing a socket left by a killed server: the spool lock
    // already proves no other server uses this data_dir) and serves on its own
    // thread. Throws std::system_error when the socket cannot be created.
    ControlSocket(std::filesystem::path path, scheduler::DeliveryQueue& queue);
    ~ControlSocket();  // stops serving and removes the socket file
    ControlSocket(const ControlSocket&) = delete;
    ControlSocket& operator=(const ControlSocket&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Client side: sends one request, returns the reply object. Errors are values:
// `error` says what went wrong (no server, refused, timeout, bad reply).
struct ControlReply {
    boost::json::object body;
    std::string error;           // "" on success
    bool no_server = false;      // the socket does not exist or nobody listens on it
};
ControlReply call_control(const std::filesystem::path& path, const boost::json::object& request,
                          std::chrono::seconds timeout = control_idle_timeout);

}  // namespace cartero::net
