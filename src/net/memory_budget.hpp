// MemoryBudget: the octets of messages being received, over all sessions.
//
// A message is held in memory from its first octet until the spool commit, so
// without a bound many clients sending large messages at once could exhaust
// memory (connections_total × message_size). Past limits.receiving_memory a
// message is refused with 452 4.3.1 and the client retries later.
#pragma once

#include <atomic>
#include <cstddef>

namespace cartero::net {

class MemoryBudget {
public:
    // Takes `octets` if the total stays within `limit` (the limit comes from the
    // running config, so a reload can change it).
    bool try_take(std::size_t octets, std::size_t limit) {
        std::size_t used = used_.load(std::memory_order_relaxed);
        do {
            if (octets > limit || used > limit - octets) return false;
        } while (!used_.compare_exchange_weak(used, used + octets, std::memory_order_relaxed));
        return true;
    }
    void give_back(std::size_t octets) { used_.fetch_sub(octets, std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> used_{0};
};

}  // namespace cartero::net
