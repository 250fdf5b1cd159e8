// SRS, the Sender Rewriting Scheme (Shevek's "SRS" paper and libsrs2, the
// scheme postsrsd uses), SRS0 form only: when cartero forwards a message by
// alias to another domain it sends it with the envelope sender
//
//     SRS0=HHHH=TT=orig-domain=orig-local@forwarding-domain
//
// so the receiver's SPF check sees our domain (RFC 7208 1.1.3 explains why
// forwarding breaks it otherwise), and a bounce comes back to us, is verified
// and goes on to the original sender. TT is the day (unix time / 86400, mod
// 1024) in two base32 characters (RFC 4648 alphabet); HHHH the first four
// base64 characters of HMAC-SHA1(secret, lower-case(TT orig-domain orig-local)),
// exactly as libsrs2 computes them, so an address made by postsrsd with the
// same secret verifies here and the other way round.
//
// An address already in SRS0 form (another forwarder's) is wrapped again as
// SRS0 rather than turned into SRS1: the bounce then takes one more hop, each
// forwarder unwrapping its own layer. Verification accepts the hash in any
// case, as libsrs2 does (some MTAs change the case of local parts).
//
// Trust: the addresses and local parts given to parse() and reverse() are
// untrusted (RCPT TO from the internet); they are bounded by their input,
// never throw, and parse() needs no secret, so it can be fuzzed alone. The
// secret comes from the caller (delivery/ keeps it in {data_dir}/srs.secret).
// Pure: the time is an argument; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::smtp::srs {

inline constexpr std::int64_t seconds_per_day = 86400;
inline constexpr std::int64_t day_slots = 1024;     // two base32 characters
inline constexpr std::size_t hash_length = 4;      // libsrs2 and postsrsd default

// The parts of an SRS0 local part, as written.
struct Srs0 {
    std::string hash;
    std::string timestamp;
    std::string domain;  // of the original sender
    std::string local;   // of the original sender
};

// "SRS0=HHHH=TT=domain=local" (the first separator may also be '+' or '-', as
// libsrs2 accepts); the tag is case-insensitive. nullopt when not of that form.
std::optional<Srs0> parse(std::string_view local_part);

// The two-character timestamp of `unix_seconds`.
std::string timestamp(std::int64_t unix_seconds);

// The hash of an SRS0 address under `secret`.
std::string hash(std::string_view secret, std::string_view timestamp, std::string_view domain, std::string_view local);

// `sender` ("local@domain", not empty) rewritten for forwarding from `our_domain`.
std::string forward(std::string_view secret, std::string_view sender, std::string_view our_domain,
                    std::int64_t unix_seconds);

enum class Problem { not_srs, bad_hash, bad_timestamp, expired };
std::string_view to_string(Problem);

struct Reversed {
    std::string address;                  // the original sender, when no problem
    std::optional<Problem> problem = {};
};

// The original address behind an SRS0 local part, checked against every secret
// in `secrets` (the first signs; older ones keep verifying after a change) and,
// unless max_age_days is nullopt, against the age limit (libsrs2 maxage).
Reversed reverse(const std::vector<std::string>& secrets, std::string_view local_part, std::int64_t unix_seconds,
                 std::optional<std::int64_t> max_age_days);

}  // namespace cartero::smtp::srs
