// ReplyParser: see reply_parser.hpp for the grammar and the bounds.
#include "smtp/reply_parser.hpp"

namespace cartero::smtp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39.
int parse_code(std::string_view line) {
    if (line.size() < 3) return 0;
    const char a = line[0], b = line[1], c = line[2];
    if (a < '2' || a > '5' || b < '0' || b > '5' || !is_digit(c)) return 0;
    return (a - '0') * 100 + (b - '0') * 10 + (c - '0');
}

// Reply text goes into logs and bounce messages: control characters (a bare CR,
// NUL, escape sequences) become '?'. UTF-8 octets are kept.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) c = '?';
    }
    return out;
}

std::size_t digit_run(std::string_view text, std::size_t from) {
    std::size_t n = 0;
    while (from + n < text.size() && is_digit(text[from + n])) ++n;
    return n;
}

}  // namespace

std::pair<std::string, std::string_view> split_enhanced_code(int reply_code, std::string_view text) {
    if (text.size() < 5 || text[0] != static_cast<char>('0' + reply_code / 100) || text[1] != '.') return {{}, text};
    const std::size_t subject = digit_run(text, 2);
    if (subject < 1 || subject > 3 || 2 + subject >= text.size() || text[2 + subject] != '.') return {{}, text};
    const std::size_t detail_at = 3 + subject;
    const std::size_t detail = digit_run(text, detail_at);
    const std::size_t end = detail_at + detail;
    if (detail < 1 || detail > 3 || (end < text.size() && text[end] != ' ')) return {{}, text};
    std::string_view rest = text.substr(end);
    if (!rest.empty()) rest.remove_prefix(1);
    return {std::string(text.substr(0, end)), rest};
}

std::string one_line(const Reply& reply) {
    std::string out = std::to_string(reply.code);
    if (!reply.enhanced.empty()) out += " " + reply.enhanced;
    if (!reply.text.empty()) out += " ";
    for (const char c : reply.text) {
        if (c == '\n') out += ", ";
        else out += c;
    }
    return out;
}

ReplyParser::ReplyParser(std::size_t line_length, std::size_t line_count)
    : line_length_(line_length < 5 ? 5 : line_length), line_count_(line_count < 1 ? 1 : line_count) {}

ReplyResult ReplyParser::next(std::string_view input) {
    std::size_t consumed = 0;
    for (;;) {
        const LineResult line = lines_.next(input.substr(consumed), line_length_);
        consumed += line.consumed;
        if (line.status == LineStatus::need_more) return {ReplyStatus::need_more, {}, {}, consumed};
        if (line.status == LineStatus::too_long) {
            return {ReplyStatus::malformed, {}, "reply line longer than " + std::to_string(line_length_) + " octets",
                    consumed};
        }
        ReplyResult result = add_line(line.line, consumed);
        if (result.status != ReplyStatus::need_more) return result;
    }
}

ReplyResult ReplyParser::add_line(std::string_view line, std::size_t consumed) {
    const int code = parse_code(line);
    if (code == 0) return {ReplyStatus::malformed, {}, "reply line without a valid code: " + printable(line.substr(0, 40)), consumed};
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
        return {ReplyStatus::malformed, {}, "reply code not followed by space or hyphen", consumed};
    }
    if (lines_seen_ > 0 && code != partial_.code) {
        return {ReplyStatus::malformed, {}, "reply lines with different codes (RFC 5321 4.2.1)", consumed};
    }
    if (++lines_seen_ > line_count_) {
        return {ReplyStatus::malformed, {}, "reply longer than " + std::to_string(line_count_) + " lines", consumed};
    }
    const auto [enhanced, text] = split_enhanced_code(code, line.size() > 4 ? line.substr(4) : std::string_view{});
    if (lines_seen_ == 1) {
        partial_ = Reply{code, enhanced, printable(text)};
    } else {
        partial_.text += '\n';
        partial_.text += printable(text);
    }
    const bool last = line.size() == 3 || line[3] == ' ';
    if (!last) return {ReplyStatus::need_more, {}, {}, consumed};
    ReplyResult done{ReplyStatus::complete, std::move(partial_), {}, consumed};
    partial_ = Reply{};
    lines_seen_ = 0;
    return done;
}

}  // namespace cartero::smtp
