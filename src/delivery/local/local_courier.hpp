// LocalCourier: the scheduler's one `local` courier. It finds where the mailbox
// of a local recipient lives from its domain and hands the copy on:
//   [[lmtp]] for the domain, else delivery.lmtp   an LmtpCourier (Dovecot)
//   neither                                        the Maildir courier
// so the scheduler keeps a single local courier and local concurrency limit.
//
// One LmtpCourier per distinct address, shared by the domains that name it, so
// its idle connections serve all of them. update() (SIGHUP) swaps the table:
// couriers whose address and options (lmtp_options: hostname, timeouts) are
// unchanged are kept with their connections; a courier no longer named, or
// built with other options, is dropped once the deliveries using it finish
// (they hold it by shared_ptr).
//
// Trust: the recipient is a mailbox address validated at RCPT and after alias
// expansion; only its domain is looked at here. Privileges: those of the
// couriers it calls.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.hpp"
#include "delivery/courier.hpp"

namespace cartero::delivery {

class LocalCourier final : public Courier {
public:
    // Builds the courier for an LMTP address ("unix:/run/dovecot/lmtp",
    // "127.0.0.1:24"); by default an LmtpCourier with lmtp_options(config).
    using LmtpFactory = std::function<std::shared_ptr<Courier>(const std::string& address, const config::Config&)>;

    LocalCourier(const config::Config& config, Courier& maildir, LmtpFactory make_lmtp = {});

    // A reloaded configuration: new [[lmtp]] tables, delivery.lmtp, local domains.
    void update(const config::Config& config);

    // Thread-safe.
    DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override;
    // Abandons the LMTP deliveries in progress (Maildir writes are short and local).
    void abandon() override;

private:
    struct Table {
        std::map<std::string, std::shared_ptr<Courier>, std::less<>> by_domain;  // [[lmtp]] domains
        std::shared_ptr<Courier> fallback;  // delivery.lmtp; null = Maildir
        std::map<std::string, std::shared_ptr<Courier>> by_address;  // every LMTP courier, for reuse on update
        std::shared_ptr<const config::Config> config;  // the couriers were built with its lmtp_options
    };

    std::shared_ptr<Courier> lmtp_for(std::string_view domain) const;
    std::shared_ptr<const Table> build(const config::Config& config, const Table* previous) const;

    Courier& maildir_;
    LmtpFactory make_lmtp_;
    mutable std::mutex mutex_;
    std::shared_ptr<const Table> table_;
};

}  // namespace cartero::delivery
