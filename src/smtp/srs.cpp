// SRS; see srs.hpp. The encodings follow libsrs2's srs2.c (srs_timestamp_create,
// srs_timestamp_check, srs_hash_create_v) character for character.
#include "smtp/srs.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "smtp/ascii.hpp"

namespace cartero::smtp::srs {
namespace {

constexpr std::string_view time_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";  // RFC 4648 base32
constexpr char separator = '=';

std::optional<std::int64_t> day_of(std::string_view stamp) {
    if (stamp.size() != 2) return std::nullopt;
    std::int64_t day = 0;
    for (char c : stamp) {
        const std::size_t at = time_chars.find(upper_ascii(c));
        if (at == std::string_view::npos) return std::nullopt;
        day = day * 32 + static_cast<std::int64_t>(at);
    }
    return day;
}

// libsrs2 srs_timestamp_check: the stamp is a day modulo 1024, taken as the
// latest such day not after today.
bool too_old(std::int64_t then, std::int64_t unix_seconds, std::int64_t max_age_days) {
    std::int64_t now = (unix_seconds / seconds_per_day) % day_slots;
    while (now < then) now += day_slots;
    return now > then + max_age_days;
}

// Compared in constant time and without regard to case (libsrs2 accepts both).
bool same_hash(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        differ |= static_cast<unsigned char>(lower_ascii(a[i]) ^ lower_ascii(b[i]));
    return differ == 0;
}

}  // namespace

std::optional<Srs0> parse(std::string_view local_part) {
    if (local_part.size() < 5 || !iequals(local_part.substr(0, 4), "SRS0")) return std::nullopt;
    const char first = local_part[4];
    if (first != '=' && first != '+' && first != '-') return std::nullopt;
    std::string_view rest = local_part.substr(5);
    std::array<std::string_view, 3> parts;  // hash, timestamp, domain; the rest is the local part
    for (auto& part : parts) {
        const std::size_t end = rest.find(separator);
        if (end == std::string_view::npos || end == 0) return std::nullopt;
        part = rest.substr(0, end);
        rest.remove_prefix(end + 1);
    }
    if (rest.empty()) return std::nullopt;
    return Srs0{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]), std::string(rest)};
}

std::string timestamp(std::int64_t unix_seconds) {
    const std::int64_t day = (unix_seconds / seconds_per_day) % day_slots;
    return {time_chars[static_cast<std::size_t>((day >> 5) & 31)], time_chars[static_cast<std::size_t>(day & 31)]};
}

// libsrs2 srs_hash_create_v: HMAC-SHA1 over the lower-cased parts, then the
// first hash_length characters of the digest's base64 encoding.
std::string hash(std::string_view secret, std::string_view stamp, std::string_view domain, std::string_view local) {
    const std::string data = lower_ascii(stamp) + lower_ascii(domain) + lower_ascii(local);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), digest.data(), &length);
    // Standard base64 (RFC 4648 4, libsrs2's "a little base64 encoding") of the
    // digest's first octets: 3 octets make the 4 characters kept.
    std::array<unsigned char, 8> encoded{};
    EVP_EncodeBlock(encoded.data(), digest.data(), 3);
    return std::string(reinterpret_cast<const char*>(encoded.data()), hash_length);
}

std::string forward(std::string_view secret, std::string_view sender, std::string_view our_domain,
                    std::int64_t unix_seconds) {
    const std::size_t at = sender.rfind('@');
    const std::string_view local = sender.substr(0, at);
    const std::string_view domain = at == std::string_view::npos ? std::string_view{} : sender.substr(at + 1);
    const std::string stamp = timestamp(unix_seconds);
    return "SRS0=" + hash(secret, stamp, domain, local) + "=" + stamp + "=" + std::string(domain) + "=" +
           std::string(local) + "@" + std::string(our_domain);
}

std::string_view to_string(Problem problem) {
    switch (problem) {
        case Problem::not_srs: return "not an SRS0 address";
        case Problem::bad_hash: return "hash does not verify";
        case Problem::bad_timestamp: return "timestamp unreadable";
        case Problem::expired: return "timestamp too old";
    }
    return "not an SRS0 address";
}

Reversed reverse(const std::vector<std::string>& secrets, std::string_view local_part, std::int64_t unix_seconds,
                 std::optional<std::int64_t> max_age_days) {
    const auto parts = parse(local_part);
    if (!parts) return {{}, Problem::not_srs};
    const auto then = day_of(parts->timestamp);
    if (!then) return {{}, Problem::bad_timestamp};
    bool verified = false;
    for (const auto& secret : secrets)
        verified = verified || same_hash(parts->hash, hash(secret, parts->timestamp, parts->domain, parts->local));
    if (!verified) return {{}, Problem::bad_hash};
    if (max_age_days && too_old(*then, unix_seconds, *max_age_days)) return {{}, Problem::expired};
    return {parts->local + "@" + parts->domain, std::nullopt};
}

}  // namespace cartero::smtp::srs
