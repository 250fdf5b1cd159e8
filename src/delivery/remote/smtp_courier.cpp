// SmtpCourier; see smtp_courier.hpp.
#include "delivery/remote/smtp_courier.hpp"

#include <algorithm>
#include <fstream>

#include <spdlog/spdlog.h>

namespace cartero::delivery {
namespace {

// The first line of a relay's password file, read at each connection so a
// changed password applies without a restart.
std::optional<smtp::ClientCredentials> credentials_of(const config::Relay& relay) {
    if (relay.username.empty()) return std::nullopt;
    std::ifstream in(relay.password_file);
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return smtp::ClientCredentials{relay.username, password};
}

// Keeps the worse of two failures: temporary beats permanent, because one
// server that may heal is reason enough to try again later.
void keep_failure(std::optional<DeliveryOutcome>& kept, DeliveryOutcome failure) {
    if (!kept || failure.status == DeliveryStatus::temporary || kept->status == DeliveryStatus::permanent)
        kept = std::move(failure);
}

// RFC 3461 4.1: "NEVER" or a comma-separated list; "" when the sender gave none.
std::string notify_value(std::uint8_t bits) {
    if (bits & smtp::notify_never) return "NEVER";
    std::string value;
    for (const auto& [bit, word] : {std::pair{smtp::notify_success, "SUCCESS"}, std::pair{smtp::notify_failure, "FAILURE"},
                                    std::pair{smtp::notify_delay, "DELAY"}})
        if (bits & bit) value += (value.empty() ? "" : ",") + std::string(word);
    return value;
}

std::chrono::milliseconds ms(std::chrono::seconds seconds) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(seconds);
}

}  // namespace

ConnectionOptions connection_options(const config::Config& config, const NextHop& hop) {
    ConnectionOptions options;
    options.helo_name = config.hostname;
    options.tls = hop.tls;
    // Relays and tls = must are verified; opportunistic TLS is not (RFC 7435:
    // most MX certificates would fail, and refusing them would only push the
    // mail to plaintext).
    options.verify_certificate = hop.relay != nullptr ? hop.tls != TlsMode::none : hop.tls == TlsMode::required;
    if (!config.delivery.ca_file.empty()) options.ca_file = config.delivery.ca_file;
    if (hop.relay != nullptr) options.credentials = credentials_of(*hop.relay);
    auto& t = options.timeouts;
    t.connect = ms(config.delivery.connect_timeout);
    t.greeting = t.hello = t.starttls = t.tls_handshake = t.auth = t.mail = t.rcpt = t.rset = t.quit =
        ms(config.delivery.command_timeout);
    t.data_initiation = t.data_block = t.data_termination = ms(config.delivery.data_timeout);
    return options;
}

SmtpCourier::SmtpCourier(const config::Config& config, dns::Resolver& resolver, SignHook sign)
    : resolver_(resolver), sign_(std::move(sign)), config_(std::make_shared<const config::Config>(config)) {}

SmtpCourier::~SmtpCourier() { close_idle(true); }

void SmtpCourier::update(const config::Config& config) {
    auto fresh = std::make_shared<const config::Config>(config);
    std::lock_guard lock(mutex_);
    config_ = std::move(fresh);
}

std::vector<DeliveryOutcome> SmtpCourier::deliver(const spool::QueuedMessage& message, std::string_view domain,
                                                  const std::vector<RemoteRecipient>& recipients) {
    close_idle();
    std::shared_ptr<const config::Config> config;
    {
        std::lock_guard lock(mutex_);
        config = config_;
    }
    const NextHop hop = next_hop(*config, domain);
    const Transaction transaction = transaction_for(message, recipients);
    std::vector<DeliveryOutcome> outcomes;
    std::unique_ptr<SmtpConnection> connection = take_idle(hop.name);
    if (connection) {
        outcomes = connection->send(transaction);
        // A cached connection the server has meanwhile closed fails everything
        // temporarily: that is no reason to defer, so try a fresh one.
        if (std::all_of(outcomes.begin(), outcomes.end(),
                        [](const DeliveryOutcome& o) { return o.status == DeliveryStatus::temporary; }))
            connection.reset();
    }
    if (!connection) {
        Connected connected = connect(*config, hop, domain, message.id);
        if (!connected.connection) return std::vector<DeliveryOutcome>(recipients.size(), connected.failure);
        connection = std::move(connected.connection);
        outcomes = connection->send(transaction);
    }
    const bool dsn = connection->extensions().dsn;
    for (auto& outcome : outcomes) {
        if (outcome.remote_host.empty()) outcome.remote_host = connection->peer_name();
        // RFC 3461 5.2.2: a server without DSN cannot honour NOTIFY=SUCCESS; we report "relayed".
        if (outcome.status == DeliveryStatus::delivered) outcome.relayed_without_dsn = !dsn;
    }
    if (connection->reusable() && config->delivery.connection_reuse_time.count() > 0)
        keep_idle(hop.name, std::move(connection));
    else
        connection->quit();
    return outcomes;
}

