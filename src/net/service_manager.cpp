#include "net/service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace cartero::net::service_manager {

void ready(std::string_view status) {
    const std::string message = "READY=1\nSTATUS=" + std::string(status);
    sd_notify(/*unset_environment=*/0, message.c_str());
}

void reloading() { sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration"); }

void stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining sessions"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

void watchdog_alive() { sd_notify(0, "WATCHDOG=1"); }

}  // namespace cartero::net::service_manager
