// LocalCourier: see local_courier.hpp.
#include "delivery/local/local_courier.hpp"

#include "accounts/address.hpp"
#include "config/listen_address.hpp"
#include "delivery/local/lmtp.hpp"

namespace cartero::delivery {
namespace {

std::shared_ptr<Courier> default_lmtp(const std::string& address, const config::Config& config) {
    // The address was checked when the config was loaded; this parse cannot fail.
    return std::make_shared<LmtpCourier>(lmtp_peer(config::parse_lmtp_address(address)), lmtp_options(config));
}

}  // namespace

LocalCourier::LocalCourier(const config::Config& config, Courier& maildir, LmtpFactory make_lmtp)
    : maildir_(maildir), make_lmtp_(make_lmtp ? std::move(make_lmtp) : LmtpFactory(default_lmtp)) {
    table_ = build(config, nullptr);
}

void LocalCourier::update(const config::Config& config) {
    std::shared_ptr<const Table> previous;
    {
        std::lock_guard lock(mutex_);
        previous = table_;
    }
    auto fresh = build(config, previous.get());
    std::lock_guard lock(mutex_);
    table_ = std::move(fresh);
}

std::shared_ptr<const LocalCourier::Table> LocalCourier::build(const config::Config& config,
                                                               const Table* previous) const {
    auto table = std::make_shared<Table>();
    table->config = std::make_shared<const config::Config>(config);
    const bool same_options = previous != nullptr && lmtp_options(*previous->config) == lmtp_options(config);
    const auto courier_at = [&](const std::string& address) {
        auto& courier = table->by_address[address];
        if (courier) return courier;
        if (same_options) {
            if (const auto kept = previous->by_address.find(address); kept != previous->by_address.end())
                return courier = kept->second;
        }
        return courier = make_lmtp_(address, config);
    };
    for (const config::LmtpServer& server : config.lmtp_servers)
        table->by_domain.emplace(server.domain, courier_at(server.address));
    if (!config.delivery.lmtp.empty()) table->fallback = courier_at(config.delivery.lmtp);
    return table;
}

std::shared_ptr<Courier> LocalCourier::lmtp_for(std::string_view domain) const {
    std::lock_guard lock(mutex_);
    if (const auto found = table_->by_domain.find(domain); found != table_->by_domain.end()) return found->second;
    return table_->fallback;
}

void LocalCourier::abandon() {
    std::shared_ptr<const Table> table;
    {
        std::lock_guard lock(mutex_);
        table = table_;
    }
    for (const auto& [address, courier] : table->by_address) courier->abandon();
}

DeliveryOutcome LocalCourier::deliver(const spool::QueuedMessage& message, std::string_view recipient) {
    // Held for the whole delivery, so an update() meanwhile cannot destroy it. The
    // domain normalised as the config stores it (lower-case A-label).
    const std::shared_ptr<Courier> lmtp = lmtp_for(accounts::normalize_domain(accounts::domain_of(recipient)));
    return lmtp ? lmtp->deliver(message, recipient) : maildir_.deliver(message, recipient);
}

}  // namespace cartero::delivery
