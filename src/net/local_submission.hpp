// Local submission socket: how `cartero sendmail` hands mail to the running
// server (.notes/outbound.md), the counterpart of Postfix's postdrop/pickup.
//
// `{data_dir}/submit.sock`, a Unix stream socket, mode 0666: any local user
// may submit, as any local user may run Postfix's sendmail. A connection
// speaks ordinary SMTP to a smtp::ServerSession with role `local`:
//   - the submitter is the peer's uid from SO_PEERCRED (the kernel's word, not
//     the client's), named with getpwuid_r; the session counts that login as
//     authenticated, so it may relay and needs no AUTH, and the Received
//     header and the log name the uid;
//   - every other bound applies as on the TCP listeners (limits.*): command and
//     session timeouts, message size, recipients, bad commands, messages per
//     session; limits.connections_per_ip counts per uid, connections_total
//     counts these connections with all others.
// The role has no name in the [[listener]] table (config/defaults.cpp), so no
// config file can put it on a network address: the only way in is this file,
// which the file system guards like any other.
//
// Trust: the local user is trusted to send mail, not to be anyone else: the
// envelope sender is free (as with Postfix), the uid recorded is not.
// Privileges: creates one socket file in data_dir; data_dir must be searchable
// (o+x) for users other than the server's own to reach it.
#pragma once

#include <filesystem>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "smtp/session.hpp"

namespace cartero::net {

std::filesystem::path submit_socket_path(const std::filesystem::path& data_dir);

// Binds `path` with mode 0666 and listens. A socket file already there is
// replaced only when no server answers on it (left by a killed server);
// throws std::runtime_error naming the path when one answers, when the path
// is not a socket, or when binding fails.
boost::asio::local::stream_protocol::acceptor bind_submit_socket(boost::asio::io_context& context,
                                                                const std::filesystem::path& path);

// The submitter on a connected local socket: uid from SO_PEERCRED, login name
// from the password database (the decimal uid when it has no entry).
// nullopt when the kernel does not say (never expected on Linux).
// getpwuid_r may consult NSS; with files it costs microseconds.
std::optional<smtp::PeerInfo> local_peer(int fd);

}  // namespace cartero::net
