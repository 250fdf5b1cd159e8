// SmtpCourier: the RemoteCourier that hands mail to other servers by SMTP —
// the MX hosts of the recipient domain, or a smarthost ([[relay]]).
//
// For one message and one domain: find the next hop (next_hop.hpp), take an
// idle connection to it if one is cached, else try its servers in order until
// one accepts a session (RFC 5321 5.1), send one transaction with every
// recipient, and keep the connection for delivery.connection_reuse_time when
// the server allows another transaction. Every recipient gets its own outcome.
//
// TLS per hop: MX hosts by delivery.tls / destination.tls (may = opportunistic
// STARTTLS without verification, must = STARTTLS with the certificate verified
// for the MX host name, else deferred); relays always verify their
// certificate. Credentials go to relays only, and only inside TLS
// (smtp::ClientSession refuses otherwise).
//
// MTA-STS and DANE (docs/mta-sts-dane.md) raise the TLS policy of MX hosts,
// decided before each connection: DANE for a host whose MX, address and TLSA
// answers are DNSSEC-secure (RFC 7672; it takes precedence, RFC 8461 2);
// otherwise the domain's MTA-STS policy (RFC 8461, delivery.mta_sts): with
// mode enforce only MX hosts matching the policy are used, over STARTTLS
// with a certificate verified for the MX host name, else the mail is deferred
// ("MTA-STS policy of example.com (enforce): ..."); with mode testing the
// mail goes as usual and what would have failed is logged. Neither applies to
// relays, nor to a domain whose [[destination]] sets tls explicitly (the
// operator's choice wins). The log line "TLS to HOST: ..., policy P" names it.
//
// Which server failed and why is in each outcome's detail ("connect to
// mx.example.com[192.0.2.1]:25: Connection refused"); when every server of a
// hop fails, the outcome is permanent only if each failure was (a 5xx
// greeting everywhere), else temporary.
//
// Trust: remote servers are untrusted (their replies go through the sans-IO
// client); message data is passed through as queued, with DKIM fields
// prepended by the `sign` hook and, on a copy forwarded by alias, a
// Delivered-To line naming the alias (delivered_to.hpp). Privileges: outbound sockets, reading
// relay password files and delivery.ca_file.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "delivery/courier.hpp"
#include "delivery/remote/mta_sts.hpp"
#include "delivery/remote/next_hop.hpp"
#include "delivery/remote/smtp_connection.hpp"
#include "dns/mx_order.hpp"
#include "dns/resolver.hpp"

namespace cartero::delivery {

// Header fields to put on top of a message before it leaves (DKIM-Signature);
// "" for none. Called once per delivery attempt.
using SignHook = std::function<std::string(const spool::QueuedMessage&)>;

class SmtpCourier final : public RemoteCourier {
public:
    SmtpCourier(const config::Config& config, dns::Resolver& resolver, SignHook sign = {});
    ~SmtpCourier() override;

    std::vector<DeliveryOutcome> deliver(const spool::QueuedMessage& message, std::string_view domain,
                                         const std::vector<RemoteRecipient>& recipients) override;

    // The next hop's name ("mx:example.com", "relay:gmail"): a relay counts once
    // against delivery.destination_concurrency, whatever the recipient domains.
    std::string destination_of(std::string_view domain) override;

    // Shutdown: every connection in use gives up (RemoteCourier::abandon).
    void abandon() override { abandoned_ = true; }

    // A reloaded configuration, for the deliveries that start after the call.
    void update(const config::Config& config);

    // Closes idle connections (QUIT) older than delivery.connection_reuse_time;
    // with `all`, every idle connection (at shutdown).
    void close_idle(bool all = false);

private:
    struct Idle {
        std::unique_ptr<SmtpConnection> connection;
        std::chrono::steady_clock::time_point since;
    };

    // A new session with the first server of `hop` that takes one, or the
    // outcome for every recipient when none does.
    struct Connected {
        std::unique_ptr<SmtpConnection> connection;
        DeliveryOutcome failure;
    };
    struct StsInForce;
    Connected connect(const config::Config& config, const NextHop& hop, std::string_view domain,
                      const std::string& queue_id, const StsInForce& sts);
    StsInForce sts_for(const config::Config& config, const NextHop& hop, std::string_view domain,
                       const std::string& queue_id);
    std::unique_ptr<SmtpConnection> take_idle(const std::string& hop);
    void keep_idle(const std::string& hop, std::unique_ptr<SmtpConnection> connection);
    Transaction transaction_for(const spool::QueuedMessage& message, const std::vector<RemoteRecipient>& recipients);

    dns::Resolver& resolver_;
    SignHook sign_;
    dns::RandomBelow random_ = dns::default_random();
    std::unique_ptr<mta_sts::PolicyCache> sts_cache_;  // {data_dir}/mta-sts/, fetching with the config of the start

    std::mutex mutex_;
    std::shared_ptr<const config::Config> config_;      // guarded by mutex_
    std::multimap<std::string, Idle> idle_;            // by hop name, guarded by mutex_
    std::atomic<bool> abandoned_{false};               // every connection's ConnectionOptions::abandon
};

// The options a connection to `hop` is opened with under `config` (without the
// relay's credentials: relay_credentials).
ConnectionOptions connection_options(const config::Config& config, const NextHop& hop);

// A relay's username and the first line of its password file, read at each
// connection so a changed password applies without a restart. When the file
// cannot be read or its first line is empty, no credentials and the problem in
// plain words (the loader refuses such a file; this is one that changed since).
struct RelayCredentials {
    std::optional<smtp::ClientCredentials> credentials;  // none for a relay without username
    std::string problem;                                 // "" = usable
};
RelayCredentials relay_credentials(const config::Relay& relay);

}  // namespace cartero::delivery
