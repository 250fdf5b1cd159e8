// ClientRates: what each client network did lately, for the per-client-address
// limits (docs/limits.md "Client addresses"): new connections per minute,
// messages (MAIL) per minute, and errors (bad commands, RCPT to unknown users)
// within limits.client_error_window. Keys are client networks
// (config::client_network: /32 and /64 by default), so an IPv6 client cannot
// start afresh by changing its address inside its own /64.
//
// Windows slide: each event is a time stamp kept as long as it counts, and at
// most as many as the limit needs (the oldest go first), so memory per key is
// bounded by the limits, and keys whose events all expired are swept whenever
// the table has doubled since the last sweep. Touched at connect, MAIL and
// error replies, never per octet: one mutex is cheap here and the counts stay
// exact across I/O threads. In memory: a restart forgets them (a minute's or
// window's worth), which is acceptable for rates, unlike the sending quotas.
//
// Trust: keys derive from the peer's address (kernel-given, not client-chosen text).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cartero::net {

class ClientRates {
public:
    using Clock = std::chrono::steady_clock;

    // Records a new connection or message if fewer than `limit` happened in
    // the window ending `now`; false (and nothing recorded) when over.
    bool admit_connection(const std::string& network, std::size_t limit, Clock::duration window, Clock::time_point now);
    bool admit_message(const std::string& network, std::size_t limit, Clock::duration window, Clock::time_point now);
    // Records an error; returns how many errors the network has in the window (this one included).
    std::size_t add_error(const std::string& network, std::size_t keep, Clock::duration window, Clock::time_point now);
    std::size_t errors(const std::string& network, Clock::duration window, Clock::time_point now);

private:
    using Events = std::deque<Clock::time_point>;
    struct Record {
        Events connections;
        Events messages;
        Events errors;
    };
    static void expire(Events& events, Clock::duration window, Clock::time_point now);
    bool admit(Events Record::*kind, const std::string& network, std::size_t limit, Clock::duration window,
               Clock::time_point now);
    void sweep_locked(Clock::time_point now);

    std::mutex mutex_;
    std::unordered_map<std::string, Record> records_;
    std::size_t size_at_last_sweep_ = 0;
    Clock::duration longest_window_{};
};

}  // namespace cartero::net
