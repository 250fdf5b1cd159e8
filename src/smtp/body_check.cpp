// BodyCheck: see body_check.hpp.
#include "smtp/body_check.hpp"

namespace cartero::smtp {

void BodyCheck::flag(BodyProblem problem) {
    // The first problem is the one reported; later octets only need to be skipped.
    if (problem_ == BodyProblem::none) problem_ = problem;
}

void BodyCheck::scan(std::string_view raw) {
    for (const char c : raw) {
        if (problem_ != BodyProblem::none) return;
        // A CR not followed by LF, or an LF not preceded by CR (RFC 5321 2.3.8).
        if (previous_was_cr_ != (c == '\n')) flag(BodyProblem::bare_line_ending);
        if (c == '\0') flag(BodyProblem::nul);
        previous_was_cr_ = c == '\r';
    }
}

void BodyCheck::content(std::string_view octets) {
    count(octets.size());
    // Once the header block has ended this returns at once: big bodies cost nothing.
    received_.feed(octets);
    if (received_.count() > received_limit_) flag(BodyProblem::too_many_hops);
}

void BodyCheck::count(std::size_t octets) {
    if (octets > size_limit_ - size_) {  // size_ <= size_limit_ always: no overflow
        flag(BodyProblem::too_big);
        size_ = size_limit_;
        return;
    }
    size_ += octets;
}

void BodyCheck::announce(std::uint64_t octets) {
    if (octets > size_limit_ - size_) flag(BodyProblem::too_big);
}

void BodyCheck::finish() {
    if (previous_was_cr_) flag(BodyProblem::bare_line_ending);
}

}  // namespace cartero::smtp
