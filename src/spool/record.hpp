// Spool records: the typed, checksummed units of the segment log (docs/queue.md).
//
//   offset 0  magic    u32  "CRT1" — zero here means the end of the log (preallocated space)
//          4  type     u8   segment | message | done
//          5  reserved 3 bytes, zero
//          8  length   u32  payload octets
//         12  crc      u32  CRC-32C over nonce, bytes 4..11, payload
//         16  payload, then zero padding to a multiple of 8 (so a scan can resynchronise)
//
// MESSAGE payload: id (u16 length + octets), sender (u32 + octets), auth user
// (u32 + octets), flags u8 (1 SMTPUTF8, 2 8BITMIME, 4 DSN section present,
// 8 origin present), received_at i64, recipient count u32, each recipient (u32 +
// octets), one done bit per recipient (u8s, LSB first), [DSN section], [origin u8],
// data size u64, data.
//
// DSN section (RFC 3461 parameters), present only when flag 4 is set: ret u8
// (0 unset, 1 FULL, 2 HDRS), envid (u16 + octets), then per recipient: notify u8
// (1 SUCCESS, 2 FAILURE, 4 DELAY, 8 NEVER), ORCPT addr-type (u16 + octets), ORCPT
// address (u16 + octets). Versioning by flag rather than a format number: records
// written before DSN support have the flag clear and decode unchanged, and a message
// that carries no DSN parameter is still written in exactly that older form. An
// older cartero reading a record with the DSN section would see a size mismatch and
// move it to corrupt/ (no silent misreading). Unknown flag or notify bits, and a ret
// above 2, are damage.
//
// Origin (smtp/origin.hpp: 0 internet, 1 authenticated, 2 local submission,
// 3 trusted network, 4 cartero), present only when flag 8 is set, the same way:
// a record without it implies "authenticated" when it names an auth user and
// "internet" otherwise (all that records from before origins could say), and the
// octet is written only when the origin differs from that, so a message from the
// internet or from an authenticated user is still written byte for byte as
// before. An origin octet equal to the implied one, or above 4, is damage.
//
// STATE payload (a message's delivery state, spool.hpp DeliveryState; the newest
// one of a message wins): id (u16 + octets), attempts u32, next_attempt i64 (unix
// seconds), flags u8 (1 held, 2 delay notice sent), recipient count u32, then per
// recipient: outcome u8 (0 unknown/pending, 1 delivered, 2 bounced) and last error
// (u16 + octets, at most max_error_text). Octets after that are tolerated and
// ignored, and so are flag bits and outcome values this version does not know
// (read as unknown): a later version may append fields and an earlier one still
// reads what it knows. A STATE is advice, not a promise: losing one costs one
// attempt's bookkeeping, so tolerance is cheaper than refusal here. cartero
// versions from before STATE records see type 4 as damage (salvage, corrupt/).
//
// All integers little-endian. The nonce is a random number chosen each time the
// spool is opened and stored in every segment's first record; seeding the
// checksum with it means bytes an attacker placed inside a message body cannot
// pass for a record when a damaged segment is scanned for survivors.
//
// Trust: encoding takes validated envelopes and untrusted message octets, which
// are stored verbatim and never interpreted. Decoding reads our own files but is
// bounds-checked as if hostile (a damaged disk is hostile enough). Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spool/spool.hpp"

namespace cartero::spool::record {

enum class Type : std::uint8_t { segment = 1, message = 2, done = 3, state = 4 };

inline constexpr std::uint32_t magic = 0x31545243;  // "CRT1" in file order
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t alignment = 8;
// A payload larger than this is damage, not a message (limits.message_size is far below).
inline constexpr std::uint32_t max_payload = 1u << 31;

// The octets of padding that follow a payload of `payload_size`.
std::size_t padding_for(std::size_t payload_size);

// A MESSAGE record split in two so the message data is never copied: `head` is
// header + envelope fields, then `data` verbatim, then `padding` zero octets.
struct EncodedMessage {
    std::string head;
    std::shared_ptr<const std::string> data;
    std::size_t padding = 0;
    std::size_t size() const { return head.size() + data->size() + padding; }
};

std::string encode_segment(std::uint64_t sequence, std::uint64_t nonce);
EncodedMessage encode_message(const std::string& id, const Envelope& envelope, const std::vector<bool>& done,
                              std::shared_ptr<const std::string> data, std::uint64_t nonce);
std::string encode_done(const std::string& id, std::uint32_t index, std::uint64_t nonce);
std::string encode_state(const std::string& id, const DeliveryState& state, std::uint64_t nonce);

// What sits at one offset of a segment.
struct View {
    enum class Status { valid, invalid };
    Status status = Status::invalid;
    Type type = Type::segment;
    std::string_view payload;
    std::size_t next = 0;  // offset after the record and its padding
};

// Reads and verifies the record at `offset` of `segment` with `nonce`.
View read_at(std::string_view segment, std::size_t offset, std::uint64_t nonce);

// The first offset after `offset` (aligned) holding a valid record, if any.
std::optional<std::size_t> resynchronise(std::string_view segment, std::size_t offset, std::uint64_t nonce);

struct SegmentHeader {
    std::uint64_t sequence = 0;
    std::uint64_t nonce = 0;
};
std::optional<SegmentHeader> decode_segment(std::string_view payload);

struct Done {
    std::string id;
    std::uint32_t index = 0;
};
std::optional<Done> decode_done(std::string_view payload);

struct State {
    std::string id;
    DeliveryState state;
};
std::optional<State> decode_state(std::string_view payload);

// The message with its done bits and a private copy of the data.
std::optional<QueuedMessage> decode_message(std::string_view payload);

}  // namespace cartero::spool::record
