// SmtpCourier; see smtp_courier.hpp.
#include "delivery/remote/smtp_courier.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "delivery/delivered_to.hpp"
#include "delivery/remote/dane.hpp"

#include <spdlog/spdlog.h>

namespace cartero::delivery {
namespace {

// Keeps the worse of two failures: temporary beats permanent, because one
// server that may heal is reason enough to try again later.
void keep_failure(std::optional<DeliveryOutcome>& kept, DeliveryOutcome failure) {
    if (!kept || failure.status == DeliveryStatus::temporary || kept->status == DeliveryStatus::permanent)
        kept = std::move(failure);
}

std::chrono::milliseconds ms(std::chrono::seconds seconds) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(seconds);
}

// A [[destination]] with its own tls: the operator chose the policy for that
// domain, and neither MTA-STS nor DANE overrides it.
bool tls_set_explicitly(const config::Config& config, std::string_view domain) {
    return std::any_of(config.destinations.begin(), config.destinations.end(),
                       [&](const config::Destination& d) { return d.domain == domain && d.tls.has_value(); });
}

// A server left out or failed because of a TLS policy: temporary, RFC 3463
// X.7.5 "cryptographic failure" (as Postfix), RFC 8461 5: deferred, not bounced.
DeliveryOutcome policy_failure(std::string text) {
    return DeliveryOutcome{DeliveryStatus::temporary, smtp::Reply{451, "4.7.5", text}, text};
}

// How one server is connected to under DANE and MTA-STS (RFC 8461 2: DANE first).
struct PeerPlan {
    ConnectionOptions options;
    std::string label;                    // ", policy DANE" for the TLS log line; "" = delivery.tls alone
    std::string prefix;                   // put before a failure's detail ("MTA-STS policy of ...: ")
    std::optional<DeliveryOutcome> skip;  // the server must not be used
    bool sts_testing_mismatch = false;    // mode testing and the host matches no mx pattern
};

PeerPlan plan_peer(const ConnectionOptions& base, const dane::Decision& dane, const std::optional<mta_sts::Policy>& sts,
                   const std::string& host, std::string_view domain) {
    PeerPlan plan{base, {}, {}, {}, false};
    ConnectionOptions& o = plan.options;
    const TlsMode required = o.tls == TlsMode::implicit ? TlsMode::implicit : TlsMode::required;
    switch (dane.kind) {
        case dane::Kind::unusable: plan.skip = policy_failure(dane.reason); return plan;
        case dane::Kind::verify:
            o.tls = required;
            o.verify_certificate = true;
            o.tlsa = dane.records;
            plan.label = ", policy DANE";
            return plan;
        case dane::Kind::encrypt:
            o.tls = required;
            o.verify_certificate = false;
            plan.label = ", policy DANE (no usable TLSA record: encrypted, not authenticated)";
            return plan;
        case dane::Kind::none: break;
    }
    if (!sts) return plan;
    const std::string who =
        "MTA-STS policy of " + std::string(domain) + " (" + std::string(mta_sts::to_string(sts->mode)) + "): ";
    const bool allowed = mta_sts::mx_allowed(*sts, host);
    if (sts->mode == mta_sts::Mode::enforce) {
        // RFC 8461 4.1 and 4.2: a matching MX host, and TLS with a certificate
        // that chains to a trusted root and names that host.
        if (!allowed) {
            plan.skip = policy_failure(who + "MX host " + host + " is not in the policy");
            return plan;
        }
        o.tls = required;
        o.verify_certificate = true;
        plan.label = ", policy MTA-STS enforce";
        plan.prefix = who;
    } else {
        plan.label = ", policy MTA-STS testing";
        plan.sts_testing_mismatch = !allowed;
    }
    return plan;
}

// RFC 8461 5 (mode testing): what enforce would have refused, for the log.
std::string testing_complaints(const PeerPlan& plan, const SmtpConnection& connection, const std::string& host) {
    std::string out;
    if (plan.sts_testing_mismatch) out = "MX host " + host + " is not in the policy";
    const TlsReport& tls = connection.tls();
    const std::string tls_problem = !tls.active ? "no TLS" : !tls.verified ? "certificate not valid: " + tls.verify_error : "";
    if (!tls_problem.empty()) out += (out.empty() ? "" : "; ") + tls_problem;
    return out;
}

bool tls_failed_opportunistically(const OpenResult& opened, const ConnectionOptions& options) {
    return !opened.connection && options.tls == TlsMode::opportunistic && opened.session_failure &&
           opened.session_failure->kind == smtp::ClientFailureKind::tls_failed;
}

}  // namespace

RelayCredentials relay_credentials(const config::Relay& relay) {
    if (relay.username.empty()) return {};
    std::ifstream in(relay.password_file);
    const std::string why_not = in.is_open() ? "its first line is empty" : std::strerror(errno);
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (!password.empty()) return {smtp::ClientCredentials{relay.username, password}, {}};
    const std::string file = relay.password_file.string();
    return {std::nullopt, "relay " + relay.name + ": cannot use password file " + file + ": " + why_not +
                              "; not sending AUTH without the password (it must be readable by the server's user: "
                              "chmod 600 " + file + ")"};
}

