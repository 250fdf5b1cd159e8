// Connection: drives one smtp::ServerSession over one Transport (STYLE rule 8:
// one short driver coroutine per transport). It performs the actions the
// sans-IO session asks for: reads and writes under deadlines, the TLS
// handshake, credential checks on the auth pool, and the durable spool commit.
//
// Trust: the peer is untrusted; every byte goes to the session, which bounds
// it. Errors on this connection end this connection only.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/services.hpp"
#include "net/transport.hpp"
#include "smtp/session.hpp"

namespace cartero::net {

class Connection {
public:
    // A TCP connection from `peer` (its address and port; the client a PROXY
    // header named, or the socket's own peer).
    Connection(boost::asio::ip::tcp::socket socket, config::ListenerRole role, smtp::PeerInfo peer,
               std::shared_ptr<const Runtime> runtime, Services& services, std::string id);
    // Role local: a connection on the submission socket (local_submission.hpp).
    // The socket holds the accepted Unix stream (Transport only reads, writes
    // and shuts down the descriptor); `local_peer` carries the kernel's uid.
    Connection(boost::asio::ip::tcp::socket socket, smtp::PeerInfo local_peer,
               std::shared_ptr<const Runtime> runtime, Services& services, std::string id);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    boost::asio::awaitable<void> run();

    // Server stopping: the session answers 421 4.3.2 at its next command
    // boundary; a connection idle between commands is woken now. Call on the
    // connection's own thread.
    void request_shutdown();

private:
    class Observer;

    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::Write&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::Read&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::StartTls&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::Authenticate&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::MessageBegin&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::MessageData&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::MessageEnd&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::MessageAbort&);
    boost::asio::awaitable<bool> perform(smtp::ServerSession&, smtp::Close&);

    boost::asio::awaitable<bool> implicit_tls_handshake();
    Clock::time_point read_deadline(smtp::State state) const;
    Clock::time_point write_deadline() const;
    smtp::SessionSettings session_settings() const;

    Transport transport_;
    config::ListenerRole role_;
    std::shared_ptr<const Runtime> runtime_;
    Services& services_;
    std::string id_;
    smtp::PeerInfo peer_;
    Clock::time_point session_deadline_;
    smtp::ServerSession* session_ = nullptr;  // while run() is active
    bool shutdown_requested_ = false;
    bool shutdown_told_ = false;

    // The open message, between MessageBegin and MessageEnd/MessageAbort.
    std::string queue_id_;
    std::shared_ptr<std::string> message_;
    Clock::time_point message_deadline_;
    bool over_budget_ = false;  // the message outgrew limits.receiving_memory

    bool append_to_message(std::string_view bytes);
    void release_message();

};

}  // namespace cartero::net
