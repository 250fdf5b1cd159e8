// Queue IDs: 16 characters, sortable by time, safe as file names and in logs.
//
//   12 chars  a 60-bit stamp: microseconds since the epoch, bumped by one when
//             two IDs would share a microsecond (so IDs from one generator are
//             strictly increasing, lock-free via compare-exchange)
//    4 chars  20 random bits chosen when the generator is made, so two
//             processes on different spools (or hosts) do not collide
//
// The alphabet is Crockford's base32 (0-9, A-Z without I L O U), in ASCII order,
// so string order is time order. One spool directory is owned by one process
// (the fs spool holds a lock), and recovery seeds the generator with the
// highest stamp found, so IDs stay unique across restarts even if the clock
// steps back.
//
// Trust: no input. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::spool {

class QueueIdGenerator {
public:
    QueueIdGenerator();

    // A new ID stamped with now (or later).
    std::string next();

    // Never issue a stamp at or below `stamp` (used after recovery).
    void advance_past(std::uint64_t stamp);

private:
    std::atomic<std::uint64_t> last_stamp_{0};
    std::string suffix_;
};

inline constexpr std::size_t queue_id_length = 16;

// The stamp of a well-formed queue ID, nullopt for anything else.
std::optional<std::uint64_t> queue_id_stamp(std::string_view id);

}  // namespace cartero::spool
