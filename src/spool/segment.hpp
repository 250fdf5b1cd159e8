// Segment files of the fs spool: naming, creation, scanning.
//
// A segment is one append-only file `segment-<16 hex digits>` in the spool
// directory, starting with a SEGMENT record (its sequence number and the
// checksum nonce), followed by MESSAGE and DONE records (record.hpp).
//
// Trust: the spool directory belongs to cartero (0700); file contents are
// verified record by record anyway. Privileges: read/write in the spool directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/unique_fd.hpp"
#include "spool/record.hpp"

namespace cartero::spool {

// Octets of the SEGMENT record that opens every segment.
inline constexpr std::uint64_t segment_header_size = record::header_size + 16;

std::filesystem::path segment_path(const std::filesystem::path& directory, std::uint64_t sequence);

// Sequence numbers of the segment files in `directory`, ascending.
std::vector<std::uint64_t> list_segments(const std::filesystem::path& directory);

struct OpenSegment {
    std::uint64_t sequence = 0;
    base::UniqueFd fd;
    std::uint64_t offset = 0;  // where the next record goes
};

// Creates segment `sequence`, preallocates `preallocate` octets, writes and
// syncs its SEGMENT record, then fsyncs the directory: after this returns, the
// file is known to exist after a crash, so records synced into it later
// survive too. On failure the half-made file is removed, so the same sequence
// number can be tried again.
std::error_code create_segment(const std::filesystem::path& directory, std::uint64_t sequence, std::uint64_t nonce,
                               std::uint64_t preallocate, OpenSegment& out);

// What recovery finds in one segment.
struct SegmentScan {
    std::optional<record::SegmentHeader> header;  // nullopt: no valid SEGMENT record at offset 0
    std::vector<record::View> records;            // valid records after the header, in order
    std::size_t valid_end = 0;                    // offset just after the last valid record
    bool garbage_tail = false;  // non-zero octets after valid_end and no valid record after them
    bool holes = false;         // invalid octets with valid records after them
};

// Pure: reads every record of a segment held in memory. All-zero octets after
// the last record are the unused (preallocated) rest of the file, not damage.
SegmentScan scan_segment(std::string_view bytes);

}  // namespace cartero::spool
