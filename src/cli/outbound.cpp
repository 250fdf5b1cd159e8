// Outbound; see outbound.hpp.
#include "cli/outbound.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "accounts/address.hpp"
#include "config/schema.hpp"
#include "dns/unbound_resolver.hpp"
#include "smtp/from_header.hpp"

namespace cartero::cli {
namespace {

std::shared_ptr<dns::Resolver> make_resolver(const config::Config& config) {
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
    return std::make_shared<const dkim::Signer>(std::move(loaded.signer));
}

// Logged once the keys are in use (on reload, not when only prepared).
void log_keys(const dkim::Signer& signer) {
    for (const auto& key : signer.keys())
        spdlog::info("DKIM key for {} (selector {}) loaded", key.domain, key.selector);
}

// The domain a message may be signed as (docs/dkim.md): only mail that our
// users or cartero itself sent (smtp/origin.hpp; never mail from the internet,
// even when it claims one of our domains), and only as the domain of its From:
// header, the one DMARC aligns with (RFC 7489 3.1.1); "" = do not sign. A From:
// naming addresses in several domains has no single aligned domain: not signed.
std::string signing_domain(const spool::QueuedMessage& message) {
    if (!smtp::is_ours(message.envelope.origin)) return {};
    const smtp::FromField from = smtp::from_field(*message.data);  // the header block only
    if (from.status != smtp::FromField::Status::found) return {};
    const std::string domain = accounts::normalize_domain(accounts::domain_of(from.addresses.front()));
    for (const auto& address : from.addresses)
        if (accounts::normalize_domain(accounts::domain_of(address)) != domain) return {};
    return domain;
}

}  // namespace

delivery::SignHook Outbound::sign_hook() {
    return [this](const spool::QueuedMessage& message) {
        const std::shared_ptr<const dkim::Signer> signer = signer_.load();
        const std::string domain = signing_domain(message);
        if (domain.empty() || !signer->has_key(domain)) return std::string{};
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        dkim::SignResult result = signer->sign(*message.data, domain, now);
        if (!result.is_signed())
            spdlog::warn("{}: not DKIM-signed for {}: {} {}", message.id, domain,
                         dkim::to_string(*result.why_not), result.detail);
        return std::move(result.headers);
    };
}

Outbound::Outbound(const config::Config& config)
    : resolver_(make_resolver(config)),
      signer_(load_signer(config)),
      courier_(std::make_unique<delivery::SmtpCourier>(config, resolver_, sign_hook())) {
    log_keys(*signer_.load());
}

Outbound::Prepared Outbound::prepare(const config::Config& config,
                                     const std::vector<const config::KeySpec*>& changed) const {
    Prepared prepared;
    prepared.config = std::make_shared<const config::Config>(config);
    const bool dns_changed = std::any_of(changed.begin(), changed.end(),
                                         [](const config::KeySpec* spec) { return spec->key.starts_with("dns."); });
    if (dns_changed) prepared.resolver = make_resolver(config);
    prepared.signer = load_signer(config);
    return prepared;
}

void Outbound::apply(Prepared prepared) {
    if (prepared.resolver) resolver_.swap(std::move(prepared.resolver));
    log_keys(*prepared.signer);
    signer_.store(std::move(prepared.signer));
    courier_->update(*prepared.config);
}

}  // namespace cartero::cli
