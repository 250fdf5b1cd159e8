// ReplyParser: cuts server replies out of the byte stream a client reads, for the
// client state machine (client_session.hpp).
//
// Trust: every octet is untrusted (a hostile MX, or anyone on the path before
// STARTTLS). Lines are bounded by `line_length` and replies by `line_count`; past
// either bound, or on any line that is not "ddd", "ddd SP text" or "ddd-text", the
// parser reports an error and the session gives up on the connection. It never
// holds more than one reply's lines (OpenSMTPD CVE-2020-8794: out-of-bounds read
// on a multi-line reply from a hostile server).
//
// RFC 5321 4.2 (reply lines; the code is the same on every line of a reply, 4.2.1),
// 4.2.1 (first digit 2..5, second 0..5), 4.5.3.1.5 (reply line <= 512 octets: the
// limit here is larger, as real servers exceed it); RFC 3463 and 2034 (an enhanced
// status code "class.subject.detail" at the start of the text, class = first digit).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "smtp/line_reader.hpp"
#include "smtp/reply.hpp"

namespace cartero::smtp {

enum class ReplyStatus {
    complete,   // `reply` holds one whole reply
    need_more,  // consume `consumed` octets and read more
    malformed,  // `error` says why; the stream cannot be trusted any more
};

struct ReplyResult {
    ReplyStatus status = ReplyStatus::need_more;
    Reply reply;
    std::string error;
    std::size_t consumed = 0;
};

class ReplyParser {
public:
    ReplyParser(std::size_t line_length, std::size_t line_count);

    // Consumes whole lines of `input` until one reply is complete. A line split
    // across calls is left in the input (consumed stops before it).
    ReplyResult next(std::string_view input);

private:
    ReplyResult add_line(std::string_view line, std::size_t consumed);

    std::size_t line_length_;
    std::size_t line_count_;
    LineReader lines_;
    Reply partial_;             // the lines of an unfinished multi-line reply
    std::size_t lines_seen_ = 0;
};

// Splits "5.1.1 text" into the enhanced code and the text when the code is well
// formed (RFC 3463 2: class 2, 4 or 5, then 1-3 digits, then 1-3 digits) and its
// class matches the reply code's first digit; otherwise the enhanced code is empty.
std::pair<std::string, std::string_view> split_enhanced_code(int reply_code, std::string_view text);

// The reply as one log-friendly line: "550 5.1.1 text, more text".
std::string one_line(const Reply& reply);

}  // namespace cartero::smtp
