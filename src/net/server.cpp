#include "net/server.hpp"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <list>
#include <thread>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "net/connection.hpp"
#include "net/local_submission.hpp"
#include "net/proxy_header.hpp"
#include "net/service_manager.hpp"
#include "observe/logging.hpp"
#include "observe/session_id.hpp"

namespace cartero::net {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr auto drain_poll = std::chrono::milliseconds(100);

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(endpoint.port());
}


// What tells a replaced certificate or key file: its identity, size and
// modification time (certbot's symlinks point at a new file on renewal; an
// editor or `cp` rewrites in place). A missing file is all zeros.
struct FileState {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t modified_ns = 0;
    friend bool operator==(const FileState&, const FileState&) = default;
};
using CertificateFiles = std::pair<FileState, FileState>;

FileState file_state(const std::filesystem::path& path) {
    struct stat info {};
    if (path.empty() || ::stat(path.c_str(), &info) != 0) return {};
    return {info.st_dev, info.st_ino, info.st_size,
            static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

CertificateFiles certificate_files(const config::Tls& tls) { return {file_state(tls.cert), file_state(tls.key)}; }

// How an acceptor's connections are taken in.
struct Listening {
    config::ListenerRole role;
    bool proxy_protocol = false;
    config::NetworkSet proxy_from;
};

// Reads the PROXY header at the start of `socket`, never an octet past it (the
// parser says how many octets it needs at least): what follows — a TLS
// ClientHello on an implicit-TLS listener — stays in the socket for the session.
asio::awaitable<ProxyHeader> read_proxy_header(tcp::socket& socket, Clock::time_point deadline) {
    // The deadline's handler may already be queued when the read finishes, so
    // it shares its state instead of pointing into this frame; the socket
    // outlives it (it belongs to serve()'s frame).
    struct Deadline {
        bool passed = false;
        bool over = false;
    };
    auto state = std::make_shared<Deadline>();
    asio::steady_timer timer(socket.get_executor(), deadline);
    timer.async_wait([&socket, state](error_code ec) {
        if (ec || state->over) return;
        state->passed = true;
        error_code ignored;
        socket.cancel(ignored);
    });
    std::string bytes;
    ProxyHeader header = parse_proxy_header(bytes);
    while (header.status == ProxyHeader::Status::incomplete) {
        const std::size_t have = bytes.size();
        bytes.resize(header.length);
        auto [ec, read] = co_await asio::async_read(socket, asio::buffer(bytes.data() + have, header.length - have),
                                                    as_tuple_awaitable);
        if (ec) {
            state->over = true;
            timer.cancel();
            header.status = ProxyHeader::Status::invalid;
            header.error = state->passed ? "no PROXY header within limits.proxy_header_timeout"
                                     : "connection closed before its PROXY header (" + ec.message() + ")";
            co_return header;
        }
        header = parse_proxy_header(bytes);
    }
    state->over = true;
    timer.cancel();
    co_return header;
}

}  // namespace

// One I/O thread: its io_context and the connections it owns. Only this
// thread touches `connections`.
struct Server::Worker {
    asio::io_context context{1};
    // A worker may have no connection yet; run() must not return for that.
    asio::executor_work_guard<asio::io_context::executor_type> keep_running{context.get_executor()};
    std::list<Connection*> connections;
    std::thread thread;
};

struct Server::Impl {
    std::atomic<std::shared_ptr<const Runtime>> runtime;
    Services& services;
    Reload reload;
    std::vector<std::unique_ptr<Worker>> workers;
    std::list<tcp::acceptor> acceptors;  // all on the first worker's thread
    std::list<Listening> listenings;      // one per acceptor, kept as long
    std::list<asio::local::stream_protocol::acceptor> local_acceptors;  // same thread
    std::size_t next_worker = 0;         // round-robin, touched only by that thread
    asio::io_context control{1};  // signals and the shutdown drain
    asio::signal_set signals{control, SIGHUP, SIGTERM, SIGINT};
    bool stopping = false;

    Impl(std::shared_ptr<const Runtime> initial, Services& s, Reload r)
        : runtime(std::move(initial)), services(s), reload(std::move(r)) {}

    asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const Listening& listening);
    Worker& pick_worker();
    asio::awaitable<void> serve(Worker& worker, tcp::socket socket, const Listening& listening);
    asio::awaitable<std::optional<smtp::PeerInfo>> identify(tcp::socket& socket, const Listening& listening,
                                                            const config::Limits& limits);
    asio::awaitable<void> refuse(tcp::socket socket, config::ListenerRole role, std::string text);
    asio::awaitable<void> accept_local_loop(asio::local::stream_protocol::acceptor& acceptor);
    asio::awaitable<void> serve_local(Worker& worker, asio::local::stream_protocol::socket socket);
    asio::awaitable<void> host(Worker& worker, Connection& connection);
    void wait_for_signal();
    void on_reload();
    asio::awaitable<void> watch_certificates();
    asio::awaitable<void> feed_watchdog(std::chrono::microseconds interval);
    void begin_shutdown();
    asio::awaitable<void> drain();
};

