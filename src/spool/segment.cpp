// Segment files; see segment.hpp.
#include "spool/segment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/file_io.hpp"

namespace cartero::spool {
namespace {

constexpr std::string_view prefix = "segment-";
constexpr std::size_t hex_digits = 16;

std::optional<std::uint64_t> parse_name(const std::string& name) {
    if (name.size() != prefix.size() + hex_digits || !name.starts_with(prefix)) return std::nullopt;
    std::uint64_t sequence = 0;
    for (char c : std::string_view(name).substr(prefix.size())) {
        const auto digit = std::string_view("0123456789abcdef").find(c);
        if (digit == std::string_view::npos) return std::nullopt;
        sequence = sequence << 4 | digit;
    }
    return sequence;
}

bool all_zero(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

}  // namespace

std::filesystem::path segment_path(const std::filesystem::path& directory, std::uint64_t sequence) {
    char name[prefix.size() + hex_digits + 1];
    std::snprintf(name, sizeof name, "segment-%016llx", static_cast<unsigned long long>(sequence));
    return directory / name;
}

std::vector<std::uint64_t> list_segments(const std::filesystem::path& directory) {
    std::vector<std::uint64_t> sequences;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        if (!entry.is_regular_file()) continue;
        if (auto sequence = parse_name(entry.path().filename().string())) sequences.push_back(*sequence);
    }
    std::sort(sequences.begin(), sequences.end());
    return sequences;
}

std::error_code create_segment(const std::filesystem::path& directory, std::uint64_t sequence, std::uint64_t nonce,
                               std::uint64_t preallocate, OpenSegment& out) {
    std::error_code error;
    const auto path = segment_path(directory, sequence);
    base::UniqueFd fd = base::open_file(path, O_WRONLY | O_CREAT | O_EXCL, error);
    if (error) return error;
    // Preallocating means appends do not grow the file: fdatasync then has no
    // size change to journal (ext4 still converts unwritten extents). Not all
    // file systems support it (tmpfs before 3.5, some FUSE), so this is only an optimisation.
    // A file system without room for the preallocation fails here; the append then fails
    // (or succeeds) on its own, so the result is deliberately ignored.
    (void)::fallocate(fd.get(), 0, 0, static_cast<off_t>(preallocate));
    const std::string header = record::encode_segment(sequence, nonce);
    error = base::pwrite_all(fd.get(), header, 0);
    if (!error && ::fdatasync(fd.get()) != 0) error = base::last_error();
    if (!error) error = base::fsync_directory(directory);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
        return error;
    }
    out = OpenSegment{sequence, std::move(fd), header.size()};
    return {};
}

SegmentScan scan_segment(std::string_view bytes) {
    SegmentScan scan;
    const record::View first = record::read_at(bytes, 0, 0);
    if (first.status != record::View::Status::valid || first.type != record::Type::segment) return scan;
    scan.header = record::decode_segment(first.payload);
    if (!scan.header) return scan;
    const std::uint64_t nonce = scan.header->nonce;
    std::size_t offset = scan.valid_end = first.next;
    while (offset < bytes.size()) {
        const record::View view = record::read_at(bytes, offset, nonce);
        if (view.status == record::View::Status::valid) {
            scan.records.push_back(view);
            offset = scan.valid_end = view.next;
            continue;
        }
        if (all_zero(bytes.substr(offset))) break;
        const auto next = record::resynchronise(bytes, offset, nonce);
        if (!next) {
            scan.garbage_tail = true;
            break;
        }
        scan.holes = true;
        offset = *next;
    }
    return scan;
}

}  // namespace cartero::spool
