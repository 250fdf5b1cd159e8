// From header parsing; see from_header.hpp.
#include "smtp/from_header.hpp"

#include <optional>

#include "smtp/ascii.hpp"
#include "smtp/header_fields.hpp"

namespace cartero::smtp {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && (is_wsp(text.front()) || text.front() == '\r' || text.front() == '\n'))
        text.remove_prefix(1);
    while (!text.empty() && (is_wsp(text.back()) || text.back() == '\r' || text.back() == '\n'))
        text.remove_suffix(1);
    return text;
}

// Reads a quoted string or a comment starting at text[at] (the opening
// character); returns the index after its end, or nullopt when it never ends.
// RFC 5322 3.2.4 / 3.2.2: a backslash quotes the next character; comments nest.
std::optional<std::size_t> skip_delimited(std::string_view text, std::size_t at, char open, char close) {
    int depth = 0;
    for (std::size_t i = at; i < text.size(); ++i) {
        if (text[i] == '\\') {
            ++i;
        } else if (open != close && text[i] == open) {
            ++depth;
        } else if (text[i] == close && (open == close ? i != at : --depth == 0)) {
            return i + 1;
        }
    }
    return std::nullopt;
}

// An addr-spec with comments already removed: "local@domain", no WSP outside
// quotes, neither side empty. An obsolete route ("@a,@b:local@domain", RFC 5322
// 4.4) inside angle brackets is dropped.
std::optional<std::string> addr_spec(std::string_view text, bool angle) {
    text = trimmed(text);
    if (angle && !text.empty() && text.front() == '@') {
        const std::size_t colon = text.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        text = trimmed(text.substr(colon + 1));
    }
    std::string out;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && quoted && i + 1 < text.size()) {
            out += c;
            out += text[++i];
            continue;
        }
        if (c == '"') quoted = !quoted;
        if (!quoted && (is_wsp(c) || c == '\r' || c == '\n')) {
            // RFC 5322 4.4 (obs-local-part, obs-domain): CFWS around the dots and the "@".
            const bool next_to_separator = (!out.empty() && (out.back() == '.' || out.back() == '@')) ||
                                           (i + 1 < text.size() && (text[i + 1] == '.' || text[i + 1] == '@' ||
                                                                    is_wsp(text[i + 1]) || text[i + 1] == '\r' ||
                                                                    text[i + 1] == '\n'));
            if (!next_to_separator) return std::nullopt;
            continue;
        }
        out += c;
    }
    const std::size_t at = out.rfind('@');
    if (quoted || at == std::string::npos || at == 0 || at + 1 == out.size()) return std::nullopt;
    return out;
}

// Accumulates one mailbox of a list: the text outside comments, and the
// content of an angle address when there is one.
struct MailboxDraft {
    std::string outside;
    std::string angle;
    bool has_angle = false;

    // Adds the finished mailbox to `out`; false when it is not one. An empty
    // element (",,", an empty group) is skipped, as RFC 5322 4.4 allows.
    bool finish(std::vector<std::string>& out) {
        const bool empty = !has_angle && trimmed(outside).empty();
        std::optional<std::string> address = empty ? std::nullopt : addr_spec(has_angle ? angle : outside, has_angle);
        *this = {};
        if (empty) return true;
        if (!address) return false;
        out.push_back(std::move(*address));
        return true;
    }
};

}  // namespace

std::string_view header_block(std::string_view message) {
    if (message.starts_with("\r\n")) return {};
    const std::size_t end = message.find("\r\n\r\n");
    return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

void HeaderCollector::add(std::string_view bytes) {
    if (complete_) return;
    const std::size_t room = limit_ > text_.size() ? limit_ - text_.size() : 0;
    // Search from a little before the new octets: the empty line may straddle two slices.
    const std::size_t from = text_.size() < 3 ? 0 : text_.size() - 3;
    text_.append(bytes.substr(0, room));
    complete_ = text_.starts_with("\r\n") || text_.find("\r\n\r\n", from) != std::string::npos || room <= bytes.size();
}

std::vector<std::string> mailbox_list(std::string_view value) {
    std::vector<std::string> out;
    MailboxDraft draft;
    bool in_group = false;
    for (std::size_t i = 0; i < value.size();) {
        const char c = value[i];
        if (c == '(' || c == '"') {
            const auto end = skip_delimited(value, i, c, c == '(' ? ')' : '"');
            if (!end) return {};
            if (c == '"' && draft.has_angle) return {};  // a quoted string after "<...>"
            if (c == '"') draft.outside.append(value.substr(i, *end - i));
            i = *end;
            continue;
        }
        if (c == '<') {
            if (draft.has_angle) return {};
            std::size_t end = i + 1;
            while (end < value.size() && value[end] != '>') {
                if (value[end] == '"') {
                    const auto quoted_end = skip_delimited(value, end, '"', '"');
                    if (!quoted_end) return {};
                    end = *quoted_end;
                } else {
                    ++end;
                }
            }
            if (end >= value.size()) return {};
            draft.has_angle = true;
            draft.angle = std::string(value.substr(i + 1, end - i - 1));
            draft.outside.clear();  // the display name
            i = end + 1;
            continue;
        }
        if (c == ':' && !in_group && !draft.has_angle) {
            in_group = true;  // RFC 5322 3.4: "display-name:" opens a group
            draft = {};
        } else if (c == ',' || (c == ';' && in_group)) {
            if (!draft.finish(out)) return {};
            if (c == ';') in_group = false;
        } else if (!draft.has_angle) {
            draft.outside += c;
        } else if (!is_wsp(c) && c != '\r' && c != '\n') {
            return {};  // text after "<...>" that is not a comment
        }
        ++i;
    }
    if (in_group || !draft.finish(out)) return {};
    return out;
}

// The fields are found by the scanner that counts Received fields and reads
// Delivered-To (header_fields.hpp): one reading of the header block for all.
FromField from_field(std::string_view block) {
    HeaderFieldScanner scanner("From", block.size() + 1);  // a limit no value reaches: none is dropped
    scanner.feed(block);
    if (scanner.count() == 0) return {};
    if (scanner.count() > 1) return {FromField::Status::several, {}};
    FromField result{FromField::Status::found, mailbox_list(scanner.values().front())};
    if (result.addresses.empty()) result.status = FromField::Status::unparseable;
    return result;
}

}  // namespace cartero::smtp