Server::Worker& Server::Impl::pick_worker() {
    Worker& worker = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    return worker;
}

// One acceptor per listener; each accepted socket is created directly on the
// I/O thread that will own the connection (round-robin), so the session path
// never crosses threads.
asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& acceptor, const Listening& listening) {
    for (;;) {
        Worker& worker = pick_worker();
        auto [ec, socket] = co_await acceptor.async_accept(worker.context, as_tuple_awaitable);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // EMFILE and friends: back off instead of spinning on the error.
            spdlog::warn("accept failed: {}", ec.message());
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(as_tuple_awaitable);
            continue;
        }
        asio::co_spawn(worker.context, serve(worker, std::move(socket), listening), [](std::exception_ptr error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                spdlog::error("session ended by an internal error: {}", e.what());
            }
        });
    }
}

// Who is on the other end: the socket's peer, or, on a listener with
// proxy_protocol, the client its PROXY header names — once the peer is known
// to be one of the proxies in proxy_from. nullopt: refused (logged), close.
asio::awaitable<std::optional<smtp::PeerInfo>> Server::Impl::identify(tcp::socket& socket, const Listening& listening,
                                                                     const config::Limits& limits) {
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) co_return std::nullopt;
    auto address = remote.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    smtp::PeerInfo peer{address.to_string(), remote.port()};
    if (!listening.proxy_protocol) co_return peer;
    if (!listening.proxy_from.contains(peer.ip)) {
        spdlog::warn("refused connection from [{}] to {}: not a proxy allowed to send a PROXY header "
                     "(listener.proxy_from)", peer.ip, config::to_string(listening.role));
        co_return std::nullopt;
    }
    const ProxyHeader header = co_await read_proxy_header(socket, Clock::now() + limits.proxy_header_timeout);
    if (header.status != ProxyHeader::Status::complete) {
        spdlog::warn("refused connection from proxy [{}] to {}: {}", peer.ip, config::to_string(listening.role),
                     header.error);
        co_return std::nullopt;
    }
    if (header.client) {
        peer.via_proxy = peer.ip;
        peer.ip = header.client->ip;
        peer.port = header.client->port;
    }
    co_return peer;
}

asio::awaitable<void> Server::Impl::serve(Worker& worker, tcp::socket socket, const Listening& listening) {
    const std::shared_ptr<const Runtime> current = runtime.load();
    const config::Limits& limits = current->config->limits;
    const config::ListenerRole role = listening.role;
    std::optional<smtp::PeerInfo> peer = co_await identify(socket, listening, limits);
    if (!peer) {
        error_code ignored;
        socket.close(ignored);
        co_return;
    }
    const std::string ip = peer->ip;
    const auto admission = services.limiter.admit(ip, limits.connections_per_ip, limits.connections_total);
    if (admission != ConnectionLimiter::Admission::admitted) {
        spdlog::warn("refused connection from [{}]: too many connections{}", ip,
                     admission == ConnectionLimiter::Admission::too_many_from_ip ? " from this address" : "");
        const std::string text =
            admission == ConnectionLimiter::Admission::too_many_from_ip
                ? "421 4.7.0 " + current->config->hostname + " Error: too many connections from " + ip + "\r\n"
                : "421 4.3.2 " + current->config->hostname + " Error: too many connections, try again later\r\n";
        co_await refuse(std::move(socket), role, text);
        co_return;
    }
    AdmissionTicket ticket(services.limiter, ip);
    Connection connection(std::move(socket), role, std::move(*peer), current, services, observe::session_id());
    co_await host(worker, connection);
}

// Registered while it runs, so shutdown reaches it (request_shutdown).
asio::awaitable<void> Server::Impl::host(Worker& worker, Connection& connection) {
    worker.connections.push_front(&connection);
    const auto registered = worker.connections.begin();
    if (stopping) connection.request_shutdown();
    co_await connection.run();
    worker.connections.erase(registered);
}

