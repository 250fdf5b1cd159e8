// ChunkReader: the BDAT framing of RFC 3030 2: "BDAT <size> [LAST]" is followed by
// exactly <size> octets of message content, taken as they are (no dot-stuffing,
// no end marker).
//
// Trust: untrusted octets and an untrusted size (up to 2^64-1: the reader only
// counts down, it never allocates by it). The same BodyCheck as DATA runs across
// all chunks of one message, so a CR ending one chunk and an LF starting the next
// is a correct line end, while a CR ending the LAST chunk is a bare CR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtp/body_check.hpp"

namespace cartero::smtp {

class ChunkReader {
public:
    explicit ChunkReader(std::size_t size_limit, std::size_t received_limit = no_received_limit)
        : check_(size_limit, received_limit) {}

    void begin_chunk(std::uint64_t size, bool last);

    struct Step {
        std::string_view body;     // a slice of the input; empty once the message is bad
        std::size_t consumed = 0;
        bool chunk_done = false;   // all octets of the current chunk are in
    };
    Step read(std::string_view input);

    bool last_chunk() const { return last_; }
    std::uint64_t chunk_size() const { return size_; }
    BodyProblem problem() const { return check_.problem(); }

private:
    std::uint64_t size_ = 0;
    std::uint64_t remaining_ = 0;
    bool last_ = false;
    BodyCheck check_;
};

}  // namespace cartero::smtp
