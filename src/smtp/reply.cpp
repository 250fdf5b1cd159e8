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