ConnectionOptions connection_options(const config::Config& config, const NextHop& hop) {
    ConnectionOptions options;
    options.helo_name = config.hostname;
    options.tls = hop.tls;
    // Relays and tls = must are verified; opportunistic TLS is not (RFC 7435:
    // most MX certificates would fail, and refusing them would only push the
    // mail to plaintext).
    options.verify_certificate = hop.relay != nullptr ? hop.tls != TlsMode::none : hop.tls == TlsMode::required;
    if (!config.delivery.ca_file.empty()) options.ca_file = config.delivery.ca_file;
    auto& t = options.timeouts;
    t.connect = ms(config.delivery.connect_timeout);
    t.greeting = t.hello = t.starttls = t.tls_handshake = t.auth = t.mail = t.rcpt = t.rset = t.quit =
        ms(config.delivery.command_timeout);
    t.data_initiation = t.data = ms(config.delivery.data_timeout);
    return options;
}

// The MTA-STS policy in force for one delivery; none for relays, explicit
// destination.tls, delivery.mta_sts = false, mode none or no policy.
struct SmtpCourier::StsInForce {
    std::optional<mta_sts::Policy> policy;
    // Idle connections opened under one policy are not reused under another.
    std::string cache_tag() const {
        return policy ? "|mta-sts:" + std::string(mta_sts::to_string(policy->mode)) : std::string();
    }
};

SmtpCourier::SmtpCourier(const config::Config& config, dns::Resolver& resolver, SignHook sign)
    : resolver_(resolver), sign_(std::move(sign)), config_(std::make_shared<const config::Config>(config)) {
    // The fetch reads the configuration of the moment (port, CA file, timeout).
    sts_cache_ = std::make_unique<mta_sts::PolicyCache>(config.data_dir / "mta-sts", [this](std::string_view domain) {
        std::shared_ptr<const config::Config> current;
        {
            std::lock_guard lock(mutex_);
            current = config_;
        }
        mta_sts::FetchOptions options;
        options.port = static_cast<std::uint16_t>(current->delivery.mta_sts_port);
        if (!current->delivery.ca_file.empty()) options.ca_file = current->delivery.ca_file;
        options.timeout = ms(current->delivery.mta_sts_timeout);
        return mta_sts::fetch(resolver_, domain, options);
    });
}

SmtpCourier::~SmtpCourier() { close_idle(true); }

std::string SmtpCourier::destination_of(std::string_view domain) {
    std::lock_guard lock(mutex_);
    return next_hop(*config_, domain).name;
}

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
    const StsInForce sts = sts_for(*config, hop, domain, message.id);
    const std::string idle_key = hop.name + sts.cache_tag();
    const Transaction transaction = transaction_for(message, recipients);
    std::vector<DeliveryOutcome> outcomes;
    std::unique_ptr<SmtpConnection> connection = take_idle(idle_key);
    if (connection) {
        outcomes = connection->send(transaction);
        if (connection->failed_before_the_message()) connection.reset();
    }
    if (!connection) {
        Connected connected = connect(*config, hop, domain, message.id, sts);
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
        keep_idle(idle_key, std::move(connection));
    else
        connection->quit();
    return outcomes;
}

SmtpCourier::StsInForce SmtpCourier::sts_for(const config::Config& config, const NextHop& hop, std::string_view domain,
                                              const std::string& queue_id) {
    if (!config.delivery.mta_sts || hop.relay != nullptr || tls_set_explicitly(config, domain)) return {};
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    const mta_sts::Found found = mta_sts::policy_for(resolver_, *sts_cache_, domain, now);
    if (!found.policy) {
        if (found.note != "no TXT record") spdlog::info("{}: MTA-STS for {}: {}; no policy applied", queue_id, domain, found.note);
        return {};
    }
    spdlog::info("{}: MTA-STS policy of {}: mode {}, id {}, {}", queue_id, domain, mta_sts::to_string(found.policy->mode),
                 found.id, found.note);
    if (found.policy->mode == mta_sts::Mode::none) return {};
    return {found.policy};
}

