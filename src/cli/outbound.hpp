// Outbound: the parts of `cartero serve` that send mail to other servers,
// built from the configuration — the resolver (dns.*), the DKIM signer
// (dkim.*) and the SMTP courier (delivery.*, [[relay]], [[destination]]).
//
// Startup errors (a bad resolver address, an unusable DKIM key file) throw
// config::ConfigError phrased for the operator, before anything listens.
//
// SIGHUP goes in two steps (the Reloader in cli/serve_command.cpp): prepare() builds everything that
// can fail — a new resolver when a dns.* key changed, the DKIM keys read
// again from dkim.key_dir — and throws like startup; apply() swaps it all in
// and cannot fail. Deliveries in progress finish with what they started with.
#pragma once

#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "config/schema.hpp"
#include "delivery/remote/smtp_courier.hpp"
#include "dkim/signer.hpp"
#include "dns/resolver.hpp"

namespace cartero::cli {

// The resolver in force, swapped whole on reload; each lookup asks the one
// current when it starts.
class SwappableResolver final : public dns::Resolver {
public:
    explicit SwappableResolver(std::shared_ptr<dns::Resolver> resolver) : current_(std::move(resolver)) {}
    void swap(std::shared_ptr<dns::Resolver> resolver) { current_.store(std::move(resolver)); }

private:
    dns::MxAnswer lookup_mx(const std::string& domain) override { return current_.load()->mx(domain); }
    dns::AddressAnswer lookup_addresses(const std::string& host) override {
        return current_.load()->addresses(host);
    }
    dns::TxtAnswer lookup_txt(const std::string& name) override { return current_.load()->txt(name); }
    dns::TlsaAnswer lookup_tlsa(const std::string& name) override { return current_.load()->tlsa(name); }
    dns::SrvAnswer lookup_srv(const std::string& name) override { return current_.load()->srv(name); }

    std::atomic<std::shared_ptr<dns::Resolver>> current_;
};

class Outbound {
public:
    explicit Outbound(const config::Config& config);

    delivery::SmtpCourier& courier() { return *courier_; }

    struct Prepared {
        std::shared_ptr<const config::Config> config;
        std::shared_ptr<dns::Resolver> resolver;  // null: dns.* unchanged, keep the running one
        std::shared_ptr<const dkim::Signer> signer;
    };
    // SIGHUP, step one: throws config::ConfigError naming the problem.
    // `changed`: the keys that differ from the running configuration (config/changes.hpp).
    Prepared prepare(const config::Config& config, const std::vector<const config::KeySpec*>& changed) const;
    // Step two: new relays, destinations, timeouts, resolver and DKIM keys for
    // the next deliveries.
    void apply(Prepared prepared);

private:
    delivery::SignHook sign_hook();

    SwappableResolver resolver_;
    std::atomic<std::shared_ptr<const dkim::Signer>> signer_;  // swapped whole on reload
    std::unique_ptr<delivery::SmtpCourier> courier_;
};

}  // namespace cartero::cli
