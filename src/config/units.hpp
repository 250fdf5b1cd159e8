// Durations and sizes the way operators write them: 30, "30s", "5m", "500ms";
// 10485760, "10MiB", "10MB". Pure functions, no I/O.
//
// Trust: operator input; every parse is bounded and overflow-checked.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartero::config {

// "<digits>[ ]<unit>" with unit ms, s, m, h or d. A bare number is refused: in a
// string the unit is mandatory (a TOML integer is the way to say plain seconds).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "<digits>[ ]<unit>" with unit B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024). Units are case-sensitive so "mb" is not silently a megabyte.
std::optional<std::int64_t> parse_size(std::string_view text);

// The shortest exact spelling in the largest unit: 300000ms -> "5m", 1500ms -> "1500ms".
std::string format_duration(std::chrono::milliseconds duration);

// IEC units first, then SI, then octets: 10485760 -> "10MiB", 10000000 -> "10MB", 7 -> "7B".
std::string format_size(std::int64_t octets);

inline constexpr std::string_view kDurationUnitsHelp = "ms, s, m, h, d";
inline constexpr std::string_view kSizeUnitsHelp = "B, KB, MB, GB, KiB, MiB, GiB";

}  // namespace cartero::config