// The submission socket: like accept_loop, but the peer is a local uid.
asio::awaitable<void> Server::Impl::accept_local_loop(asio::local::stream_protocol::acceptor& acceptor) {
    for (;;) {
        Worker& worker = pick_worker();
        auto [ec, socket] = co_await acceptor.async_accept(worker.context, as_tuple_awaitable);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            spdlog::warn("accept on the submission socket failed: {}", ec.message());
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(as_tuple_awaitable);
            continue;
        }
        asio::co_spawn(worker.context, serve_local(worker, std::move(socket)), [](std::exception_ptr error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                spdlog::error("local session ended by an internal error: {}", e.what());
            }
        });
    }
}

// Runs on the worker's thread. The Unix descriptor moves into a tcp::socket
// because Transport and Connection are written for one socket type and only
// read, write, wait and shut down: calls that do not depend on the address
// family. The address-dependent part (who the peer is) comes from
// SO_PEERCRED here, never from remote_endpoint().
asio::awaitable<void> Server::Impl::serve_local(Worker& worker, asio::local::stream_protocol::socket socket) {
    const std::shared_ptr<const Runtime> current = runtime.load();
    const config::Limits& limits = current->config->limits;
    std::optional<smtp::PeerInfo> peer = local_peer(socket.native_handle());
    if (!peer) co_return;
    error_code ec;
    tcp::socket stream(worker.context);
    stream.assign(tcp::v4(), socket.release(ec), ec);
    if (ec) {
        spdlog::warn("submission socket: cannot take over the connection: {}", ec.message());
        co_return;
    }
    // limits.connections_per_ip counts per uid here: one local user cannot
    // take every slot.
    const std::string key = "uid:" + std::to_string(*peer->local_uid);
    const auto admission = services.limiter.admit(key, limits.connections_per_ip, limits.connections_total);
    if (admission != ConnectionLimiter::Admission::admitted) {
        spdlog::warn("refused local connection from uid {}: too many connections", *peer->local_uid);
        co_await refuse(std::move(stream), config::ListenerRole::local,
                        "421 4.3.2 " + current->config->hostname + " Error: too many connections, try again later\r\n");
        co_return;
    }
    AdmissionTicket ticket(services.limiter, key);
    Connection connection(std::move(stream), std::move(*peer), current, services, observe::session_id());
    co_await host(worker, connection);
}

// Too many connections: plaintext roles get a 421 (RFC 5321 3.1); on the
// implicit-TLS port a plaintext reply would be garbage to the client, so it is
// just closed.
asio::awaitable<void> Server::Impl::refuse(tcp::socket socket, config::ListenerRole role, std::string text) {
    if (role != config::ListenerRole::submissions)
        co_await asio::async_write(socket, asio::buffer(text), as_tuple_awaitable);
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
}

void Server::Impl::wait_for_signal() {
    signals.async_wait([this](error_code ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
            on_reload();
            wait_for_signal();
            return;
        }
        begin_shutdown();
    });
}

void Server::Impl::on_reload() {
    service_manager::reloading();
    // First, and whatever happens to the configuration: logrotate's SIGHUP
    // must never leave cartero writing into the rotated file.
    if (const auto problem = observe::reopen_log_file())
        spdlog::error("{}; still logging into the old file", *problem);
    try {
        runtime.store(reload());
        spdlog::info("reloaded configuration and certificates");
    } catch (const std::exception& e) {
        spdlog::error("reload refused, keeping the running configuration: {}", e.what());
    }
    service_manager::ready("accepting connections");
}

// systemd's watchdog (WatchdogSec=) restarts a server that stops answering.
// The control thread alone staying alive proves little, so every half
// interval each I/O thread is asked to answer, and systemd hears "alive" only
// when all of them did since the last time.
asio::awaitable<void> Server::Impl::feed_watchdog(std::chrono::microseconds interval) {
    asio::steady_timer timer(control);
    for (;;) {
        auto answered = std::make_shared<std::atomic<std::size_t>>(0);
        for (auto& worker : workers) asio::post(worker->context, [answered] { ++*answered; });
        timer.expires_after(interval / 2);
        if (auto [ec] = co_await timer.async_wait(as_tuple_awaitable); ec || stopping) co_return;
        if (*answered == workers.size())
            service_manager::watchdog_alive();
        else
            spdlog::warn("watchdog: {} of {} I/O threads did not answer in {} ms; systemd is not told we are alive",
                         workers.size() - *answered, workers.size(),
                         std::chrono::duration_cast<std::chrono::milliseconds>(interval / 2).count());
    }
}

