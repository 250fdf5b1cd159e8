// ConnectionLimiter: counts open connections per client IP and in total across
// all I/O threads (limits.connections_per_ip, limits.connections_total).
//
// Touched once at accept and once at close, never per command, so one mutex is
// cheap here and keeps the count exact across threads.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cartero::net {

class ConnectionLimiter {
public:
    enum class Admission { admitted, too_many_from_ip, too_many_total };

    Admission admit(const std::string& ip, std::size_t per_ip_limit, std::size_t total_limit);
    void release(const std::string& ip);
    std::size_t total() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> per_ip_;
    std::size_t total_ = 0;
};

// Releases one admitted connection when it goes out of scope.
class AdmissionTicket {
public:
    AdmissionTicket(ConnectionLimiter& limiter, std::string ip) : limiter_(&limiter), ip_(std::move(ip)) {}
    AdmissionTicket(AdmissionTicket&& other) noexcept : limiter_(other.limiter_), ip_(std::move(other.ip_)) {
        other.limiter_ = nullptr;
    }
    AdmissionTicket(const AdmissionTicket&) = delete;
    AdmissionTicket& operator=(const AdmissionTicket&) = delete;
    AdmissionTicket& operator=(AdmissionTicket&&) = delete;
    ~AdmissionTicket() {
        if (limiter_ != nullptr) limiter_->release(ip_);
    }

private:
    ConnectionLimiter* limiter_;
    std::string ip_;
};

}  // namespace cartero::net
