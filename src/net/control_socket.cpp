// Control socket; see control_socket.hpp for the protocol and trust notes.
#include "net/control_socket.hpp"

#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
// Boost.JSON without a compiled library: its definitions live in this one
// translation unit (Debian 12 ships no libboost_json); the CLI uses the
// declarations through <boost/json.hpp> and links against these.
#include <boost/json/src.hpp>
#include <spdlog/spdlog.h>
#include <thread>

#include "base/unique_fd.hpp"

namespace cartero::net {
namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;
using Socket = asio::local::stream_protocol::socket;

namespace {

// ------------------------------------------------------------------ requests

json::object error_reply(std::string message) {
    return json::object{{"ok", false}, {"error", std::move(message)}};
}

json::object result_reply(scheduler::OperationResult result, const std::string& id) {
    switch (result) {
        case scheduler::OperationResult::not_found:
            return error_reply("no queued message with ID " + id);
        case scheduler::OperationResult::held:
            return error_reply(id + " is held: release it first (cartero queue release " + id + ")");
        case scheduler::OperationResult::done:
        case scheduler::OperationResult::after_delivery: break;
    }
    return json::object{{"ok", true}, {"result", scheduler::to_string(result)}};
}

struct Request {
    std::string op;
    std::string id;  // "" when absent
    const std::string& who;
};

using Handler = json::object (*)(scheduler::DeliveryQueue&, const Request&);

json::object do_list(scheduler::DeliveryQueue& queue, const Request&) {
    json::array messages;
    for (const auto& view : queue.list()) messages.push_back(to_json(view));
    return json::object{{"ok", true}, {"messages", std::move(messages)}};
}

json::object do_show(scheduler::DeliveryQueue& queue, const Request& request) {
    const auto view = queue.show(request.id);
    if (!view) return error_reply("no queued message with ID " + request.id);
    return json::object{{"ok", true}, {"message", to_json(*view)}};
}

json::object do_flush(scheduler::DeliveryQueue& queue, const Request& request) {
    if (request.id.empty()) return json::object{{"ok", true}, {"flushed", queue.flush()}};
    return result_reply(queue.flush(request.id), request.id);
}

json::object do_hold(scheduler::DeliveryQueue& queue, const Request& r) { return result_reply(queue.hold(r.id, r.who), r.id); }
json::object do_release(scheduler::DeliveryQueue& queue, const Request& r) { return result_reply(queue.release(r.id, r.who), r.id); }
json::object do_delete(scheduler::DeliveryQueue& queue, const Request& r) { return result_reply(queue.remove(r.id, r.who), r.id); }
json::object do_bounce(scheduler::DeliveryQueue& queue, const Request& r) { return result_reply(queue.bounce(r.id, r.who), r.id); }

// Commands are data (STYLE rule 3): verb, whether it needs an ID, handler.
struct Command {
    std::string_view op;
    bool needs_id;
    Handler handler;
};
constexpr Command commands[] = {
    {"list", false, do_list},     {"show", true, do_show},       {"flush", false, do_flush},
    {"hold", true, do_hold},      {"release", true, do_release}, {"delete", true, do_delete},
    {"bounce", true, do_bounce},
};

std::string string_field(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

json::object answer(scheduler::DeliveryQueue& queue, std::string_view line, const std::string& who) {
    error_code ec;
    const json::value parsed = json::parse(line, ec);
    if (ec || !parsed.is_object()) return error_reply("malformed request: want one JSON object per line");
    const auto& object = parsed.get_object();
    const Request request{string_field(object, "op"), string_field(object, "id"), who};
    for (const auto& command : commands) {
        if (command.op != request.op) continue;
        if (command.needs_id && request.id.empty()) return error_reply("\"" + request.op + "\" needs an \"id\"");
        return command.handler(queue, request);
    }
    return error_reply("unknown op \"" + request.op + "\"");
}

// ------------------------------------------------------------------ peers

// "uid 1000 (ana)": who asked, for the log; nullopt for a peer that is neither
// us nor root (the 0600 mode should already have stopped it).
std::optional<std::string> peer_name(int fd) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return std::nullopt;
    if (credentials.uid != ::geteuid() && credentials.uid != 0) return std::nullopt;
    std::string name = "uid " + std::to_string(credentials.uid);
    passwd entry{};
    passwd* found = nullptr;
    char buffer[1024];
    if (::getpwuid_r(credentials.uid, &entry, buffer, sizeof buffer, &found) == 0 && found)
        name += std::string(" (") + found->pw_name + ")";
    return name;
}

// Binds under a temporary name, sets 0600, then renames into place: the socket
// is never reachable with a wider mode, and no process-wide umask is touched.
asio::local::stream_protocol::acceptor bind_private(asio::io_context& context, const std::filesystem::path& path) {
    const auto temporary = path.parent_path() / (path.filename().string() + ".new");
    std::filesystem::remove(temporary);
    asio::local::stream_protocol::acceptor acceptor(context);
    error_code ec;
    acceptor.open(asio::local::stream_protocol(), ec);
    if (!ec) acceptor.bind(asio::local::stream_protocol::endpoint(temporary.string()), ec);
    if (!ec && ::chmod(temporary.c_str(), S_IRUSR | S_IWUSR) != 0) ec = error_code(errno, boost::system::system_category());
    if (!ec && ::rename(temporary.c_str(), path.c_str()) != 0) ec = error_code(errno, boost::system::system_category());
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        std::filesystem::remove(temporary);
        throw std::system_error(std::error_code(ec.value(), std::system_category()),
                                "control socket " + path.string());
    }
    return acceptor;
}

}  // namespace

std::filesystem::path control_socket_path(const std::filesystem::path& data_dir) { return data_dir / "control.sock"; }

