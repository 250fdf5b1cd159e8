// DataReader: the DATA body of RFC 5321 4.1.1.4: finds the end of the mail data and
// removes the dot-stuffing of 4.5.2, handing out the content as zero-copy slices
// of the input.
//
// Trust: untrusted octets, in pieces split anywhere. The end is recognised ONLY at
// <CRLF>.<CRLF> (the first CRLF being the end of the last line, or the end of the
// DATA command line for an empty message). "\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n",
// "\r\n.\r" and every other near-miss are data, and the BodyCheck marks the message
// bad (bare CR or LF): the session then refuses it, after reading on to the real
// end. This is what closes SMTP smuggling (CVE-2023-51764/51765/51766): no octet
// sequence ends the message here unless every RFC-conformant hop would end it too.
//
// Dot-unstuffing (4.5.2): a line that starts with "." has that dot removed; the
// line "." alone ends the data. Every other octet (8-bit included) is content.
#pragma once

#include <cstddef>
#include <string_view>

#include "smtp/body_check.hpp"

namespace cartero::smtp {

class DataReader {
public:
    explicit DataReader(std::size_t size_limit, std::size_t received_limit = no_received_limit)
        : check_(size_limit, received_limit) {}

    struct Step {
        std::string_view body;     // content to hand on: a slice of the input; empty once the message is bad
        std::size_t consumed = 0;  // octets of the input used up; call again with the rest
        bool finished = false;     // <CRLF>.<CRLF> seen; nothing after it was consumed
    };

    // Reads from the start of `input`. Each call returns at most one slice, so a
    // caller loops until `consumed` covers the input or `finished` is set.
    Step read(std::string_view input);

    BodyProblem problem() const { return check_.problem(); }

private:
    Step emit(std::string_view raw, std::string_view body, bool finished);

    // How much of "\r\n.\r\n" the octets just read match. A message starts at
    // line_start: the CRLF of the DATA command counts as the first one.
    enum class Match { none, cr, line_start, dot, dot_cr };
    Match match_ = Match::line_start;
    BodyCheck check_;
};

}  // namespace cartero::smtp
