#include "net/listening_sockets.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "config/listen_address.hpp"

namespace cartero::net {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// No SO_REUSEPORT: with it a second server started on the same port by
// mistake would silently share the connections instead of failing to start.
base::UniqueFd bind_listener(const config::Listener& listener) {
    error_code ec;
    const auto address = asio::ip::make_address(listener.host, ec);
    if (ec) throw std::runtime_error("listener address " + listener.host + " is not an IP address");
    const tcp::endpoint endpoint(address, listener.port);
    asio::io_context context;
    tcp::acceptor acceptor(context);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    if (address.is_v6()) acceptor.set_option(asio::ip::v6_only(true));
    acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + config::format_listen_address(listener.host, listener.port) + ": " + ec.message());
    return base::UniqueFd(acceptor.release());
}

config::Listener settings_for(config::ListenerRole role, const config::Config& config) {
    for (const config::Listener& listener : config.listeners)
        if (listener.role == role) return listener;
    return config::Listener{role, {}, 0};
}

// The sockets systemd passed, each with its FileDescriptorName=.
std::vector<ListeningSocket> passed_sockets(const config::Config& config) {
    char** names = nullptr;
    const int count = sd_listen_fds_with_names(/*unset_environment=*/1, &names);
    if (count < 0) throw std::runtime_error("cannot read the sockets systemd passed (LISTEN_FDS)");
    std::vector<ListeningSocket> sockets;
    std::string problem;
    for (int i = 0; i < count; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        const std::string name = names != nullptr && names[i] != nullptr ? names[i] : "unknown";
        const auto role = config::listener_role_from_string(name);
        if (problem.empty() && (!role || *role == config::ListenerRole::local))
            problem = "systemd passed a socket named \"" + name +
                      "\": set FileDescriptorName= to mx, submission or submissions in its .socket unit";
        else if (problem.empty() && sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, /*listening=*/1) <= 0)
            problem = "systemd passed socket \"" + name + "\" that is not a listening TCP socket (use ListenStream=)";
        sockets.push_back({settings_for(role.value_or(config::ListenerRole::mx), config), base::UniqueFd(fd), true});
    }
    if (names != nullptr) {
        for (int i = 0; i < count; ++i) std::free(names[i]);
        std::free(names);
    }
    if (!problem.empty()) throw std::runtime_error(problem);
    return sockets;
}

}  // namespace

std::vector<ListeningSocket> open_listening_sockets(const config::Config& config) {
    std::vector<ListeningSocket> sockets = passed_sockets(config);
    if (!sockets.empty()) return sockets;
    for (const config::Listener& listener : config.listeners)
        sockets.push_back({listener, bind_listener(listener), false});
    return sockets;
}

}  // namespace cartero::net
