// Reply: the wire form of a server reply (RFC 5321 4.2: "code SP text" on the last
// line, "code-text" on the others; RFC 2034: the enhanced code after the code).
//
// Trust: the text is cartero's own (see reply.hpp); it is split only at '\n'.
#include "smtp/reply.hpp"

namespace cartero::smtp {

std::string Reply::wire() const {
    std::string out;
    std::string_view rest = text;
    const std::string code_text = std::to_string(code);
    for (;;) {
        const auto newline = rest.find('\n');
        const bool last = newline == std::string_view::npos;
        out += code_text;
        out += last ? ' ' : '-';
        if (!enhanced.empty()) {
            out += enhanced;
            out += ' ';
        }
        out += rest.substr(0, newline);
        out += "\r\n";
        if (last) break;
        rest.remove_prefix(newline + 1);
    }
    return out;
}

Reply make_reply(int code, std::string_view enhanced, std::string_view text) {
    return Reply{code, std::string(enhanced), std::string(text)};
}

}  // namespace cartero::smtp
