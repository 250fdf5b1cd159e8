// DotStuffer: see dot_stuffer.hpp for the line-ending rule.
#include "smtp/dot_stuffer.hpp"

namespace cartero::smtp {

void DotStuffer::end_line(std::string& out) {
    out += "\r\n";
    at_line_start_ = true;
    pending_cr_ = false;
}

void DotStuffer::add(std::string_view block, std::string& out) {
    out.reserve(out.size() + block.size() + block.size() / 64 + 2);
    for (const char c : block) {
        if (pending_cr_) {
            end_line(out);  // CRLF, or a bare CR made into CRLF
            if (c == '\n') continue;
        }
        if (c == '\r') {
            pending_cr_ = true;
            continue;
        }
        if (c == '\n') {  // a bare LF
            end_line(out);
            continue;
        }
        if (at_line_start_ && c == '.') out += '.';  // RFC 5321 4.5.2
        out += c;
        at_line_start_ = false;
    }
}

void DotStuffer::finish(std::string& out) {
    if (pending_cr_ || !at_line_start_) end_line(out);
    out += ".\r\n";
}

}  // namespace cartero::smtp
