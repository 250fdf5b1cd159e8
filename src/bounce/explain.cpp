// Plain-word explanations of RFC 3463 enhanced status codes for the human-readable
// part of a DSN: what the code means and what the sender can do about it. Exact
// codes first, then the subject (the middle digit), then the class; see dsn.hpp.
#include <algorithm>
#include <array>

#include "bounce/dsn.hpp"

namespace cartero::bounce {

namespace {

struct Entry {
    std::string_view code;  // "1.1" (subject.detail), "1" (subject) — the class is decided apart
    Explanation text;
};

// RFC 3463 3.x, with the later registrations of RFC 7505 (x.1.10 null MX), RFC 6531
// (x.6.7 SMTPUTF8) and RFC 7372 (x.7.25 reverse DNS, x.7.26 authentication checks).
constexpr std::array<Entry, 22> table{{
    {"1.1", {"The address does not exist at the receiving side.",
             "Check the address for typing mistakes, or ask the recipient for the right one."}},
    {"1.2", {"The recipient's domain does not exist or does not accept mail.",
             "Check the part of the address after the @."}},
    {"1.3", {"The address is not valid.", "Check the address; it must look like name@example.com."}},
    {"1.6", {"The mailbox has moved and has no forwarding address.",
             "Ask the recipient for the new address."}},
    {"1.10", {"The recipient's domain says it accepts no mail at all (null MX, RFC 7505).",
              "Check the domain part of the address; this domain cannot receive mail."}},
    {"2.1", {"The recipient's mailbox is disabled.", "Reach the recipient some other way."}},
    {"2.2", {"The recipient's mailbox is full.",
             "Try again later, or tell the recipient some other way that their mailbox is full."}},
    {"2.3", {"The message is larger than the recipient's mailbox accepts.",
             "Send a smaller message, for example with a link instead of an attachment."}},
    {"3.4", {"The message is larger than the receiving server accepts.",
             "Send a smaller message, for example with a link instead of an attachment."}},
    {"4.1", {"The receiving server did not answer.", ""}},
    {"4.2", {"The connection to the receiving server was lost.", ""}},
    {"4.4", {"No server could be found for the recipient's domain.",
             "Check the domain part of the address."}},
    {"4.7", {"Delivery time expired: the mail system stopped trying because the message could not be "
             "delivered within the time it may wait in the queue.",
             "Check the address; if it is right, the recipient's server kept failing for all that time "
             "(see the last error above). Send the message again later, or reach the recipient another way."}},
    {"5.3", {"The message has more recipients than the receiving server accepts at once.",
             "Send it again to fewer recipients at a time."}},
    {"6.7", {"The address needs internationalised mail (SMTPUTF8), which the receiving server does not support.",
             "Use an ASCII-only address for this recipient if they have one."}},
    {"7.1", {"The receiving server refused the message by its policy (for example as spam or from an "
             "unauthorised sender).",
             "Read the server's reply above; if the message is legitimate, contact the recipient another way."}},
    {"7.25", {"The receiving server requires the sending server's address to have a valid reverse DNS name.",
              "Tell the administrator of your mail server."}},
    {"7.26", {"The message failed the recipient domain's sender authentication checks (SPF, DKIM, DMARC).",
              "Tell the administrator of your mail server: its SPF/DKIM/DMARC set-up needs fixing."}},
    {"1", {"There is a problem with the recipient's address.", "Check the address."}},
    {"2", {"There is a problem with the recipient's mailbox.", "Reach the recipient some other way."}},
    {"4", {"There was a network or routing problem on the way to the recipient.", ""}},
    {"7", {"The receiving server refused the message for security or policy reasons.",
           "Read the server's reply above."}},
}};

constexpr Explanation permanent{"The message could not be delivered.", "Read the server's reply above."};
constexpr Explanation temporary{"There was a temporary problem delivering the message.", ""};
constexpr Explanation success{"The message was delivered.", ""};

const Entry* find(std::string_view code) {
    const auto found = std::find_if(table.begin(), table.end(), [&](const Entry& e) { return e.code == code; });
    return found == table.end() ? nullptr : &*found;
}

}  // namespace

Explanation explain(std::string_view status) {
    // "5.1.1" -> class "5", then "1.1" and "1".
    const std::size_t dot = status.find('.');
    const std::string_view klass = status.substr(0, dot);
    if (klass == "2") return success;
    const Explanation fallback = klass == "4" ? temporary : permanent;
    if (dot == std::string_view::npos) return fallback;
    const std::string_view rest = status.substr(dot + 1);
    if (const Entry* exact = find(rest)) return exact->text;
    if (const Entry* subject = find(rest.substr(0, rest.find('.')))) return subject->text;
    return fallback;
}

}  // namespace cartero::bounce
