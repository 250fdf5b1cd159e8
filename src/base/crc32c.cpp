// CRC-32C; see crc32c.hpp.
#include "base/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace cartero::base {
namespace {

constexpr std::uint32_t reflected_polynomial = 0x82F63B78;

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ reflected_polynomial : c >> 1;
        table[i] = c;
    }
    return table;
}

constexpr auto table = make_table();

std::uint32_t crc_by_table(std::string_view bytes, std::uint32_t crc) {
    for (unsigned char byte : bytes) crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_by_instruction(std::string_view bytes, std::uint32_t crc) {
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    std::uint64_t wide = crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        wide = _mm_crc32_u64(wide, word);
    }
    crc = static_cast<std::uint32_t>(wide);
    for (; n > 0; --n, ++p) crc = _mm_crc32_u8(crc, static_cast<unsigned char>(*p));
    return crc;
}

// __builtin_cpu_init must run first when this is evaluated during static initialisation.
const bool has_instruction = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t previous) {
    std::uint32_t crc = ~previous;
#if defined(__x86_64__)
    crc = has_instruction ? crc_by_instruction(bytes, crc) : crc_by_table(bytes, crc);
#else
    crc = crc_by_table(bytes, crc);
#endif
    return ~crc;
}

}  // namespace cartero::base
