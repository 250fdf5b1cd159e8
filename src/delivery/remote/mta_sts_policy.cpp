// MTA-STS policies, the pure part; see mta_sts_policy.hpp.
#include "delivery/remote/mta_sts_policy.hpp"

#include <algorithm>
#include <charconv>

namespace cartero::delivery::mta_sts {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
    return out;
}

std::string_view without_dot(std::string_view s) {
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
}

// RFC 8461 3.1 sts-field-delim = *WSP ";" *WSP; splits the record into fields.
std::vector<std::string_view> txt_fields(std::string_view record) {
    std::vector<std::string_view> fields;
    while (true) {
        const auto semicolon = record.find(';');
        fields.push_back(trim(record.substr(0, semicolon)));
        if (semicolon == std::string_view::npos) break;
        record.remove_prefix(semicolon + 1);
    }
    if (fields.size() > 1 && fields.back().empty()) fields.pop_back();  // the optional trailing delimiter
    return fields;
}

// RFC 8461 3.1 sts-id = "id=" 1*32(ALPHA / DIGIT).
bool valid_id(std::string_view id) {
    return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), is_alnum);
}

// RFC 1035 2.3.1 labels, as a policy's mx value needs them: letters, digits,
// hyphens, 1..63 octets per label, 253 in all.
bool valid_domain(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    while (true) {
        const auto dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_'; }))
            return false;
        if (dot == std::string_view::npos) return true;
        name.remove_prefix(dot + 1);
    }
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
    // RFC 8461 3.2: max_age = 1*10DIGIT.
    if (text.empty() || text.size() > 10) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.front() == '-' || text.front() == '+')
        return std::nullopt;
    return value;
}

}  // namespace

std::string_view to_string(Mode mode) {
    switch (mode) {
        case Mode::enforce: return "enforce";
        case Mode::testing: return "testing";
        case Mode::none: return "none";
    }
    return "none";
}

PolicyId policy_id(const std::vector<std::string>& txt_records) {
    const std::string_view prefix = "v=STSv1";
    const std::string* found = nullptr;
    std::size_t count = 0;
    for (const auto& record : txt_records) {
        const std::string_view r = record;
        if (!r.starts_with(prefix)) continue;
        const std::string_view rest = trim(r.substr(prefix.size()));
        if (!rest.starts_with(';')) continue;  // "v=STSv10;" or "v=STSv1x": not ours
        ++count;
        found = &record;
    }
    if (count == 0) return {std::nullopt, std::string("no v=STSv1 TXT record")};
    if (count > 1) return {std::nullopt, std::string("more than one v=STSv1 TXT record (RFC 8461 3.1)")};
    std::optional<std::string> id;
    const auto fields = txt_fields(*found);
    for (std::size_t i = 1; i < fields.size(); ++i) {
        const std::string_view field = fields[i];
        const auto equals = field.find('=');
        if (equals == std::string_view::npos || equals == 0) return {std::nullopt, "malformed field \"" + std::string(field) + "\""};
        const std::string_view name = field.substr(0, equals), value = field.substr(equals + 1);
        if (name != "id") continue;  // extension fields (3.1 sts-extension) are ignored
        if (id) return {std::nullopt, std::string("more than one id")};
        if (!valid_id(value)) return {std::nullopt, "invalid id \"" + std::string(value) + "\" (1 to 32 letters or digits)"};
        id = std::string(value);
    }
    if (!id) return {std::nullopt, std::string("the TXT record has no id")};
    return {id, {}};
}

