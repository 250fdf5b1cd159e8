// The DKIM-Signature header field: its tags (RFC 6376 3.5), its folding
// (RFC 5322 2.1.1, 2.2.3) and the data its b= signature covers (RFC 6376 3.7).
// Pure: the cryptography lives in key.hpp, the orchestration in signer.hpp.
//
// Trust: the inputs are the signer's own values (domain, selector, time, hashes)
// and field names that header_selection.hpp already picked from a fixed list.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dkim/header_selection.hpp"

namespace cartero::dkim {

// RFC 5322 2.1.1: lines SHOULD be at most 78 characters, CRLF excluded.
inline constexpr std::size_t kFoldWidth = 78;

struct SignatureTags {
    std::string_view algorithm;  // a=: "rsa-sha256" or "ed25519-sha256" (RFC 8463 3)
    std::string_view domain;     // d=
    std::string_view selector;   // s=
    std::int64_t timestamp = 0;  // t=: seconds since the epoch, from the caller's clock
    std::vector<std::string> signed_names;  // h=
    std::string body_hash;                  // bh=: base64 of SHA-256 of the canonical body
};

// "DKIM-Signature: v=1; a=...; c=relaxed/relaxed; d=...; s=...; t=...; h=...; bh=...; b=...\r\n"
// folded at kFoldWidth with CRLF + TAB (FWS may appear between tags, around the
// colons of h= and inside base64 values: RFC 6376 3.5, 2.4). b= always starts a
// line of its own, so the text before it is the same with and without a value.
std::string signature_header(const SignatureTags& tags, std::string_view signature_base64);

// The octets b= signs (RFC 6376 3.7): the selected fields canonicalized
// (relaxed), then the DKIM-Signature field with an empty b= canonicalized the
// same way and without its final CRLF.
std::string signed_header_data(const std::vector<HeaderField>& selected, const SignatureTags& tags);

// Standard base64 (RFC 4648 4) without line breaks.
std::string base64(std::string_view octets);

}  // namespace cartero::dkim