std::string answer_control_request(scheduler::DeliveryQueue& queue, std::string_view line, const std::string& who) {
    return json::serialize(answer(queue, line, who));
}

json::object to_json(const scheduler::MessageView& view) {
    json::array recipients;
    for (const auto& recipient : view.recipients)
        recipients.push_back(json::object{{"address", recipient.address},
                                          {"status", scheduler::to_string(recipient.status)},
                                          {"last_error", recipient.last_error}});
    return json::object{{"id", view.id},
                        {"sender", view.sender},
                        {"received_at", view.received_at},
                        {"size", view.size},
                        {"attempts", view.attempts},
                        {"next_attempt", view.next_attempt},
                        {"held", view.held},
                        {"delivering", view.delivering},
                        {"recipients", std::move(recipients)}};
}

// ------------------------------------------------------------------ server

struct ControlSocket::Impl {
    std::filesystem::path path;
    scheduler::DeliveryQueue& queue;
    asio::io_context context{1};
    asio::local::stream_protocol::acceptor acceptor;
    std::thread thread;

    Impl(std::filesystem::path p, scheduler::DeliveryQueue& q)
        : path(std::move(p)), queue(q), acceptor(bind_private(context, path)) {}

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(std::shared_ptr<Socket> socket, std::string who);
};

asio::awaitable<void> ControlSocket::Impl::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) {
            spdlog::warn("control socket: accept failed: {}", ec.message());
            continue;
        }
        auto who = peer_name(socket.native_handle());
        if (!who) {
            spdlog::warn("control socket: refused a peer that is neither this server's user nor root");
            continue;  // the socket closes as it goes out of scope
        }
        asio::co_spawn(context, serve(std::make_shared<Socket>(std::move(socket)), std::move(*who)),
                       [](std::exception_ptr error) {
                           if (!error) return;
                           try {
                               std::rethrow_exception(error);
                           } catch (const std::exception& e) {
                               spdlog::error("control socket: request ended by an internal error: {}", e.what());
                           }
                       });
    }
}

// One connection: request lines in, reply lines out, each read and write under
// control_idle_timeout (STYLE rule 9); the timer closes the socket when it fires.
asio::awaitable<void> ControlSocket::Impl::serve(std::shared_ptr<Socket> socket, std::string who) {
    asio::steady_timer deadline(context);
    const auto arm = [&] {
        deadline.expires_after(control_idle_timeout);
        deadline.async_wait([socket](error_code ec) {
            if (!ec) socket->close(ec);
        });
    };
    std::string buffer;
    for (;;) {
        arm();
        auto [read_error, length] = co_await asio::async_read_until(
            *socket, asio::dynamic_buffer(buffer, max_control_request), '\n', asio::as_tuple(asio::use_awaitable));
        std::string reply;
        if (read_error == asio::error::not_found) {
            reply = json::serialize(error_reply("request longer than " + std::to_string(max_control_request) + " octets"));
        } else if (read_error) {
            deadline.cancel();
            co_return;
        } else {
            reply = answer_control_request(queue, std::string_view(buffer).substr(0, length - 1), who);
            buffer.erase(0, length);
        }
        reply += '\n';
        arm();
        auto [write_error, written] = co_await asio::async_write(*socket, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
        deadline.cancel();
        if (write_error || read_error) co_return;
    }
}

ControlSocket::ControlSocket(std::filesystem::path path, scheduler::DeliveryQueue& queue)
    : impl_(std::make_unique<Impl>(std::move(path), queue)) {
    asio::co_spawn(impl_->context, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([impl = impl_.get()] { impl->context.run(); });
}

ControlSocket::~ControlSocket() {
    impl_->context.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    std::error_code ignored;
    std::filesystem::remove(impl_->path, ignored);
}

// ------------------------------------------------------------------ client

namespace {

bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd entry{fd, events, 0};
    return ::poll(&entry, 1, static_cast<int>(left.count())) > 0;
}

std::string exchange(int fd, const std::string& line, std::chrono::steady_clock::time_point deadline,
                     std::string& error) {
    for (std::size_t sent = 0; sent < line.size();) {
        if (!wait_for(fd, POLLOUT, deadline)) return error = "timed out sending the request", std::string();
        const auto n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR) return error = std::string("cannot send: ") + std::strerror(errno), std::string();
        if (n > 0) sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    char chunk[65536];
    while (reply.find('\n') == std::string::npos) {
        if (!wait_for(fd, POLLIN, deadline)) return error = "timed out waiting for the server's answer", std::string();
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n == 0) return error = "the server closed the connection without answering", std::string();
        if (n < 0 && errno != EINTR) return error = std::string("cannot read: ") + std::strerror(errno), std::string();
        if (n > 0) reply.append(chunk, static_cast<std::size_t>(n));
    }
    return reply.substr(0, reply.find('\n'));
}

}  // namespace

ControlReply call_control(const std::filesystem::path& path, const json::object& request, std::chrono::seconds timeout) {
    ControlReply result;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.native().size() >= sizeof address.sun_path) {
        result.error = path.string() + ": path too long for a Unix socket";
        return result;
    }
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        result.error = std::string("cannot create a socket: ") + std::strerror(errno);
        return result;
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        result.no_server = errno == ENOENT || errno == ECONNREFUSED;
        result.error = path.string() + ": " + std::strerror(errno);
        return result;
    }
    const auto line = exchange(fd.get(), json::serialize(request) + "\n",
                               std::chrono::steady_clock::now() + timeout, result.error);
    if (!result.error.empty()) return result;
    error_code ec;
    json::value parsed = json::parse(line, ec);
    if (ec || !parsed.is_object()) {
        result.error = "the server's answer is not a JSON object";
        return result;
    }
    result.body = std::move(parsed.get_object());
    return result;
}

}  // namespace cartero::net
