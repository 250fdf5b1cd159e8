// Queue IDs; see queue_id.hpp.
#include "spool/queue_id.hpp"

#include <algorithm>
#include <chrono>
#include <random>

namespace cartero::spool {
namespace {

constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t stamp_chars = 12;
constexpr std::size_t suffix_chars = queue_id_length - stamp_chars;

std::string base32(std::uint64_t value, std::size_t chars) {
    std::string out(chars, '0');
    for (std::size_t i = chars; i-- > 0; value >>= 5) out[i] = alphabet[value & 31];
    return out;
}

std::uint64_t now_microseconds() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
}

}  // namespace

QueueIdGenerator::QueueIdGenerator() {
    std::random_device random;
    suffix_ = base32(random(), suffix_chars);
}

std::string QueueIdGenerator::next() {
    std::uint64_t previous = last_stamp_.load(std::memory_order_relaxed);
    std::uint64_t stamp;
    do {
        stamp = std::max(now_microseconds(), previous + 1);
    } while (!last_stamp_.compare_exchange_weak(previous, stamp, std::memory_order_relaxed));
    return base32(stamp, stamp_chars) + suffix_;
}

void QueueIdGenerator::advance_past(std::uint64_t stamp) {
    std::uint64_t previous = last_stamp_.load(std::memory_order_relaxed);
    while (previous < stamp && !last_stamp_.compare_exchange_weak(previous, stamp, std::memory_order_relaxed)) {
    }
}

std::optional<std::uint64_t> queue_id_stamp(std::string_view id) {
    if (id.size() != queue_id_length) return std::nullopt;
    std::uint64_t stamp = 0;
    for (std::size_t i = 0; i < queue_id_length; ++i) {
        const auto digit = alphabet.find(id[i]);
        if (digit == std::string_view::npos) return std::nullopt;
        if (i < stamp_chars) stamp = stamp << 5 | digit;
    }
    return stamp;
}

}  // namespace cartero::spool
