// CRC-32C (Castagnoli, the iSCSI / ext4 / RFC 3720 polynomial 0x1EDC6F41):
// detects torn and damaged records. Uses the SSE 4.2 crc32 instruction when
// the CPU has it, a table otherwise; both give the same values.
//
// Trust: pure function. Not a MAC: it catches accidents, not forgeries.
#pragma once

#include <cstdint>
#include <string_view>

namespace cartero::base {

// Continues a CRC-32C over `bytes`; pass the previous result to chain pieces.
// crc32c("123456789") == 0xE3069283 (RFC 3720 B.4 check value).
std::uint32_t crc32c(std::string_view bytes, std::uint32_t previous = 0);

}  // namespace cartero::base
