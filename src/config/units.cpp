// Durations and sizes: see units.hpp. One table of units per kind drives both
// parsing and formatting, so the two cannot disagree.
#include "config/units.hpp"

#include <charconv>
#include <limits>
#include <span>

namespace cartero::config {
namespace {

struct Unit {
    std::string_view suffix;
    std::int64_t factor;
};

// Largest first: formatting picks the first unit that divides exactly.
constexpr Unit kDurationUnits[] = {
    {"d", 24 * 3600 * 1000}, {"h", 3600 * 1000}, {"m", 60 * 1000}, {"s", 1000}, {"ms", 1},
};

constexpr std::int64_t kKi = 1024;
constexpr std::int64_t kK = 1000;
constexpr Unit kSizeUnits[] = {
    {"GiB", kKi * kKi * kKi}, {"MiB", kKi * kKi}, {"KiB", kKi},
    {"GB", kK * kK * kK},     {"MB", kK * kK},     {"KB", kK},
    {"B", 1},
};

std::optional<std::int64_t> parse_with_units(std::string_view text, std::span<const Unit> units) {
    std::uint64_t number = 0;
    const char* end = text.data() + text.size();
    const auto [rest, error] = std::from_chars(text.data(), end, number);
    if (error != std::errc{} || rest == text.data()) {
        return std::nullopt;
    }
    std::string_view suffix(rest, static_cast<std::size_t>(end - rest));
    if (suffix.starts_with(' ')) {
        suffix.remove_prefix(1);
    }
    for (const Unit& unit : units) {
        if (suffix != unit.suffix) {
            continue;
        }
        const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / unit.factor);
        if (number > limit) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(number) * unit.factor;
    }
    return std::nullopt;
}

// The smallest unit has factor 1, so it is the fallback that always fits.
std::string format_with_units(std::int64_t value, std::span<const Unit> units) {
    for (const Unit& unit : units.first(units.size() - 1)) {
        if (value != 0 && value % unit.factor == 0) {
            return std::to_string(value / unit.factor) + std::string(unit.suffix);
        }
    }
    return std::to_string(value) + std::string(units.back().suffix);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const auto value = parse_with_units(text, kDurationUnits);
    if (!value) {
        return std::nullopt;
    }
    return std::chrono::milliseconds{*value};
}

std::optional<std::int64_t> parse_size(std::string_view text) { return parse_with_units(text, kSizeUnits); }

std::string format_duration(std::chrono::milliseconds duration) {
    // "0s" reads better than "0ms" for a duration that is simply off.
    if (duration.count() == 0) {
        return "0s";
    }
    return format_with_units(duration.count(), kDurationUnits);
}

std::string format_size(std::int64_t octets) { return format_with_units(octets, kSizeUnits); }

}  // namespace cartero::config
