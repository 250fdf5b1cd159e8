// Next hop; see next_hop.hpp.
#include "delivery/remote/next_hop.hpp"

#include <algorithm>

namespace cartero::delivery {
namespace {

TlsMode mode_for(config::TlsPolicy policy) {
    switch (policy) {
        case config::TlsPolicy::none: return TlsMode::none;
        case config::TlsPolicy::may: return TlsMode::opportunistic;
        case config::TlsPolicy::must: return TlsMode::required;
    }
    return TlsMode::opportunistic;
}

TlsMode mode_for(config::RelayTls tls) {
    switch (tls) {
        case config::RelayTls::starttls: return TlsMode::required;
        case config::RelayTls::implicit: return TlsMode::implicit;
        case config::RelayTls::none: return TlsMode::none;  // loopback only, checked at load
    }
    return TlsMode::required;
}

NextHop relay_hop(const config::Relay& relay) {
    return {"relay:" + relay.name, &relay, mode_for(relay.tls), static_cast<std::uint16_t>(relay.port)};
}

const config::Destination* destination_of(const config::Config& config, std::string_view domain) {
    const auto found = std::find_if(config.destinations.begin(), config.destinations.end(),
                                    [&](const config::Destination& d) { return d.domain == domain; });
    return found == config.destinations.end() ? nullptr : &*found;
}

// RFC 3463 codes for what DNS said: X.1.2 "bad destination system address"
// (the domain does not exist), X.1.10 null MX (RFC 7505 4.2), X.4.3 "directory
// server failure" (the lookup failed), X.4.4 "unable to route".
DeliveryOutcome dns_failure(bool permanent, std::string enhanced, std::string text) {
    const int code = permanent ? 550 : 451;
    if (!permanent) enhanced[0] = '4';
    std::string detail = text;
    return {permanent ? DeliveryStatus::permanent : DeliveryStatus::temporary, smtp::Reply{code, enhanced, text},
            std::move(detail)};
}

// Adds the addresses of `host` (IPv6 first) to `peers`; returns the failure if none.
// `secure`, when given, says whether the answer was DNSSEC-validated.
std::optional<dns::AddressAnswer> add_addresses(dns::Resolver& resolver, const std::string& host, std::uint16_t port,
                                                std::vector<Peer>& peers, bool* secure = nullptr) {
    dns::AddressAnswer answer = resolver.addresses(host);
    if (secure != nullptr) *secure = answer.secure;
    if (answer.status != dns::Status::ok) return answer;
    for (const auto* family : {&answer.ipv6, &answer.ipv4})
        for (const auto& address : *family) peers.push_back({host, address.to_string(), port, {}});
    return std::nullopt;
}

Peers relay_peers(dns::Resolver& resolver, const NextHop& hop) {
    Peers result;
    if (const auto failure = add_addresses(resolver, hop.relay->host, hop.port, result.peers)) {
        const bool permanent = failure->status != dns::Status::temporary;
        // A relay that cannot be found is the operator's to fix: keep the mail.
        result.failure = dns_failure(false, "4.4.4",
                                     "relay " + hop.relay->name + " (" + hop.relay->host + "): " + failure->error +
                                         (permanent ? " (check relay.host)" : ""));
    }
    return result;
}

Peers mx_peers(dns::Resolver& resolver, const NextHop& hop, std::string_view domain, const dns::RandomBelow& random) {
    Peers result;
    const dns::MxAnswer answer = resolver.mx(domain);
    const dns::MxHosts hosts = dns::order_mx(domain, answer, random);
    if (hosts.verdict != dns::MxVerdict::ok) {
        const bool permanent = hosts.verdict == dns::MxVerdict::permanent;
        const std::string enhanced = answer.null_mx ? "5.1.10" : permanent ? "5.1.2" : "4.4.3";
        result.failure = dns_failure(permanent, enhanced, hosts.error);
        return result;
    }
    bool any_temporary = false;
    std::string last_error;
    for (const auto& host : hosts.hosts) {
        bool secure = false;
        if (const auto failure = add_addresses(resolver, host.host, hop.port, result.peers, &secure)) {
            any_temporary = any_temporary || failure->status == dns::Status::temporary;
            last_error = "MX host " + host.host + ": " + failure->error;
        } else if (answer.secure && secure) {
            result.dnssec_hosts.insert(host.host);
        }
    }
    if (result.peers.empty()) {
        // Every MX host failed to resolve: definite answers are a broken domain
        // (Postfix bounces these too), a failed lookup may heal.
        result.failure = dns_failure(!any_temporary, "5.4.4", last_error);
    }
    return result;
}

}  // namespace

NextHop next_hop(const config::Config& config, std::string_view domain) {
    const config::Destination* destination = destination_of(config, domain);
    if (destination != nullptr && !destination->relay.empty())
        return relay_hop(*config::find_relay(config, destination->relay));
    if (destination == nullptr && !config.delivery.relay.empty())
        return relay_hop(*config::find_relay(config, config.delivery.relay));
    const config::TlsPolicy policy = destination != nullptr && destination->tls ? *destination->tls : config.delivery.tls;
    return {"mx:" + std::string(domain), nullptr, mode_for(policy), static_cast<std::uint16_t>(config.delivery.remote_port)};
}

std::string display(const Peer& peer) {
    if (!peer.unix_socket.empty()) return peer.unix_socket.string();
    return peer.host + "[" + peer.address + "]:" + std::to_string(peer.port);
}

Peers peers_for(dns::Resolver& resolver, const NextHop& hop, std::string_view domain, const dns::RandomBelow& random) {
    return hop.relay != nullptr ? relay_peers(resolver, hop) : mx_peers(resolver, hop, domain, random);
}

}  // namespace cartero::delivery
