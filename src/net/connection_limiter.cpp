#include "net/connection_limiter.hpp"

namespace cartero::net {

ConnectionLimiter::Admission ConnectionLimiter::admit(const std::string& ip, std::size_t per_ip_limit,
                                                      std::size_t total_limit) {
    std::lock_guard lock(mutex_);
    if (total_ >= total_limit) return Admission::too_many_total;
    std::size_t& from_ip = per_ip_[ip];
    if (from_ip >= per_ip_limit) {
        if (from_ip == 0) per_ip_.erase(ip);
        return Admission::too_many_from_ip;
    }
    ++from_ip;
    ++total_;
    return Admission::admitted;
}

void ConnectionLimiter::release(const std::string& ip) {
    std::lock_guard lock(mutex_);
    const auto entry = per_ip_.find(ip);
    if (entry == per_ip_.end()) return;
    if (--entry->second == 0) per_ip_.erase(entry);
    --total_;
}

std::size_t ConnectionLimiter::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

}  // namespace cartero::net
