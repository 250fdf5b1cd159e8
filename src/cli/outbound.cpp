// Outbound; see outbound.hpp.
#include "cli/outbound.hpp"

#include <chrono>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "accounts/address.hpp"
#include "dns/unbound_resolver.hpp"

namespace cartero::cli {
namespace {

std::unique_ptr<dns::Resolver> make_resolver(const config::Config& config) {
    dns::ResolverOptions options;
    options.resolver = config.dns.resolver;
    options.trust_anchor_file = config.dns.trust_anchor.string();
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.dns.timeout);
    try {
        return dns::make_unbound_resolver(options);
    } catch (const std::exception& error) {
        throw config::ConfigError(config.source.string() + ": dns: " + error.what() +
                                  " (check dns.resolver and dns.trust_anchor, see docs/dns.md)");
    }
}

std::shared_ptr<const dkim::Signer> load_signer(const config::Config& config) {
    dkim::LoadedSigner loaded = dkim::load_signer(config);
    if (!loaded.problems.empty()) {
        const auto& problem = loaded.problems.front();
        throw config::ConfigError("dkim: " + problem.message);
    }
    for (const auto& key : loaded.signer.keys())
        spdlog::info("DKIM key for {} (selector {}) loaded", key.domain, key.selector);
    return std::make_shared<const dkim::Signer>(std::move(loaded.signer));
}

// Signs as the envelope sender's domain (the domain that answers for the
// message, and the one SPF checks); a bounce (null sender) as this host.
delivery::SignHook sign_hook(std::shared_ptr<const dkim::Signer> signer, std::string hostname) {
    return [signer = std::move(signer), hostname = std::move(hostname)](const spool::QueuedMessage& message) {
        const std::string domain = message.envelope.sender.empty()
                                       ? hostname
                                       : std::string(accounts::domain_of(message.envelope.sender));
        if (!signer->has_key(domain)) return std::string{};
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        dkim::SignResult result = signer->sign(*message.data, domain, now);
        if (!result.is_signed())
            spdlog::warn("{}: not DKIM-signed for {}: {} {}", message.id, domain,
                         dkim::to_string(*result.why_not), result.detail);
        return std::move(result.headers);
    };
}

}  // namespace

Outbound::Outbound(const config::Config& config)
    : resolver_(make_resolver(config)), signer_(load_signer(config)),
      courier_(std::make_unique<delivery::SmtpCourier>(config, *resolver_, sign_hook(signer_, config.hostname))) {}

}  // namespace cartero::cli
