// Outbound: the parts of `cartero serve` that send mail to other servers,
// built from the configuration — the resolver (dns.*), the DKIM signer
// (dkim.*) and the SMTP courier (delivery.*, [[relay]], [[destination]]).
//
// Startup errors (a bad resolver address, an unusable DKIM key file) throw
// config::ConfigError phrased for the operator, before anything listens.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "delivery/remote/smtp_courier.hpp"
#include "dkim/signer.hpp"
#include "dns/resolver.hpp"

namespace cartero::cli {

class Outbound {
public:
    explicit Outbound(const config::Config& config);

    delivery::SmtpCourier& courier() { return *courier_; }
    // SIGHUP: new relays, destinations and timeouts for the next deliveries.
    void reload(const config::Config& config) { courier_->update(config); }

private:
    std::unique_ptr<dns::Resolver> resolver_;
    std::shared_ptr<const dkim::Signer> signer_;
    std::unique_ptr<delivery::SmtpCourier> courier_;
};

}  // namespace cartero::cli
