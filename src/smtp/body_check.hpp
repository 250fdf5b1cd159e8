// BodyCheck: the checks every message body passes, whatever the framing (DATA or
// BDAT): strict CRLF line endings, no NUL, the size limit, and the hop count (the
// Received fields of the header block, limits.received_headers).
//
// Trust: untrusted octets, seen in arbitrary pieces (TCP segments, BDAT chunks): the
// state carries over from one piece to the next, so a CR at the end of one piece and
// an LF at the start of the next is a correct CRLF.
//
// RFCs: 5321 2.3.8 (lines end with CRLF; bare CR and LF are not allowed) and 4.5.3.1.6;
// refusing them in the server closes SMTP smuggling (CVE-2023-51764/51765/51766):
// a message that a later hop could split differently never gets in. 6152 (8BITMIME)
// allows any other octet except NUL. 1870 (SIZE). 5321 6.3: a message with too
// many Received fields is looping and is refused (554 5.4.6, as Postfix's
// hopcount_limit); 6.2 makes the refusal at the end of data the right place, as
// the sender then hears of it from its own server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "smtp/header_fields.hpp"

namespace cartero::smtp {

enum class BodyProblem {
    none,
    bare_line_ending,  // 550 5.6.0
    nul,               // 550 5.6.0
    too_big,           // 552 5.3.4
    too_many_hops,     // 554 5.4.6
};

// For readers that only frame (tests, fuzzing): no hop count.
inline constexpr std::size_t no_received_limit = std::numeric_limits<std::size_t>::max();

class BodyCheck {
public:
    // More than `received_limit` Received fields in the header block is a loop.
    explicit BodyCheck(std::size_t size_limit, std::size_t received_limit = no_received_limit)
        : size_limit_(size_limit), received_limit_(received_limit) {}

    // Raw octets exactly as received (dots included for DATA).
    void scan(std::string_view raw);
    // Message content (after dot-unstuffing): counted, and its header block
    // scanned for Received fields.
    void content(std::string_view octets);
    // Octets of message content, checked against the limit without overflow
    // whatever the total.
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
    std::size_t received_limit_;
    std::size_t size_ = 0;
    HeaderFieldScanner received_{"Received"};
    bool previous_was_cr_ = false;
    BodyProblem problem_ = BodyProblem::none;
};

}  // namespace cartero::smtp
