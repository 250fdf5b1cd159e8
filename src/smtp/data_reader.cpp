// DataReader: see data_reader.hpp for the end-of-data rule and why it is strict.
#include "smtp/data_reader.hpp"

namespace cartero::smtp {

DataReader::Step DataReader::emit(std::string_view raw, std::string_view body, bool finished) {
    check_.scan(raw);
    if (finished) check_.finish();
    check_.content(body);
    if (check_.problem() != BodyProblem::none) body = {};
    return {body, raw.size(), finished};
}

DataReader::Step DataReader::read(std::string_view input) {
    std::size_t span_start = 0;
    std::size_t i = 0;
    for (; i < input.size(); ++i) {
        const char c = input[i];
        if (match_ == Match::line_start && c == '.') {
            // RFC 5321 4.5.2: a leading dot is never content (stuffing or the end).
            if (i > span_start) break;  // hand out the content before it first
            match_ = Match::dot;
            span_start = i + 1;
            continue;
        }
        if (match_ == Match::dot && c == '\r') {
            // Held back: content only if no LF follows, and then the message is bad anyway.
            match_ = Match::dot_cr;
            span_start = i + 1;
            continue;
        }
        if (match_ == Match::dot_cr && c == '\n') return emit(input.substr(0, i + 1), {}, true);
        match_ = c == '\r' ? Match::cr : (c == '\n' && match_ == Match::cr ? Match::line_start : Match::none);
    }
    return emit(input.substr(0, i), input.substr(span_start, i - span_start), false);
}

}  // namespace cartero::smtp