Parsed<Policy> parse_policy(std::string_view body) {
    if (body.size() > max_policy_size) return std::string("the policy is larger than 64 KiB");
    Policy policy;
    bool have_version = false, have_mode = false, have_max_age = false;
    std::size_t line_number = 0;
    while (!body.empty()) {
        ++line_number;
        const auto newline = body.find('\n');
        std::string_view line = body.substr(0, newline);
        body.remove_prefix(newline == std::string_view::npos ? body.size() : newline + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF or LF (3.2 sts-policy-term)
        if (trim(line).empty()) continue;
        const auto colon = line.find(':');
        const std::string where = "line " + std::to_string(line_number) + ": ";
        if (colon == std::string_view::npos) return where + "no \"key: value\"";
        const std::string key = lower(trim(line.substr(0, colon)));
        const std::string_view value = trim(line.substr(colon + 1));
        if (key == "version") {
            if (have_version) return where + "version given twice";
            if (value != "STSv1") return where + "version is not STSv1";
            have_version = true;
        } else if (key == "mode") {
            if (have_mode) return where + "mode given twice";
            if (value == "enforce") policy.mode = Mode::enforce;
            else if (value == "testing") policy.mode = Mode::testing;
            else if (value == "none") policy.mode = Mode::none;
            else return where + "mode \"" + std::string(value) + "\" is not enforce, testing or none";
            have_mode = true;
        } else if (key == "max_age") {
            if (have_max_age) return where + "max_age given twice";
            const auto seconds = parse_seconds(value);
            if (!seconds || *seconds > max_max_age) return where + "max_age is not 0..31557600 seconds";
            policy.max_age = *seconds;
            have_max_age = true;
        } else if (key == "mx") {
            const std::string pattern = lower(without_dot(value));
            const std::string_view domain = std::string_view(pattern).starts_with("*.")
                                                ? std::string_view(pattern).substr(2)
                                                : std::string_view(pattern);
            if (!valid_domain(domain)) return where + "mx \"" + std::string(value) + "\" is not a host name or *.domain";
            if (policy.mx.size() == max_mx_patterns) return where + "more than 100 mx lines";
            policy.mx.push_back(pattern);
        }
        // Other keys: RFC 8461 3.2 "Additional key/value pairs ... MUST be ignored".
    }
    if (!have_version) return std::string("no version");
    if (!have_mode) return std::string("no mode");
    if (!have_max_age) return std::string("no max_age");
    if (policy.mx.empty() && policy.mode != Mode::none) return std::string("no mx (required unless mode is none)");
    return policy;
}

bool mx_matches(std::string_view pattern, std::string_view host) {
    const std::string p = lower(without_dot(pattern));
    const std::string h = lower(without_dot(host));
    if (h.empty()) return false;
    if (!std::string_view(p).starts_with("*.")) return p == h;
    // RFC 8461 4.1: the wildcard matches exactly one label, the leftmost.
    const auto dot = h.find('.');
    if (dot == std::string::npos || dot == 0) return false;
    return std::string_view(h).substr(dot + 1) == std::string_view(p).substr(2);
}

bool mx_allowed(const Policy& policy, std::string_view host) {
    return std::any_of(policy.mx.begin(), policy.mx.end(), [&](const std::string& p) { return mx_matches(p, host); });
}

bool expired(const CachedPolicy& cached, Seconds now) {
    return now >= cached.fetched + std::chrono::seconds(cached.policy.max_age);
}

Refresh plan(const std::optional<std::string>& txt_id, const CachedPolicy* cached, Seconds now) {
    const bool usable = cached != nullptr && !expired(*cached, now);
    if (txt_id) return usable && cached->id == *txt_id ? Refresh::use_cached : Refresh::fetch;
    // RFC 8461 5.1: without a TXT record (or when the lookup failed) an
    // unexpired cached policy stays in force; removing one takes mode none.
    return usable ? Refresh::use_cached : Refresh::no_policy;
}

std::string serialize(const CachedPolicy& cached) {
    return "cartero-mta-sts 1\nid: " + cached.id + "\nfetched: " +
           std::to_string(cached.fetched.time_since_epoch().count()) + "\n\n" + cached.body;
}

Parsed<CachedPolicy> deserialize(std::string_view text) {
    const auto end = text.find("\n\n");
    if (end == std::string_view::npos) return std::string("no header");
    std::string_view header = text.substr(0, end + 1);
    CachedPolicy cached;
    cached.body = std::string(text.substr(end + 2));
    const std::string_view magic = "cartero-mta-sts 1\n", id_key = "id: ", fetched_key = "fetched: ";
    if (!header.starts_with(magic)) return std::string("not a cartero MTA-STS cache file");
    header.remove_prefix(magic.size());
    const auto line1 = header.find('\n');
    const std::string_view id_line = header.substr(0, line1);
    if (!id_line.starts_with(id_key) || !valid_id(id_line.substr(id_key.size()))) return std::string("bad id line");
    cached.id = std::string(id_line.substr(id_key.size()));
    header.remove_prefix(line1 + 1);
    const std::string_view fetched_line = header.substr(0, header.find('\n'));
    if (!fetched_line.starts_with(fetched_key)) return std::string("bad fetched line");
    std::int64_t seconds = 0;
    const std::string_view digits = fetched_line.substr(fetched_key.size());
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || seconds < 0) return std::string("bad fetched time");
    cached.fetched = Seconds(std::chrono::seconds(seconds));
    auto policy = parse_policy(cached.body);
    if (auto* error = std::get_if<std::string>(&policy)) return "cached policy: " + *error;
    cached.policy = std::get<Policy>(std::move(policy));
    return cached;
}

}  // namespace cartero::delivery::mta_sts
