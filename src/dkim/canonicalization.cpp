// Relaxed canonicalization (RFC 6376 3.4.2, 3.4.4). See canonicalization.hpp.
#include "dkim/canonicalization.hpp"

#include <cstddef>

namespace cartero::dkim {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Appends `text` with every run of WSP as one SP and no WSP at either end.
// CR and LF are dropped first: in a header value they only occur as the CRLF of
// folding, and RFC 6376 3.4.2 unfolds before reducing whitespace.
void append_collapsed(std::string& out, std::string_view text) {
    bool pending_space = false;
    bool started = false;
    for (const char c : text) {
        if (c == '\r' || c == '\n') continue;
        if (is_wsp(c)) {
            pending_space = started;
            continue;
        }
        if (pending_space) out += ' ';
        out += c;
        pending_space = false;
        started = true;
    }
}

// One body line (without its CRLF) reduced per RFC 6376 3.4.4 rules a and b:
// runs of WSP become one SP and WSP at the end of the line disappears. Unlike a
// header value, WSP at the start of a line is kept (as one SP).
void reduce_line(std::string& out, std::string_view line) {
    bool pending_space = false;
    for (const char c : line) {
        if (is_wsp(c)) {
            pending_space = true;
            continue;
        }
        if (pending_space) out += ' ';
        out += c;
        pending_space = false;
    }
}

// Buffers canonical output so the sink sees few, large pieces.
class Batch {
public:
    explicit Batch(const BodySink& sink) : sink_(sink) {}
    std::string& buffer() { return buffer_; }
    void flush_if_full() {
        if (buffer_.size() >= kFlushAt) flush();
    }
    void flush() {
        if (!buffer_.empty()) sink_(buffer_);
        buffer_.clear();
    }

private:
    // Not a limit on the input: only how much canonical text is handed over at once.
    static constexpr std::size_t kFlushAt = 64 * 1024;
    const BodySink& sink_;
    std::string buffer_;
};

}  // namespace

std::string relaxed_header(std::string_view name, std::string_view value) {
    std::string out;
    out.reserve(name.size() + value.size() + 3);
    for (const char c : name) {
        if (!is_wsp(c)) out += lower(c);  // WSP before the colon is deleted
    }
    out += ':';
    append_collapsed(out, value);
    out += kCrlf;
    return out;
}

void relaxed_body(std::string_view body, const BodySink& sink) {
    Batch batch(sink);
    std::size_t empty_lines = 0;  // held back: empty lines at the very end are dropped (rule c)
    std::size_t at = 0;
    std::string line;
    while (at < body.size()) {
        std::size_t eol = body.find(kCrlf, at);
        if (eol == std::string_view::npos) eol = body.size();  // last line without CRLF: one is added
        line.clear();
        reduce_line(line, body.substr(at, eol - at));
        at = eol + kCrlf.size();
        if (line.empty()) {
            ++empty_lines;
            continue;
        }
        for (; empty_lines > 0; --empty_lines) batch.buffer() += kCrlf;
        batch.buffer() += line;
        batch.buffer() += kCrlf;
        batch.flush_if_full();
    }
    batch.flush();
}

std::string relaxed_body(std::string_view body) {
    std::string out;
    relaxed_body(body, [&out](std::string_view piece) { out += piece; });
    return out;
}

}  // namespace cartero::dkim
