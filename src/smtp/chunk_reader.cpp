// ChunkReader: see chunk_reader.hpp.
#include "smtp/chunk_reader.hpp"

#include <algorithm>

namespace cartero::smtp {

void ChunkReader::begin_chunk(std::uint64_t size, bool last) {
    size_ = size;
    remaining_ = size;
    last_ = last;
    check_.announce(size);
    if (remaining_ == 0 && last_) check_.finish();  // "BDAT 0 LAST" ends the message now
}

ChunkReader::Step ChunkReader::read(std::string_view input) {
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
    std::string_view body = input.substr(0, take);
    remaining_ -= take;
    check_.scan(body);
    check_.content(body);
    if (remaining_ == 0 && last_ && take > 0) check_.finish();
    if (check_.problem() != BodyProblem::none) body = {};
    return {body, take, remaining_ == 0};
}

}  // namespace cartero::smtp
