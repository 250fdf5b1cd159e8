// Address: the path grammar of RFC 5321 4.1.2 (with the UTF-8 extensions of RFC 6531
// 3.3) and the esmtp-param grammar, parsed with a cursor over untrusted input.
//
// Trust: `argument` is the raw text after "MAIL FROM:" / "RCPT TO:" from the network.
// Nothing is copied out before it has matched the grammar, so no CR, LF, NUL, SP
// (outside quotes) or control character can reach an Address.
//
// RFCs: 5321 4.1.2 (Path, Mailbox, Local-part, Domain, address-literal, esmtp-param),
// 4.1.3 (address literals), 4.5.3.1 (size limits), 6531 3.3 (UTF-8 atext, qtext, U-labels).
#include "smtp/address.hpp"

#include "smtp/ascii.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace cartero::smtp {

std::string Address::str() const {
    if (null()) return {};
    if (domain.empty()) return local;  // "postmaster" (RFC 5321 4.5.1)
    return local + "@" + domain;
}

bool Address::ascii() const {
    const auto is_ascii = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };
    return is_ascii(local) && is_ascii(domain);
}

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(char c) { return is_alpha(c) || is_digit(c); }

// RFC 5322 3.2.3 atext (RFC 5321 4.1.2 Atom); non-ASCII is handled by the UTF-8 path.
bool is_atext(char c) {
    static constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
    return is_let_dig(c) || specials.find(c) != std::string_view::npos;
}

// RFC 5321 4.1.2 qtextSMTP (%d32-33 / %d35-91 / %d93-126).
bool is_qtext(char c) { return c >= 32 && c <= 126 && c != '"' && c != '\\'; }

// RFC 5321 4.1.2 esmtp-value: %d33-60 / %d62-126 (no "=", SP or controls).
bool is_esmtp_value_char(char c) { return c >= 33 && c <= 126 && c != '='; }

// The length of the well-formed UTF-8 sequence (RFC 3629 4) at the start of `s`,
// or 0 when it is not one: overlong forms, surrogates and code points past
// U+10FFFF are refused. Only sequences of 2..4 octets are accepted (no ASCII).
std::size_t utf8_sequence_length(std::string_view s) {
    if (s.empty()) return 0;
    const auto b0 = static_cast<unsigned char>(s[0]);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // bounds of the second octet
    if (b0 >= 0xC2 && b0 <= 0xDF) length = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        if (b0 == 0xE0) low = 0xA0;
        if (b0 == 0xED) high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        if (b0 == 0xF0) low = 0x90;
        if (b0 == 0xF4) high = 0x8F;
    }
    if (length == 0 || s.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xBF)) return 0;
    }
    return length;
}

class Cursor {
public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    std::size_t pos() const { return pos_; }
    std::string_view since(std::size_t start) const { return text_.substr(start, pos_ - start); }
    std::string_view rest() const { return text_.substr(pos_); }

