// LmtpCourier: see lmtp.hpp.
#include "delivery/local/lmtp.hpp"

#include <algorithm>
#include <utility>

namespace cartero::delivery {
namespace {

std::chrono::milliseconds ms(std::chrono::seconds seconds) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(seconds);
}

Transaction transaction_for(const spool::QueuedMessage& message, std::string_view recipient) {
    Transaction transaction;
    transaction.sender = message.envelope.sender;
    // No NOTIFY/ORCPT: this is final delivery; DSNs for it are cartero's to send.
    transaction.recipients.push_back({std::string(recipient), {}, {}});
    transaction.data = message.data;
    transaction.eight_bit = message.envelope.eight_bit;
    transaction.smtputf8 = message.envelope.smtputf8;
    return transaction;
}

// A failure to reach or greet the mail store: see the table in lmtp.hpp.
DeliveryOutcome not_connected(DeliveryOutcome failure) {
    failure.status = DeliveryStatus::temporary;
    return failure;
}

// send() answers once per recipient; an empty answer would be a broken invariant
// of the client session, kept in the queue rather than lost.
DeliveryOutcome only_outcome(const std::vector<DeliveryOutcome>& outcomes, const std::string& peer) {
    if (outcomes.size() == 1) return outcomes.front();
    return DeliveryOutcome{DeliveryStatus::temporary, {},
                           "LMTP " + peer + ": " + std::to_string(outcomes.size()) + " replies for one recipient"};
}

}  // namespace

LmtpOptions lmtp_options(const config::Config& config) {
    LmtpOptions options;
    options.lhlo_name = config.hostname;
    auto& t = options.timeouts;
    t.connect = ms(config.delivery.connect_timeout);
    t.greeting = t.hello = t.starttls = t.tls_handshake = t.auth = t.mail = t.rcpt = t.rset = t.quit =
        ms(config.delivery.command_timeout);
    t.data_initiation = t.data = ms(config.delivery.data_timeout);
    options.reuse_time = ms(config.delivery.connection_reuse_time);
    options.idle_connections = config.delivery.local_concurrency;
    return options;
}

Peer lmtp_peer(const config::LmtpAddress& address) {
    Peer peer;
    if (!address.unix_socket.empty()) {
        peer.unix_socket = address.unix_socket;
        return peer;
    }
    peer.host = address.host;
    peer.address = address.host;
    peer.port = address.port;
    return peer;
}

LmtpCourier::LmtpCourier(Peer peer, LmtpOptions options) : peer_(std::move(peer)), options_(std::move(options)) {
    connection_options_.helo_name = options_.lhlo_name;
    connection_options_.tls = TlsMode::none;
    connection_options_.lmtp = true;
    connection_options_.timeouts = options_.timeouts;
    connection_options_.abandon = &abandoned_;
}

LmtpCourier::~LmtpCourier() { close_expired(true); }

DeliveryOutcome LmtpCourier::deliver(const spool::QueuedMessage& message, std::string_view recipient) {
    close_expired(false);
    const Transaction transaction = transaction_for(message, recipient);
    std::unique_ptr<SmtpConnection> connection = take_idle();
    DeliveryOutcome outcome;
    if (connection) {
        outcome = only_outcome(connection->send(transaction), connection->peer_name());
        if (connection->failed_before_the_message()) connection.reset();  // closed while idle: try a fresh one
    }
    if (!connection) {
        OpenResult opened = SmtpConnection::open(peer_, connection_options_);
        if (!opened.connection) return not_connected(std::move(opened.failure));
        connection = std::move(opened.connection);
        outcome = only_outcome(connection->send(transaction), connection->peer_name());
    }
    if (connection->reusable() && options_.reuse_time.count() > 0 && options_.idle_connections > 0)
        keep_idle(std::move(connection));
    else
        connection->quit();
    return outcome;
}

std::size_t LmtpCourier::idle() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

std::unique_ptr<SmtpConnection> LmtpCourier::take_idle() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    auto connection = std::move(idle_.back().connection);
    idle_.pop_back();
    return connection;
}

void LmtpCourier::keep_idle(std::unique_ptr<SmtpConnection> connection) {
    std::unique_ptr<SmtpConnection> surplus;
    {
        std::lock_guard lock(mutex_);
        idle_.push_back({std::move(connection), std::chrono::steady_clock::now()});
        if (idle_.size() > options_.idle_connections) {
            surplus = std::move(idle_.front().connection);  // the longest idle goes
            idle_.erase(idle_.begin());
        }
    }
    // Closed without QUIT (here and in close_expired): QUIT waits up to
    // delivery.command_timeout for its reply, and a stalled server would hold
    // this worker, and a local delivery slot, that long.
    surplus.reset();
}

void LmtpCourier::close_expired(bool all) {
    std::vector<std::unique_ptr<SmtpConnection>> expired;
    {
        std::lock_guard lock(mutex_);
        const auto limit = std::chrono::steady_clock::now() - options_.reuse_time;
        // Oldest first, so the expired ones are a prefix.
        const auto end = all ? idle_.end()
                             : std::find_if(idle_.begin(), idle_.end(), [&](const Idle& i) { return i.since >= limit; });
        for (auto it = idle_.begin(); it != end; ++it) expired.push_back(std::move(it->connection));
        idle_.erase(idle_.begin(), end);
    }
    expired.clear();  // outside the lock
}

}  // namespace cartero::delivery
