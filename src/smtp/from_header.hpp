// The From: header field of a message (RFC 5322 3.6.2): which addresses the
// author claims. Used at the end of DATA/BDAT to check that an authenticated
// user writes only as themselves (policy/session_rules.hpp), and at delivery to
// pick the DKIM signing domain, the From domain (DMARC alignment, RFC 7489 3.1).
//
// Only the addr-specs matter here: display names, comments and encoded words
// (RFC 2047) are skipped, not decoded. Folded lines (RFC 5322 2.2.3), several
// mailboxes, angle addresses with an obsolete route (4.4) and group syntax
// (3.4, which From does not allow but some software writes) are understood;
// anything else that does not read as an address is "unparseable", never
// guessed at.
//
// Trust: the message octets are untrusted; the parser is bounded by its input,
// keeps no state and never throws. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::smtp {

// The header block of `message`: the octets before the first empty line
// (RFC 5322 2.1), or all of it when there is none.
std::string_view header_block(std::string_view message);

// Keeps the header block of a message whose octets go past in slices (the
// session hands the body on and keeps nothing else), at most `limit` octets.
class HeaderCollector {
public:
    explicit HeaderCollector(std::size_t limit) : limit_(limit) {}
    void add(std::string_view bytes);
    std::string_view block() const { return header_block(text_); }

private:
    std::string text_;
    std::size_t limit_;
    bool complete_ = false;
};

struct FromField {
    enum class Status {
        absent,       // no From: field
        found,        // exactly one From: field with at least one address
        several,      // more than one From: field (RFC 5322 3.6 allows one)
        unparseable,  // one From: field, but no address could be read from it
    };
    Status status = Status::absent;
    std::vector<std::string> addresses;  // "local@domain" as written, for `found`
};

// The From: fields of a message's header block (given alone, or with the body:
// reading stops where the header block ends).
FromField from_field(std::string_view message);

// The addresses of a From: field's value (unfolded or not); empty when any
// part of it does not read as a mailbox.
std::vector<std::string> mailbox_list(std::string_view value);

}  // namespace cartero::smtp
