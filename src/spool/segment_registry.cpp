// SegmentRegistry; see segment_registry.hpp for the rules.
#include "spool/segment_registry.hpp"

#include <algorithm>

namespace cartero::spool {
namespace {

bool all_done(const std::vector<bool>& done) {
    return std::all_of(done.begin(), done.end(), [](bool d) { return d; });
}

}  // namespace

void SegmentRegistry::open_segment(std::uint64_t sequence) {
    segments_.try_emplace(sequence);
    active_ = sequence;
}

void SegmentRegistry::add_message(const std::string& id, std::uint64_t home, std::vector<bool> done,
                                  std::vector<std::uint64_t> segments) {
    std::sort(segments.begin(), segments.end());
    segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
    Message message{home, std::move(done), std::move(segments), 0};
    if (all_done(message.done)) {
        anchor_chain(std::move(message.segments));
        return;
    }
    for (auto sequence : message.segments)
        if (sequence >= home) pin(sequence);
    live_[id] = std::move(message);
}

void SegmentRegistry::mark(const std::string& id, std::size_t index, std::uint64_t sequence) {
    const auto found = live_.find(id);
    if (found == live_.end() || index >= found->second.done.size()) return;
    Message& message = found->second;
    message.done[index] = true;
    if (message.segments.back() < sequence) {
        message.segments.push_back(sequence);
        pin(sequence);
    }
    if (all_done(message.done)) {
        complete(message);
        live_.erase(found);
    }
}

void SegmentRegistry::set_state(const std::string& id, std::uint64_t sequence) {
    const auto found = live_.find(id);
    if (found == live_.end() || found->second.state == sequence) return;
    pin(sequence);
    if (found->second.state != 0) unpin(found->second.state);
    found->second.state = sequence;
}

void SegmentRegistry::complete(Message& message) {
    // States only matter to a live message: a complete one leaves its STATE
    // segment free (recovery drops states of unknown IDs).
    if (message.state != 0) unpin(message.state);
    for (auto sequence : message.segments)
        if (sequence >= message.home) unpin(sequence);
    std::erase_if(message.segments, [this](std::uint64_t sequence) { return !segments_.contains(sequence); });
    anchor_chain(std::move(message.segments));
}

// The oldest segment of `chain` is left unpinned; every newer one is pinned
// until the oldest is deleted.
void SegmentRegistry::anchor_chain(std::vector<std::uint64_t> chain) {
    if (chain.size() < 2) return;
    const std::uint64_t anchor = chain.front();
    chain.erase(chain.begin());
    for (auto sequence : chain) pin(sequence);
    segments_[anchor].chains.push_back(std::move(chain));
}

void SegmentRegistry::unpin(std::uint64_t sequence) {
    const auto found = segments_.find(sequence);
    if (found != segments_.end() && found->second.pins > 0) --found->second.pins;
}

std::optional<std::uint64_t> SegmentRegistry::next_deletable() const {
    for (const auto& [sequence, segment] : segments_)
        if (sequence != active_ && segment.pins == 0) return sequence;
    return std::nullopt;
}

void SegmentRegistry::deleted(std::uint64_t sequence) {
    const auto found = segments_.find(sequence);
    if (found == segments_.end()) return;
    auto chains = std::move(found->second.chains);
    segments_.erase(found);
    for (auto& chain : chains) {
        // The next segment of the chain becomes its anchor: unpinned, holding the rest.
        unpin(chain.front());
        std::vector<std::uint64_t> rest(chain.begin() + 1, chain.end());
        if (!rest.empty()) segments_[chain.front()].chains.push_back(std::move(rest));
    }
}

}  // namespace cartero::spool
