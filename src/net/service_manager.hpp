// systemd's readiness protocol (sd_notify(3), Type=notify): cartero says when
// it is ready (listeners open, I/O threads running), reloading (SIGHUP) and
// stopping, and feeds the watchdog (WatchdogSec=) while every I/O thread still
// answers. Without NOTIFY_SOCKET (not started by systemd) every call does
// nothing.
//
// Trust: NOTIFY_SOCKET and WATCHDOG_USEC come from the service manager.
// Privileges: none (a datagram to the socket systemd opened for us).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace cartero::net::service_manager {

void ready(std::string_view status);
void reloading();
void stopping();

// How often systemd wants a sign of life, when WatchdogSec= is set for us.
std::optional<std::chrono::microseconds> watchdog_interval();
void watchdog_alive();

}  // namespace cartero::net::service_manager