SmtpCourier::Connected SmtpCourier::connect(const config::Config& config, const NextHop& hop, std::string_view domain,
                                            const std::string& queue_id) {
    const Peers peers = peers_for(resolver_, hop, domain, random_);
    if (peers.failure) return {nullptr, *peers.failure};
    const ConnectionOptions options = connection_options(config, hop);
    std::optional<DeliveryOutcome> failure;
    for (const Peer& peer : peers.peers) {
        OpenResult opened = SmtpConnection::open(peer, options);
        if (opened.connection) {
            if (opened.connection->tls().active)
                spdlog::info("{}: TLS to {}: {}", queue_id, opened.connection->peer_name(),
                             describe(opened.connection->tls()));
            return {std::move(opened.connection), {}};
        }
        spdlog::info("{}: {} not used: {}", queue_id, display(peer), opened.failure.detail);
        keep_failure(failure, std::move(opened.failure));
    }
    return {nullptr, failure.value_or(DeliveryOutcome{DeliveryStatus::temporary, {}, "no server to try"})};
}

std::unique_ptr<SmtpConnection> SmtpCourier::take_idle(const std::string& hop) {
    std::lock_guard lock(mutex_);
    const auto found = idle_.find(hop);
    if (found == idle_.end()) return nullptr;
    auto connection = std::move(found->second.connection);
    idle_.erase(found);
    return connection;
}

// Expiry is checked in close_idle, against the current configuration.
void SmtpCourier::keep_idle(const std::string& hop, std::unique_ptr<SmtpConnection> connection) {
    std::lock_guard lock(mutex_);
    idle_.emplace(hop, Idle{std::move(connection), std::chrono::steady_clock::now()});
}

void SmtpCourier::close_idle(bool all) {
    std::vector<std::unique_ptr<SmtpConnection>> expired;
    {
        std::lock_guard lock(mutex_);
        const auto limit = std::chrono::steady_clock::now() - config_->delivery.connection_reuse_time;
        for (auto it = idle_.begin(); it != idle_.end();) {
            if (all || it->second.since < limit) {
                expired.push_back(std::move(it->second.connection));
                it = idle_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& connection : expired) connection->quit();  // outside the lock: QUIT waits for a reply
}

Transaction SmtpCourier::transaction_for(const spool::QueuedMessage& message,
                                         const std::vector<RemoteRecipient>& recipients) {
    const auto& envelope = message.envelope;
    Transaction transaction;
    transaction.sender = envelope.sender;
    for (const auto& recipient : recipients) {
        const spool::RecipientDsn& dsn = envelope.dsn(recipient.index);
        transaction.recipients.push_back({recipient.address, notify_value(dsn.notify),
                                          dsn.orcpt_type.empty() ? std::string{} : dsn.orcpt_type + ";" + dsn.orcpt});
    }
    // RFC 3461 4.1-4.4: the DSN parameters travel on when the next server offers DSN
    // (the client sends them only then).
    transaction.ret = envelope.ret == spool::DsnReturn::full      ? "FULL"
                      : envelope.ret == spool::DsnReturn::headers ? "HDRS"
                                                                  : "";
    transaction.envid = envelope.envid;
    const std::string signature = sign_ ? sign_(message) : std::string{};
    transaction.data = signature.empty() ? message.data : std::make_shared<const std::string>(signature + *message.data);
    transaction.eight_bit = envelope.eight_bit;
    transaction.smtputf8 = envelope.smtputf8;
    return transaction;
}

}  // namespace cartero::delivery
