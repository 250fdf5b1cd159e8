// HeaderFieldScanner: see header_fields.hpp.
#include "smtp/header_fields.hpp"

#include "smtp/ascii.hpp"

namespace cartero::smtp {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 3.6.8: ftext = %d33-57 / %d59-126 (printable ASCII except ':').
bool is_ftext(char c) { return c >= 33 && c <= 126 && c != ':'; }

}  // namespace

void HeaderFieldScanner::feed(std::string_view content) {
    for (const char c : content) {
        if (state_ == State::body) return;
        octet(c);
    }
}

void HeaderFieldScanner::octet(char c) {
    switch (state_) {
        case State::line_start: return start_line(c);
        case State::name: return name_octet(c);
        case State::before_colon:
            if (c == ':') return field_named();
            if (!is_wsp(c)) state_ = State::body;
            return;
        case State::value:
            if (c == '\r') state_ = State::value_cr;
            else keep(c);
            return;
        case State::value_cr:
            if (c == '\n') {
                state_ = State::line_start;  // the field may go on (RFC 5322 2.2.3)
                return;
            }
            keep('\r');  // a bare CR is part of the value (the session refuses it anyway)
            state_ = State::value;
            return octet(c);
        case State::empty_line_cr:
        case State::body: state_ = State::body; return;
    }
}

// The first octet of a line: the end of the header block, a continuation of the
// field before, or the first octet of a new field's name.
void HeaderFieldScanner::start_line(char c) {
    if (c == '\r') {
        state_ = State::empty_line_cr;  // "\r\n" alone ends the block; "\r" + anything else is no field either
        return;
    }
    if (is_wsp(c)) {
        state_ = in_field_ ? State::value : State::body;  // a first line that starts with WSP is no field
        keep(c);  // unfolding removes the CRLF only (RFC 5322 2.2.3)
        return;
    }
    keeping_ = false;
    in_field_ = false;
    name_length_ = 0;
    name_matches_ = true;
    state_ = State::name;
    name_octet(c);
}

void HeaderFieldScanner::name_octet(char c) {
    if (c == ':' && name_length_ > 0) return field_named();
    if (is_wsp(c) && name_length_ > 0) {
        state_ = State::before_colon;
        return;
    }
    if (!is_ftext(c)) {
        state_ = State::body;
        return;
    }
    name_matches_ = name_matches_ && name_length_ < name_.size() && lower_ascii(c) == lower_ascii(name_[name_length_]);
    ++name_length_;
}

void HeaderFieldScanner::field_named() {
    in_field_ = true;
    state_ = State::value;
    if (!name_matches_ || name_length_ != name_.size()) return;
    ++count_;  // at most one per octet fed: no overflow
    keeping_ = value_limit_ > 0;
    if (keeping_) values_.emplace_back();
}

void HeaderFieldScanner::keep(char c) {
    if (!keeping_) return;
    if (values_.back().size() >= value_limit_) {
        values_.pop_back();  // too long to be anything we look for: dropped whole
        keeping_ = false;
        return;
    }
    values_.back() += c;
}

std::vector<std::string> header_field_values(std::string_view message, std::string name, std::size_t value_limit) {
    HeaderFieldScanner scanner(std::move(name), value_limit);
    scanner.feed(message);
    return scanner.values();
}

}  // namespace cartero::smtp
