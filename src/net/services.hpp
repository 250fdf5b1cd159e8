// What a connection needs from the rest of the server.
//
// Runtime is what SIGHUP may replace (config, policy, certificate); a
// connection keeps the Runtime it started with, so a reload never changes the
// rules under a session in progress. Services live for the whole server run.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "config/network.hpp"
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

struct Services {
    spool::Spool& spool;
    scheduler::DeliveryQueue& queue;
    auth::Authenticator& authenticator;
    ConnectionLimiter limiter;
    MemoryBudget receiving;  // limits.receiving_memory
};

}  // namespace cartero::net
