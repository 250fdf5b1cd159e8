// Local submission socket; see local_submission.hpp for the trust notes.
#include "net/local_submission.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "base/unique_fd.hpp"

namespace cartero::net {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Mode 0666: any local user may submit (Postfix's maildrop is writable by
// postdrop for the same reason); the uid check happens per connection.
constexpr mode_t submit_socket_mode = S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;

// Does a server answer on the socket at `path`? A non-blocking connect says
// at once: 0 or EAGAIN (backlog full) means someone listens; ECONNREFUSED
// means the file is left over from a server that is gone.
bool server_answers(const std::filesystem::path& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof address.sun_path) throw std::runtime_error("socket path too long: " + text);
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    const base::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!probe) throw std::runtime_error("socket(): " + std::string(std::strerror(errno)));
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return true;
    return errno == EAGAIN || errno == EINPROGRESS;
}

// Something at `path` that must not be replaced: a live server, or a file
// that is not a socket (never delete what we did not create).
void check_replaceable(const std::filesystem::path& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) return;
        throw std::runtime_error("cannot check " + path.string() + ": " + std::strerror(errno));
    }
    if (!S_ISSOCK(info.st_mode))
        throw std::runtime_error(path.string() + " exists and is not a socket: move it away, then start again");
    if (server_answers(path))
        throw std::runtime_error("a server already answers on " + path.string() +
                                 ": another cartero uses this data_dir (stop it first)");
}

}  // namespace

std::filesystem::path submit_socket_path(const std::filesystem::path& data_dir) { return data_dir / "submit.sock"; }

// Binds under a temporary name, sets the mode, then renames into place: the
// socket is never reachable with another mode, a stale one is replaced in one
// step, and no process-wide umask is touched.
asio::local::stream_protocol::acceptor bind_submit_socket(asio::io_context& context,
                                                         const std::filesystem::path& path) {
    check_replaceable(path);
    const auto temporary = path.parent_path() / (path.filename().string() + ".new");
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    asio::local::stream_protocol::acceptor acceptor(context);
    error_code ec;
    acceptor.open(asio::local::stream_protocol(), ec);
    if (!ec) acceptor.bind(asio::local::stream_protocol::endpoint(temporary.string()), ec);
    if (!ec && ::chmod(temporary.c_str(), submit_socket_mode) != 0) ec = error_code(errno, boost::system::system_category());
    if (!ec && ::rename(temporary.c_str(), path.c_str()) != 0) ec = error_code(errno, boost::system::system_category());
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        std::filesystem::remove(temporary, ignored);
        throw std::runtime_error("cannot listen on " + path.string() + ": " + ec.message());
    }
    return acceptor;
}

std::optional<smtp::PeerInfo> local_peer(int fd) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return std::nullopt;
    smtp::PeerInfo peer;
    peer.local_uid = credentials.uid;
    peer.local_user = std::to_string(credentials.uid);
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> buffer{};
    if (::getpwuid_r(credentials.uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
        peer.local_user = found->pw_name;
    return peer;
}

}  // namespace cartero::net
