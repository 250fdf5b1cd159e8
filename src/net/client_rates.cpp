#include "net/client_rates.hpp"

#include <algorithm>
#include <iterator>

namespace cartero::net {

void ClientRates::expire(Events& events, Clock::duration window, Clock::time_point now) {
    while (!events.empty() && events.front() + window <= now) events.pop_front();
}

bool ClientRates::admit(Events Record::*kind, const std::string& network, std::size_t limit, Clock::duration window,
                        Clock::time_point now) {
    std::scoped_lock lock(mutex_);
    longest_window_ = std::max(longest_window_, window);
    sweep_locked(now);
    Events& events = records_[network].*kind;
    expire(events, window, now);
    if (events.size() >= limit) return false;
    events.push_back(now);
    return true;
}

bool ClientRates::admit_connection(const std::string& network, std::size_t limit, Clock::duration window,
                                   Clock::time_point now) {
    return admit(&Record::connections, network, limit, window, now);
}

bool ClientRates::admit_message(const std::string& network, std::size_t limit, Clock::duration window,
                                Clock::time_point now) {
    return admit(&Record::messages, network, limit, window, now);
}

std::size_t ClientRates::add_error(const std::string& network, std::size_t keep, Clock::duration window,
                                   Clock::time_point now) {
    std::scoped_lock lock(mutex_);
    longest_window_ = std::max(longest_window_, window);
    sweep_locked(now);
    Events& events = records_[network].errors;
    expire(events, window, now);
    events.push_back(now);
    while (events.size() > keep) events.pop_front();  // past the disconnect limit, more change nothing
    return events.size();
}

std::size_t ClientRates::errors(const std::string& network, Clock::duration window, Clock::time_point now) {
    std::scoped_lock lock(mutex_);
    const auto found = records_.find(network);
    if (found == records_.end()) return 0;
    expire(found->second.errors, window, now);
    return found->second.errors.size();
}

// Forgets networks with nothing left in any window, once the table doubled.
void ClientRates::sweep_locked(Clock::time_point now) {
    if (records_.size() < 2 * std::max<std::size_t>(size_at_last_sweep_, 64)) return;
    for (auto it = records_.begin(); it != records_.end();) {
        Record& record = it->second;
        for (Events* events : {&record.connections, &record.messages, &record.errors})
            expire(*events, longest_window_, now);
        const bool idle = record.connections.empty() && record.messages.empty() && record.errors.empty();
        it = idle ? records_.erase(it) : std::next(it);
    }
    size_at_last_sweep_ = records_.size();
}

}  // namespace cartero::net