// Certificate renewals (Let's Encrypt replaces the files every 60 days) take
// effect without a SIGHUP: every tls.watch_interval the two files are looked
// at, and a change reloads everything as SIGHUP does — all or nothing, so a
// renewal caught between writing the certificate and the key is refused
// (they do not match) and taken at the next look, when the key has changed.
asio::awaitable<void> Server::Impl::watch_certificates() {
    asio::steady_timer timer(control);
    CertificateFiles seen = certificate_files(runtime.load()->config->tls);
    for (;;) {
        timer.expires_after(runtime.load()->config->tls.watch_interval);
        if (auto [ec] = co_await timer.async_wait(as_tuple_awaitable); ec || stopping) co_return;
        const CertificateFiles now = certificate_files(runtime.load()->config->tls);
        if (now == seen) continue;
        spdlog::info("TLS certificate or key file changed: reloading");
        on_reload();
        seen = certificate_files(runtime.load()->config->tls);
    }
}

void Server::Impl::begin_shutdown() {
    if (stopping) return;
    stopping = true;
    service_manager::stopping();
    spdlog::info("stopping: no new connections, sessions close at their next command");
    asio::post(workers.front()->context, [this] {
        for (auto& acceptor : acceptors) {
            error_code ignored;
            acceptor.close(ignored);
        }
        for (auto& acceptor : local_acceptors) {
            error_code ignored;
            acceptor.close(ignored);
        }
    });
    for (auto& worker : workers) {
        asio::post(worker->context, [w = worker.get()] {
            for (Connection* connection : w->connections) connection->request_shutdown();
        });
    }
    asio::co_spawn(control, drain(), asio::detached);
}

// Waits until the sessions are gone or the grace period ends, then stops all.
asio::awaitable<void> Server::Impl::drain() {
    const auto grace = runtime.load()->config->limits.shutdown_grace;
    const auto give_up = std::chrono::steady_clock::now() + grace;
    asio::steady_timer timer(control);
    while (services.limiter.total() > 0 && std::chrono::steady_clock::now() < give_up) {
        timer.expires_after(drain_poll);
        co_await timer.async_wait(as_tuple_awaitable);
    }
    if (services.limiter.total() > 0)
        spdlog::warn("stopping with {} sessions still open after {}s", services.limiter.total(), grace.count());
    for (auto& worker : workers) worker->context.stop();
    control.stop();
}

Server::Server(std::shared_ptr<const Runtime> runtime, Services& services, Reload reload)
    : impl_(std::make_unique<Impl>(std::move(runtime), services, std::move(reload))) {
    const auto& config = *impl_->runtime.load()->config;
    std::size_t threads = config.io_threads;
    if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

Server::~Server() {
    stop();
    for (auto& worker : impl_->workers)
        if (worker->thread.joinable()) worker->thread.join();
}

std::vector<BoundListener> Server::listen(std::vector<ListeningSocket> sockets) {
    std::vector<BoundListener> result;
    for (ListeningSocket& socket : sockets) {
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        if (::getsockname(socket.fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
            throw std::runtime_error("a listening socket has no address: " + std::string(std::strerror(errno)));
        const tcp protocol = address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
        tcp::acceptor& acceptor = impl_->acceptors.emplace_back(impl_->workers.front()->context);
        acceptor.assign(protocol, socket.fd.release());
        const tcp::endpoint endpoint = acceptor.local_endpoint();  // the real port when 0 was asked
        const Listening& listening = impl_->listenings.emplace_back(
            Listening{socket.listener.role, socket.listener.proxy_protocol,
                      config::NetworkSet::parse(socket.listener.proxy_from)});
        asio::co_spawn(acceptor.get_executor(), impl_->accept_loop(acceptor, listening), asio::detached);
        result.push_back({socket.listener.role, endpoint_text(endpoint)});
    }
    return result;
}

BoundListener Server::bind_local(const std::filesystem::path& path) {
    auto& acceptor = impl_->local_acceptors.emplace_back(bind_submit_socket(impl_->workers.front()->context, path));
    asio::co_spawn(acceptor.get_executor(), impl_->accept_local_loop(acceptor), asio::detached);
    return {config::ListenerRole::local, path.string()};
}

void Server::run() {
    impl_->wait_for_signal();
    if (impl_->runtime.load()->tls) asio::co_spawn(impl_->control, impl_->watch_certificates(), asio::detached);
    if (const auto interval = service_manager::watchdog_interval())
        asio::co_spawn(impl_->control, impl_->feed_watchdog(*interval), asio::detached);
    for (auto& worker : impl_->workers)
        worker->thread = std::thread([w = worker.get()] { w->context.run(); });
    service_manager::ready("accepting connections");
    impl_->control.run();
    for (auto& worker : impl_->workers)
        if (worker->thread.joinable()) worker->thread.join();
}

void Server::stop() {
    asio::post(impl_->control, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace cartero::net