    bool take(char c) {
        if (peek() != c || done()) return false;
        ++pos_;
        return true;
    }
    // One octet matching `accept`, or one whole UTF-8 sequence when `utf8` is set.
    template <typename Predicate>
    bool take_char(Predicate accept, bool utf8) {
        if (done()) return false;
        if (accept(text_[pos_])) return ++pos_, true;
        const std::size_t length = utf8 ? utf8_sequence_length(rest()) : 0;
        pos_ += length;
        return length > 0;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// Atom = 1*atext; Dot-string = Atom *("." Atom)
bool parse_dot_string(Cursor& in) {
    do {
        if (!in.take_char(is_atext, true)) return false;
        while (in.take_char(is_atext, true)) {}
    } while (in.take('.'));
    return true;
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE; quoted-pairSMTP = "\" %d32-126
bool parse_quoted_string(Cursor& in) {
    if (!in.take('"')) return false;
    for (;;) {
        if (in.take('"')) return true;
        if (in.take('\\')) {
            if (!in.take_char([](char c) { return c >= 32 && c <= 126; }, false)) return false;
        } else if (!in.take_char(is_qtext, true)) {
            return false;
        }
    }
}

// sub-domain = Let-dig [Ldh-str] (or a U-label, RFC 6531 3.3); no trailing hyphen.
bool parse_sub_domain(Cursor& in) {
    const auto is_ldh = [](char c) { return is_let_dig(c) || c == '-'; };
    const std::size_t start = in.pos();
    if (!in.take_char(is_let_dig, true)) return false;
    while (in.take_char(is_ldh, true)) {}
    return in.since(start).back() != '-';
}

bool parse_domain_name(Cursor& in) {
    do {
        if (!parse_sub_domain(in)) return false;
    } while (in.take('.'));
    return true;
}

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]" (4.1.3).
bool parse_address_literal(Cursor& in) {
    if (!in.take('[')) return false;
    // dcontent = %d33-90 / %d94-126 (4.1.3). Checked before inet_pton, which reads a
    // C string and would stop at a NUL, ignoring whatever follows it.
    const auto is_dcontent = [](char c) { return c >= 33 && c <= 126 && c != '[' && c != '\\' && c != ']'; };
    const std::size_t start = in.pos();
    while (in.take_char(is_dcontent, false)) {}
    const std::string body(in.since(start));
    if (!in.take(']')) return false;
    unsigned char binary[16];
    static constexpr std::string_view ipv6_tag = "IPv6:";  // the tag is case-insensitive (4.1.3)
    if (body.size() > ipv6_tag.size() && iequals(std::string_view(body).substr(0, ipv6_tag.size()), ipv6_tag)) {
        return inet_pton(AF_INET6, body.c_str() + ipv6_tag.size(), binary) == 1;
    }
    return inet_pton(AF_INET, body.c_str(), binary) == 1;
}

// Domain / address-literal; names are lower-cased, literals kept as sent.
std::optional<std::string> parse_domain(Cursor& in) {
    const std::size_t start = in.pos();
    if (in.peek() == '[') {
        if (!parse_address_literal(in)) return std::nullopt;
        return std::string(in.since(start));
    }
    if (!parse_domain_name(in)) return std::nullopt;
    return lower_ascii(in.since(start));
}

// A-d-l = At-domain *( "," At-domain ) ":" — a source route, parsed and dropped
// (RFC 5321 4.1.1.3 and appendix C: servers SHOULD ignore it).
bool skip_source_route(Cursor& in) {
    if (in.peek() != '@') return true;
    do {
        if (!in.take('@') || !parse_domain(in)) return false;
    } while (in.take(','));
    return in.take(':');
}

struct MailboxResult {
    std::optional<Address> address;
    std::optional<PathError> error;
};

MailboxResult parse_mailbox(Cursor& in) {
    const std::size_t local_start = in.pos();
    const bool local_ok = in.peek() == '"' ? parse_quoted_string(in) : parse_dot_string(in);
    const std::string_view local = in.since(local_start);
    if (!local_ok || !in.take('@')) return {std::nullopt, PathError::syntax};
    auto domain = parse_domain(in);
    if (!domain) return {std::nullopt, PathError::syntax};
    if (local.size() > max_local_part || domain->size() > max_domain) return {std::nullopt, PathError::too_long};
    return {Address{std::string(local), std::move(*domain)}, std::nullopt};
}

bool is_postmaster(std::string_view inside_brackets) {
    return iequals(inside_brackets, "postmaster");
}

// Path = "<" [ A-d-l ":" ] Mailbox ">" / "<>" (MAIL) / "<Postmaster>" (RCPT).
MailboxResult parse_angle_path(Cursor& in, bool allow_null) {
    const std::size_t start = in.pos();
    if (!in.take('<')) return {std::nullopt, PathError::syntax};
    if (in.take('>')) {
        if (!allow_null) return {std::nullopt, PathError::syntax};
        return {Address{}, std::nullopt};
    }
    const std::size_t close = in.rest().find('>');
    if (!allow_null && close != std::string_view::npos && is_postmaster(in.rest().substr(0, close))) {
        while (!in.take('>')) in.take(in.peek());
        return {Address{"postmaster", ""}, std::nullopt};
    }
    if (!skip_source_route(in)) return {std::nullopt, PathError::syntax};
    auto mailbox = parse_mailbox(in);
    if (!mailbox.address) return mailbox;
    if (!in.take('>')) return {std::nullopt, PathError::syntax};
    if (in.pos() - start > max_path) return {std::nullopt, PathError::too_long};
    return mailbox;
}

// esmtp-param = esmtp-keyword ["=" esmtp-value]; esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
std::optional<EsmtpParam> parse_param(std::string_view text) {
    const std::size_t equals = text.find('=');
    const std::string_view keyword = text.substr(0, equals);
    const auto is_keyword_char = [](char c) { return is_let_dig(c) || c == '-'; };
    if (keyword.empty() || !is_let_dig(keyword[0]) || !std::all_of(keyword.begin(), keyword.end(), is_keyword_char)) {
        return std::nullopt;
    }
    EsmtpParam param{upper_ascii(keyword), {}};
    if (equals == std::string_view::npos) return param;
    Cursor value(text.substr(equals + 1));
    while (value.take_char(is_esmtp_value_char, true)) {}
    if (!value.done() || value.pos() == 0) return std::nullopt;  // esmtp-value = 1*(...)
    param.value = std::string(text.substr(equals + 1));
    return param;
}

// Parameters are separated by one or more SP (tolerating runs of spaces costs nothing).
std::optional<std::vector<EsmtpParam>> parse_params(std::string_view text) {
    std::vector<EsmtpParam> params;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find(' '), text.size());
        if (end > 0) {
            auto param = parse_param(text.substr(0, end));
            if (!param) return std::nullopt;
            params.push_back(std::move(*param));
        }
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    return params;
}

}  // namespace

ParsedPath parse_path(std::string_view argument, bool allow_null) {
    Cursor in(argument);
    auto mailbox = parse_angle_path(in, allow_null);
    if (!mailbox.address) return {std::nullopt, mailbox.error};
    if (!in.done() && !in.take(' ')) return {std::nullopt, PathError::syntax};
    auto params = parse_params(in.rest());
    if (!params) return {std::nullopt, PathError::parameter_syntax};
    return {Path{std::move(*mailbox.address), std::move(*params)}, std::nullopt};
}

}  // namespace cartero::smtp
