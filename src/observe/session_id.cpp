// Session IDs: see session_id.hpp.
#include "observe/session_id.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <random>

namespace cartero::observe {
namespace {

std::uint32_t random_start() {
    std::random_device device;
    return device();
}

}  // namespace

std::string session_id() {
    static std::atomic<std::uint32_t> next{random_start()};
    return fmt::format("s{:08x}", next.fetch_add(1, std::memory_order_relaxed));
}

}  // namespace cartero::observe
