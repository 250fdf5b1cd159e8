// BodyCheck: the checks every message body passes, whatever the framing (DATA or
// BDAT): strict CRLF line endings, no NUL, and the size limit.
//
// Trust: untrusted octets, seen in arbitrary pieces (TCP segments, BDAT chunks): the
// state carries over from one piece to the next, so a CR at the end of one piece and
// an LF at the start of the next is a correct CRLF.
//
// RFCs: 5321 2.3.8 (lines end with CRLF; bare CR and LF are not allowed) and 4.5.3.1.6;
// refusing them in the server closes SMTP smuggling (CVE-2023-51764/51765/51766):
// a message that a later hop could split differently never gets in. 6152 (8BITMIME)
// allows any other octet except NUL. 1870 (SIZE).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cartero::smtp {

enum class BodyProblem {
    none,
    bare_line_ending,  // 550 5.6.0
    nul,               // 550 5.6.0
    too_big,           // 552 5.3.4
};

class BodyCheck {
public:
    explicit BodyCheck(std::size_t size_limit) : size_limit_(size_limit) {}

    // Raw octets exactly as received (dots included for DATA).
    void scan(std::string_view raw);
    // Octets of message content (after dot-unstuffing); checked against the limit
    // without overflow whatever the total.
    void count(std::size_t octets);
    // BDAT announces a chunk's size before sending it (RFC 3030 2): a chunk that
    // cannot fit under the limit is flagged at once instead of after its octets.
    void announce(std::uint64_t octets);
    // The body has ended: a CR still waiting for its LF was bare.
    void finish();

    BodyProblem problem() const { return problem_; }

private:
    void flag(BodyProblem problem);

    std::size_t size_limit_;
    std::size_t size_ = 0;
    bool previous_was_cr_ = false;
    BodyProblem problem_ = BodyProblem::none;
};

}  // namespace cartero::smtp
