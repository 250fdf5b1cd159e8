// Extensions: parsing of the EHLO reply; see extensions.hpp.
#include "smtp/extensions.hpp"

#include <algorithm>
#include <charconv>

#include "smtp/ascii.hpp"

namespace cartero::smtp {
namespace {

// Enough for every real server (Gmail lists 6); a hostile list cannot grow memory.
constexpr std::size_t max_auth_mechanisms = 16;

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < line.size()) {
        const std::size_t start = line.find_first_not_of(' ', at);
        if (start == std::string_view::npos) break;
        const std::size_t end = std::min(line.find(' ', start), line.size());
        out.push_back(line.substr(start, end - start));
        at = end;
    }
    return out;
}

void add_auth(Extensions& ext, const std::vector<std::string_view>& mechanisms) {
    for (const auto m : mechanisms) {
        if (ext.auth.size() >= max_auth_mechanisms) return;
        std::string name = upper_ascii(m);
        if (std::find(ext.auth.begin(), ext.auth.end(), name) == ext.auth.end()) ext.auth.push_back(std::move(name));
    }
}

void parse_size(Extensions& ext, const std::vector<std::string_view>& params) {
    ext.size_advertised = true;
    if (params.empty()) return;
    std::uint64_t value = 0;
    const auto* end = params[0].data() + params[0].size();
    const auto [ptr, ec] = std::from_chars(params[0].data(), end, value);
    if (ec == std::errc{} && ptr == end) ext.size_limit = value;
}

void parse_keyword_line(Extensions& ext, std::string_view line) {
    std::vector<std::string_view> w = words(line);
    if (w.empty()) return;
    const std::string_view first = w[0];
    std::string keyword = upper_ascii(first);
    w.erase(w.begin());
    if (keyword.rfind("AUTH=", 0) == 0) {  // pre-RFC 4954 form: "AUTH=LOGIN PLAIN"
        if (first.size() > 5) w.insert(w.begin(), first.substr(5));
        keyword = "AUTH";
    }
    if (keyword == "PIPELINING") ext.pipelining = true;
    else if (keyword == "SIZE") parse_size(ext, w);
    else if (keyword == "8BITMIME") ext.eight_bit_mime = true;
    else if (keyword == "SMTPUTF8") ext.smtputf8 = true;
    else if (keyword == "STARTTLS") ext.starttls = true;
    else if (keyword == "DSN") ext.dsn = true;
    else if (keyword == "CHUNKING") ext.chunking = true;
    else if (keyword == "ENHANCEDSTATUSCODES") ext.enhanced_status_codes = true;
    else if (keyword == "AUTH") add_auth(ext, w);
}

}  // namespace

bool Extensions::offers_auth(std::string_view mechanism) const {
    return std::find(auth.begin(), auth.end(), mechanism) != auth.end();
}

Extensions parse_extensions(const Reply& ehlo_reply) {
    Extensions ext;
    std::string_view text = ehlo_reply.text;
    const std::size_t first_end = text.find('\n');
    if (first_end == std::string_view::npos) return ext;  // a one-line reply: no extensions
    text.remove_prefix(first_end + 1);
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        parse_keyword_line(ext, text.substr(0, end));
        text.remove_prefix(end == text.size() ? end : end + 1);
    }
    return ext;
}

}  // namespace cartero::smtp
