// See srv_order.hpp.
#include "dns/srv_order.hpp"

#include <algorithm>
#include <map>

namespace cartero::dns {

SrvTargets order_srv(const std::vector<SrvRecord>& records, const RandomBelow& random) {
    SrvTargets out;
    if (records.size() == 1 && records.front().target == ".") {
        out.not_offered = true;
        return out;
    }
    std::map<std::uint16_t, std::vector<SrvRecord>> by_priority;
    for (const auto& record : records) {
        if (record.target != ".") by_priority[record.priority].push_back(record);
    }
    for (auto& [priority, group] : by_priority) {
        // Weight-0 records first (RFC 2782), keeping their order otherwise.
        std::stable_partition(group.begin(), group.end(), [](const SrvRecord& r) { return r.weight == 0; });
        while (!group.empty()) {
            std::size_t total = 0;
            for (const auto& r : group) total += r.weight;
            const std::size_t draw = random(total + 1);  // in [0, total]
            std::size_t running = 0;
            auto chosen = group.begin();
            for (auto it = group.begin(); it != group.end(); ++it) {
                running += it->weight;
                if (running >= draw) {
                    chosen = it;
                    break;
                }
            }
            out.targets.push_back(*chosen);
            group.erase(chosen);
        }
    }
    return out;
}

}  // namespace cartero::dns
