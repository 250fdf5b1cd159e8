// LineReader: see line_reader.hpp for the line-ending policy and the bound.
#include "smtp/line_reader.hpp"

namespace cartero::smtp {

namespace {

std::string_view without_line_ending(std::string_view line_with_lf) {
    line_with_lf.remove_suffix(1);
    if (!line_with_lf.empty() && line_with_lf.back() == '\r') line_with_lf.remove_suffix(1);
    return line_with_lf;
}

}  // namespace

LineResult LineReader::next(std::string_view input, std::size_t limit) {
    std::size_t skipped = 0;
    if (skipping_rest_of_long_line_) {
        const std::size_t lf = input.find('\n');
        if (lf == std::string_view::npos) return {LineStatus::need_more, {}, input.size()};
        skipped = lf + 1;
        skipping_rest_of_long_line_ = false;
        input.remove_prefix(skipped);
    }
    // Look for LF only within the limit, so an endless line costs O(limit) per call.
    const std::size_t lf = input.substr(0, limit).find('\n');
    if (lf != std::string_view::npos) {
        return {LineStatus::complete, without_line_ending(input.substr(0, lf + 1)), skipped + lf + 1};
    }
    if (input.size() < limit) return {LineStatus::need_more, {}, skipped};
    skipping_rest_of_long_line_ = true;
    return {LineStatus::too_long, {}, skipped + limit};
}

}  // namespace cartero::smtp
