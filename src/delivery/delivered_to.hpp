// Delivered-To: the header field cartero puts on top of every copy it delivers to
// a local mailbox (the Maildir courier; Dovecot's LMTP adds its own) or forwards
// by alias to another server, and the lookup that recognises a message coming
// back with one of those lines: a mail forwarding loop. This is Postfix local(8)'s
// loop detection (delivered_hdr.c, "mail forwarding loop for <addr>") and qmail's.
//
// Why it is needed besides the hop count (RFC 5321 6.3, limits.received_headers):
// two servers whose aliases point at each other would pass a message back and
// forth until the Received fields pile up past the limit, 50 or 100 deliveries
// later. With Delivered-To the loop is seen the second time the message reaches
// the alias that forwarded it. The queue runs the check (scheduler/delivery_queue)
// for the recipient and each of its local mailboxes; a match is bounced 5.4.6.
//
// Trust: the message is untrusted; only its header block is read (the fields of a
// message quoted in the body, a returned message in a DSN, are not ours), and
// values longer than a header line may be (RFC 5322 2.1.1) are ignored.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace cartero::delivery {

// "Delivered-To: <address>\r\n", the address bare (no angle brackets), as Postfix writes it.
std::string delivered_to_field(std::string_view address);

class DeliveredTo {
public:
    // The addresses named by the Delivered-To fields of `message`'s header block.
    static DeliveredTo of(std::string_view message);

    // ASCII case-insensitive, as Postfix compares them (a loop is not excused by case).
    bool names(std::string_view address) const;

private:
    std::set<std::string> addresses_;  // lower-case, without surrounding space or <>
};

}  // namespace cartero::delivery
