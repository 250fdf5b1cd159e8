// Which header fields a DKIM signature covers, and in which order they are
// hashed (RFC 6376 5.4, 5.4.1, 5.4.2). Pure.
//
// The list follows RFC 6376 5.4.1's "fields that SHOULD be signed" plus the
// list headers of RFC 2369/2919/8058 (RFC 8058 3.1 requires signing
// List-Unsubscribe and List-Unsubscribe-Post). Trace and transport fields
// (Received, Return-Path) are never signed: relays add and rewrite them.
//
// Oversigning (RFC 6376 8.15): a name listed in h= one more time than it occurs
// in the message covers a field that does not exist, so a field of that name
// added later breaks the signature. cartero oversigns the fields a reader takes
// for the author, audience, topic and reply destination: From, Reply-To,
// Subject, To and Cc. It does not oversign Date or Message-ID, which some
// relays add when missing.
//
// Trust: field names and values come from the message (untrusted).
#pragma once

#include <string>
#include <vector>

#include "dkim/message.hpp"

namespace cartero::dkim {

struct HeaderSelection {
    // h= names, lower case, in signing order, with repeats for repeated and
    // oversigned fields: {"from", "from", "to", "to", "subject", "subject", ...}.
    std::vector<std::string> names;
    // The fields those names select, in the same order; a name that selects no
    // field (oversigning) has no entry (RFC 6376 5.4.2: "treated as the null input").
    std::vector<HeaderField> fields;
};

// Selects fields of `fields` (message order, top first). Per RFC 6376 5.4.2, the
// n-th occurrence of a name in h= picks the n-th instance of the field counted
// from the bottom of the header.
HeaderSelection select_headers(const std::vector<HeaderField>& fields);

// The instances `names` pick from `fields`, bottom-up per name (RFC 6376 5.4.2);
// what a verifier computes from h=. select_headers uses it for its own list.
std::vector<HeaderField> pick_fields(const std::vector<HeaderField>& fields, const std::vector<std::string>& names);

// How many fields of `fields` are named `name` (case-insensitive).
std::size_t count_fields(const std::vector<HeaderField>& fields, std::string_view name);

}  // namespace cartero::dkim
