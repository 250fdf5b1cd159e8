// HeaderFieldScanner: finds the fields of one name in a message's header block
// (RFC 5322 2.2) as the content streams by, in pieces split anywhere, without
// keeping the message. Used to count Received fields while a message arrives
// (limits.received_headers, RFC 5321 6.3) and to read Delivered-To fields when
// one is delivered (the forwarding-loop check, delivery/delivered_to.hpp).
//
// The header block ends at the first empty line, or at the first line that is
// neither a field ("name:" with a name of printable ASCII, RFC 5322 2.2 and 3.6.8,
// whitespace before the colon allowed as in the obsolete syntax of 4.5) nor a
// continuation of one (2.2.3). After that every octet is body: feeding it costs
// one comparison per piece, so a large body costs nothing, and a "Received:" line
// in a body (a forwarded message quoted inline) is never counted.
//
// Trust: untrusted octets. Memory is bounded: only the values of the named field
// are kept, each up to `value_limit` octets (a longer one is dropped, not cut, so
// a truncated value never matches anything); the count never overflows.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartero::smtp {

class HeaderFieldScanner {
public:
    // Fields named `name` (ASCII case-insensitive, RFC 5322 1.2.2) are counted;
    // with value_limit > 0 their unfolded values (2.2.3) are kept too.
    explicit HeaderFieldScanner(std::string name, std::size_t value_limit = 0)
        : name_(std::move(name)), value_limit_(value_limit) {}

    // Message content (dot-unstuffed), in order.
    void feed(std::string_view content);

    std::size_t count() const { return count_; }
    const std::vector<std::string>& values() const { return values_; }
    bool header_ended() const { return state_ == State::body; }

private:
    enum class State { line_start, name, before_colon, value, value_cr, empty_line_cr, body };
    void octet(char c);
    void start_line(char c);
    void name_octet(char c);
    void field_named();
    void keep(char c);

    std::string name_;
    std::size_t value_limit_;
    State state_ = State::line_start;
    std::size_t name_length_ = 0;  // octets of the field name seen so far
    bool name_matches_ = false;    // those octets are a prefix of name_
    bool keeping_ = false;         // the current field is one of ours and its value is kept
    bool in_field_ = false;        // a field has started: a continuation line is legal
    std::size_t count_ = 0;
    std::vector<std::string> values_;
};

// The values of every `name` field of a whole message (its header block only).
std::vector<std::string> header_field_values(std::string_view message, std::string name, std::size_t value_limit);

}  // namespace cartero::smtp
