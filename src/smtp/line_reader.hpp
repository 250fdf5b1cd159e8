// LineReader: cuts command lines (and SASL response lines) out of the input stream,
// never holding more than the line limit of one unfinished line.
//
// Trust: untrusted network octets. An over-long line is reported once and the rest of
// it, up to and including the next LF, is skipped without being kept (chasquid 1.2 DoS:
// unbounded line length).
//
// RFC 5321 2.3.8 and 4.5.3.1.4 (command line <= 512 octets by default; the limit here
// is limits.command_line_length, counted with the line ending).
//
// Line endings: a command line ends with CRLF, but a bare LF is accepted as the end of
// a *command* line, as Postfix does by default. It cannot smuggle anything: a command
// is a single line whose meaning does not depend on the terminator, and the reply
// answers exactly what was parsed. Inside DATA (data_reader.hpp) a bare LF is never a
// line end. A bare CR stays in the line and fails the command's grammar.
#pragma once

#include <cstddef>
#include <string_view>

namespace cartero::smtp {

enum class LineStatus {
    complete,   // `line` holds one line without its CRLF/LF
    too_long,   // the line crossed the limit: reply 500 5.5.2 once; its rest is skipped
    need_more,  // no full line yet: consume `consumed` octets, then read more
};

struct LineResult {
    LineStatus status = LineStatus::need_more;
    std::string_view line;      // a view into the input, valid while the input is
    std::size_t consumed = 0;   // octets of the input used up (the line and its ending, or skipped)
};

class LineReader {
public:
    // `limit` counts the line with its ending; at least 3 ("X\r\n").
    LineResult next(std::string_view input, std::size_t limit);

private:
    bool skipping_rest_of_long_line_ = false;
};

}  // namespace cartero::smtp
