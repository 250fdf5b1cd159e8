// What a connection needs from the rest of the server.
//
// Runtime is what SIGHUP may replace (config, policy, certificate); a
// connection keeps the Runtime it started with, so a reload never changes the
// rules under a session in progress. Services live for the whole server run.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "accounts/directory.hpp"
#include "accounts/sending_ledger.hpp"
#include "config/config.hpp"
#include "config/network.hpp"
#include "net/client_rates.hpp"
#include "net/connection_limiter.hpp"
#include "net/memory_budget.hpp"
#include "smtp/session.hpp"

namespace boost::asio::ssl {
class context;
}
namespace cartero::spool {
class Spool;
}
namespace cartero::scheduler {
class DeliveryQueue;
}
namespace cartero::auth {
class Authenticator;
}

namespace cartero::net {

struct Runtime {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const smtp::SessionPolicy> policy;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: no certificate, no TLS
    config::NetworkSet trusted;
};

// Accounts whose mail went on hold (limits.on_exceed = hold) and for which
// postmaster was told, so it is told once per account and server run.
struct HoldNotices {
    std::mutex mutex;
    std::set<std::string> told;
    bool first(const std::string& account) {
        std::scoped_lock lock(mutex);
        return told.insert(account).second;
    }
};

struct Services {
    spool::Spool& spool;
    scheduler::DeliveryQueue& queue;
    auth::Authenticator& authenticator;
    accounts::SendingLedger& ledger;  // sending quotas per account (transaction_limits.hpp)
    std::function<std::shared_ptr<const accounts::Directory>()> directory;  // the snapshot in force
    ConnectionLimiter limiter = {};
    MemoryBudget receiving = {};  // limits.receiving_memory
    ClientRates rates = {};       // per client network: connections, messages, errors per window
    HoldNotices hold_notices = {};
};

}  // namespace cartero::net