SmtpCourier::Connected SmtpCourier::connect(const config::Config& config, const NextHop& hop, std::string_view domain,
                                            const std::string& queue_id, const StsInForce& sts) {
    if (abandoned_) {  // stopping: not even the DNS lookups (dns.timeout each)
        return {nullptr, DeliveryOutcome{DeliveryStatus::temporary, {},
                                         "delivery abandoned because cartero is stopping, retried after restart"}};
    }
    Peers peers = peers_for(resolver_, hop, domain, random_);
    if (peers.failure) return {nullptr, *peers.failure};
    if (peers.peers.size() > config.delivery.max_mx_addresses) {
        spdlog::info("{}: {} server addresses for {}; trying the first {} (delivery.max_mx_addresses)", queue_id,
                     peers.peers.size(), domain, config.delivery.max_mx_addresses);
        peers.peers.resize(config.delivery.max_mx_addresses);
    }
    ConnectionOptions options = connection_options(config, hop);
    options.abandon = &abandoned_;
    if (hop.relay != nullptr) {
        // A password file that went missing or unreadable since the load: the
        // delivery waits for the operator (451 4.3.5, "system incorrectly
        // configured"), never AUTH with an empty password.
        RelayCredentials credentials = relay_credentials(*hop.relay);
        if (!credentials.problem.empty()) {
            spdlog::error("{}: {}", queue_id, credentials.problem);
            return {nullptr, DeliveryOutcome{DeliveryStatus::temporary, smtp::Reply{451, "4.3.5", credentials.problem},
                                             credentials.problem}};
        }
        options.credentials = std::move(credentials.credentials);
    }
    const bool policies_apply = hop.relay == nullptr && !tls_set_explicitly(config, domain);
    std::map<std::string, dane::Decision> dane_of;  // per MX host: one TLSA question for all its addresses
    std::optional<DeliveryOutcome> failure;
    for (const Peer& peer : peers.peers) {
        auto [decision, fresh] = dane_of.try_emplace(peer.host);
        if (fresh && policies_apply)
            decision->second = dane::decide(resolver_, peer.host, peer.port, peers.dnssec_hosts.contains(peer.host));
        const PeerPlan plan = plan_peer(options, decision->second, sts.policy, peer.host, domain);
        if (plan.skip) {
            spdlog::info("{}: {} not used: {}", queue_id, display(peer), plan.skip->detail);
            keep_failure(failure, *plan.skip);
            continue;
        }
        OpenResult opened = SmtpConnection::open(peer, plan.options);
        if (tls_failed_opportunistically(opened, plan.options)) {
            // RFC 7435: opportunistic TLS must not make delivery worse than plaintext.
            // A server whose handshake fails (old TLS versions only, a broken setup)
            // gets the mail without TLS, as with Postfix's smtp_tls_security_level = may.
            spdlog::info("{}: TLS to {} failed ({}); trying again without TLS", queue_id, display(peer),
                         opened.failure.detail);
            ConnectionOptions plaintext = plan.options;
            plaintext.tls = TlsMode::none;
            opened = SmtpConnection::open(peer, plaintext);
        }
        if (opened.connection) {
            if (sts.policy && sts.policy->mode == mta_sts::Mode::testing && plan.options.tlsa.empty()) {
                if (const std::string c = testing_complaints(plan, *opened.connection, peer.host); !c.empty())
                    spdlog::warn("{}: MTA-STS policy of {} (testing): enforce would refuse {}: {}; delivering anyway",
                                 queue_id, domain, opened.connection->peer_name(), c);
            }
            if (opened.connection->tls().active)
                spdlog::info("{}: TLS to {}: {}{}", queue_id, opened.connection->peer_name(),
                             describe(opened.connection->tls()), plan.label);
            return {std::move(opened.connection), {}};
        }
        if (!plan.prefix.empty()) opened.failure.detail = plan.prefix + opened.failure.detail;
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
    // Closed without QUIT: a QUIT waits up to delivery.command_timeout for its reply,
    // and a stalling server would hold this worker (and its slot) that long.
    expired.clear();
}

Transaction SmtpCourier::transaction_for(const spool::QueuedMessage& message,
                                         const std::vector<RemoteRecipient>& recipients) {
    const auto& envelope = message.envelope;
    Transaction transaction;
    transaction.sender = envelope.sender;
    for (const auto& recipient : recipients) {
        const spool::RecipientDsn& dsn = envelope.dsn(recipient.index);
        transaction.recipients.push_back({recipient.address, smtp::format_notify(dsn.notify),
                                          dsn.orcpt_type.empty() ? std::string{} : dsn.orcpt_type + ";" + dsn.orcpt});
    }
    // RFC 3461 4.1-4.4: the DSN parameters travel on when the next server offers DSN
    // (the client sends them only then).
    transaction.ret = envelope.ret == spool::DsnReturn::full      ? "FULL"
                      : envelope.ret == spool::DsnReturn::headers ? "HDRS"
                                                                  : "";
    transaction.envid = envelope.envid;
    // A copy forwarded by alias names the alias on top (delivered_to.hpp); the queue
    // groups recipients so that all of one call share it. Above the DKIM signature,
    // which covers the message as queued.
    const std::string forwarded_for = recipients.empty() ? std::string{} : recipients.front().delivered_to;
    std::string added = forwarded_for.empty() ? std::string{} : delivered_to_field(forwarded_for);
    if (sign_) added += sign_(message);
    transaction.data = added.empty() ? message.data : std::make_shared<const std::string>(added + *message.data);
    transaction.eight_bit = envelope.eight_bit;
    transaction.smtputf8 = envelope.smtputf8;
    return transaction;
}

}  // namespace cartero::delivery
