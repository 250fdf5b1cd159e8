// compose(): the RFC 3464 DSN message; see dsn.hpp for trust and RFCs.
//
// Layout (RFC 6522 3): multipart/report; report-type=delivery-status with
//   1. text/plain: what happened, the remote reply quoted, what it means, what to do;
//   2. message/delivery-status (RFC 3464 2.2 per-message, 2.3 per-recipient fields);
//   3. message/rfc822 (the original) or text/rfc822-headers (its header section).
// 8-bit originals: message/rfc822 may not be base64-encoded (RFC 2046 5.2.1), so the
// part is sent as it is with Content-Transfer-Encoding: 8bit and the result says
// eight_bit, for the caller to send it with BODY=8BITMIME (and SMTPUTF8 when the
// original transaction used it; its parts then are message/global, RFC 6532 3.7).
#include <time.h>

#include <algorithm>
#include <array>

#include "bounce/dsn.hpp"

namespace cartero::bounce {

namespace {

constexpr std::string_view crlf = "\r\n";
// RFC 5322 2.1.1: lines SHOULD stay within 78 characters and MUST within 998.
constexpr std::size_t fold_at = 78;
constexpr std::size_t hard_line_limit = 900;  // below 998, leaving room for indentation
// RFC 2046 5.1.1: a boundary is 1 to 70 characters.
constexpr std::size_t max_boundary = 70;

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Untrusted text (a remote reply, a host name) made safe for a header field or a
// text line: control characters (CR, LF, NUL, ...) become spaces and other octets
// outside printable ASCII become '?', so nothing can end a line or a part.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        const auto octet = static_cast<unsigned char>(c);
        if (octet < 0x20 || octet == 0x7f) c = ' ';
        else if (octet >= 0x80) c = '?';
    }
    return out;
}

// Splits `text` at spaces into lines of at most `width`, words longer than
// hard_line_limit cut; used for header folding and for wrapping quoted replies.
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
    std::vector<std::string> lines{""};
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = std::min(text.find(' ', at), text.size());
        end = std::min(end, at + hard_line_limit);
        const std::string_view word = text.substr(at, end - at);
        if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
        if (!lines.back().empty()) lines.back() += ' ';
        lines.back() += word;
        at = end < text.size() && text[end] == ' ' ? end + 1 : end;
    }
    return lines;
}

// "Name: value" folded at spaces (RFC 5322 2.2.3), CRLF-terminated.
void field(std::string& out, std::string_view name, std::string_view value) {
    const auto lines = wrap(std::string(name) + ": " + std::string(value), fold_at);
    for (std::size_t i = 0; i < lines.size(); ++i) out += (i == 0 ? "" : " ") + lines[i] + std::string(crlf);
}

void line(std::string& out, std::string_view text = {}) {
    out += text;
    out += crlf;
}

// RFC 3463 2: class "." subject "." detail, 1-3 digits each, class 2, 4 or 5.
bool valid_status(std::string_view code) {
    std::size_t parts = 0, digits = 0;
    for (const char c : code) {
        if (c == '.') {
            if (digits == 0) return false;
            ++parts;
            digits = 0;
        } else if (c >= '0' && c <= '9' && digits < 3) {
            ++digits;
        } else {
            return false;
        }
    }
    return parts == 2 && digits > 0 && (code[0] == '2' || code[0] == '4' || code[0] == '5') && code[1] == '.';
}

// RFC 3463 X.4.7 "delivery time expired", in class 4: "persistence of some
// temporary condition has caused abandonment ... of attempts to send the
// message" (3.1) — the message was valid, the queue gave up (sendmail reports
// expiry the same way). The last error's own code stays in Diagnostic-Code.
constexpr std::string_view expired_status = "4.4.7";

std::string status_of(const RecipientStatus& r) {
    if (r.expired) return std::string(expired_status);
    if (valid_status(r.status)) return r.status;
    switch (r.outcome) {
        case Outcome::failed: return "5.0.0";
        case Outcome::delayed: return "4.0.0";
        default: return "2.0.0";
    }
}

std::string_view action_of(Outcome outcome) {
    switch (outcome) {
        case Outcome::failed: return "failed";
        case Outcome::delayed: return "delayed";
        case Outcome::delivered: return "delivered";
        case Outcome::relayed: return "relayed";
        case Outcome::forwarded: return "relayed";
    }
    return "failed";
}

// The remote reply on one line (a multi-line reply joined by spaces), for Diagnostic-Code.
std::string one_line(std::string_view reply) { return printable(reply); }

// The header section of a message: up to its first empty line (RFC 5322 2.1), without it.
std::string_view header_section(std::string_view message) {
    if (message.rfind("\r\n", 0) == 0) return {};
    const std::size_t end = message.find("\r\n\r\n");
    return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

// What part 3 carries. RFC 3461 4.3: RET=FULL asks for the message in "failed" DSNs
// and HDRS for headers only; without RET the choice is ours. Delay and success
// reports carry headers only (the message is not lost, the sender has it); a failure
// report carries the message unless RET=HDRS or it is over bounce.size_limit.
struct Returned {
    std::string_view content;
    bool full = false;
    bool cut_for_size = false;
};

Returned what_to_return(const ReportInput& input, const spool::Envelope& envelope, std::string_view original) {
    const bool wants_full = input.kind == ReportKind::failure && envelope.ret != spool::DsnReturn::headers;
    if (wants_full && original.size() <= input.size_limit) return {original, true, false};
    return {header_section(original), false, wants_full};
}

std::string address_field(std::string_view address) {
    return (is_ascii(address) ? "rfc822; " : "utf-8; ") + std::string(address);
}

// --- part 1: the human-readable notice ---------------------------------------------

std::string_view subject_of(ReportKind kind) {
    switch (kind) {
        case ReportKind::failure: return "Undelivered Mail Returned to Sender";
        case ReportKind::delay: return "Delayed Mail (still being retried)";
        case ReportKind::success: return "Successful Mail Delivery Report";
    }
    return "";
}

std::string_view opening_of(ReportKind kind) {
    switch (kind) {
        case ReportKind::failure:
            return "Your message could not be delivered to one or more of its recipients. "
                   "The details are below.";
        case ReportKind::delay:
            return "Your message has not been delivered yet to one or more of its recipients. "
                   "The mail system keeps trying: there is nothing you need to do now.";
        case ReportKind::success:
            return "This is the delivery report you asked for: your message reached the recipients below.";
    }
    return "";
}

void quote_reply(std::string& out, const RecipientStatus& r) {
    if (r.diagnostic.empty()) {
        if (!r.reason.empty()) line(out, "  Reason: " + printable(r.reason));
        return;
    }
    const std::string host = r.remote_mta.empty() ? "The receiving server" : "The server " + printable(r.remote_mta);
    line(out, "  " + host + " answered:");
    std::string_view rest = r.diagnostic;
    while (!rest.empty()) {
        const std::size_t end = std::min(rest.find('\n'), rest.size());
        for (const auto& piece : wrap(printable(rest.substr(0, end)), hard_line_limit)) line(out, "    " + piece);
        rest.remove_prefix(std::min(end + 1, rest.size()));
    }
}

// "5 days", "1 hour", "90 seconds": the largest unit that divides it evenly.
std::string plain_duration(std::int64_t seconds) {
    struct Unit {
        std::int64_t seconds;
        std::string_view name;
    };
    constexpr std::array<Unit, 4> units{{{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}}};
    for (const Unit& unit : units) {
        if (seconds < unit.seconds || seconds % unit.seconds != 0) continue;
        const std::int64_t n = seconds / unit.seconds;
        return std::to_string(n) + " " + std::string(unit.name) + (n == 1 ? "" : "s");
    }
    return std::to_string(seconds) + " seconds";
}

// An expired recipient: say plainly that we gave up, after how long, and why.
void gave_up(std::string& out, const RecipientStatus& r, std::string_view address, const ReportInput& input) {
    line(out, "Your message to <" + std::string(address) + "> could not be delivered: the mail system gave up.");
    const std::string lifetime = input.queue_lifetime > 0 ? plain_duration(input.queue_lifetime) : "the queue lifetime";
    for (const auto& l : wrap("Delivery was abandoned after " + lifetime +
                                  " of failed attempts, the longest a message may wait in the queue. "
                                  "It will not be tried again.",
                              74))
        line(out, "  " + l);
    if (r.last_attempt != 0) line(out, "  Last attempt, with the last error below: " + format_date(r.last_attempt));
}

void explain_recipient(std::string& out, const RecipientStatus& r, std::string_view address, const ReportInput& input) {
    const std::string status = status_of(r);
    const Explanation explanation = explain(status);
    switch (r.outcome) {
        case Outcome::failed:
            if (r.expired) gave_up(out, r, address, input);
            else line(out, "Your message to <" + std::string(address) + "> could not be delivered.");
            break;
        case Outcome::delayed: line(out, "Your message to <" + std::string(address) + "> is delayed."); break;
        case Outcome::delivered: line(out, "Your message to <" + std::string(address) + "> was delivered."); break;
        case Outcome::relayed:
        case Outcome::forwarded:
            line(out, "Your message to <" + std::string(address) +
                          "> was passed on to a mail server that sends no delivery reports;");
            line(out, "  this is the last report you will get for this recipient.");
            break;
    }
    if (r.last_attempt != 0 && r.outcome != Outcome::delivered && !r.expired)
        line(out, "  Last attempt: " + format_date(r.last_attempt));
    quote_reply(out, r);
    if (r.outcome == Outcome::failed || r.outcome == Outcome::delayed) {
        for (const auto& l : wrap("What this means: " + std::string(explanation.meaning) + " (" + status + ")", 74))
            line(out, "  " + l);
        if (!explanation.advice.empty())
            for (const auto& l : wrap("What you can do: " + std::string(explanation.advice), 74)) line(out, "  " + l);
    }
    if (r.outcome == Outcome::delayed && r.retry_until != 0) {
        line(out, "  Nothing to do for now: delivery is retried until " + format_date(r.retry_until) + ".");
        line(out, "  If it still fails then, you will get a message saying so.");
    }
    line(out);
}

std::string returned_note(const Returned& returned, const ReportInput& input) {
    if (returned.full) return "The original message is attached.";
    if (returned.cut_for_size)
        return "Only the headers of the original message are attached: it is larger than " +
               std::to_string(input.size_limit) + " octets.";
    if (input.kind == ReportKind::failure) return "Only the headers of the original message are attached, as the "
                                                  "sender asked (RET=HDRS).";
    return "The headers of the original message are attached.";
}

std::string human_part(const ReportInput& input, const spool::Envelope& envelope,
                       const std::vector<RecipientStatus>& recipients, const Returned& returned) {
    std::string out;
    line(out, "This is the mail system at " + printable(input.hostname) + ".");
    line(out);
    for (const auto& l : wrap(std::string(opening_of(input.kind)), 76)) line(out, l);
    line(out, "This report was made automatically; a reply to it reaches no one.");
    line(out);
    for (const auto& r : recipients) explain_recipient(out, r, envelope.recipients.at(r.index), input);
    line(out, returned_note(returned, input));
    if (!input.queue_id.empty()) line(out, "(Queue ID of the message: " + printable(input.queue_id) + ")");
    return out;
}

// --- part 2: message/delivery-status (RFC 3464 2.2, 2.3) ---------------------------

std::string status_part(const ReportInput& input, const spool::Envelope& envelope,
                        const std::vector<RecipientStatus>& recipients) {
    std::string out;
    field(out, "Reporting-MTA", "dns; " + printable(input.hostname));  // 2.2.2
    if (!input.queue_id.empty()) field(out, "X-Cartero-Queue-ID", printable(input.queue_id));
    // ENVID and ORCPT were checked at RCPT time (smtp/dsn_params.hpp); printable() again
    // because an Envelope may come from elsewhere (queue tools, a damaged record).
    if (!envelope.envid.empty()) field(out, "Original-Envelope-Id", printable(envelope.envid));  // 2.2.1
    if (envelope.received_at != 0) field(out, "Arrival-Date", format_date(envelope.received_at));  // 2.2.5
    for (const auto& r : recipients) {
        line(out);  // each per-recipient group is preceded by a blank line (2.1)
        const spool::RecipientDsn& dsn = envelope.dsn(r.index);
        if (!dsn.orcpt_type.empty())
            field(out, "Original-Recipient", printable(dsn.orcpt_type + ";" + dsn.orcpt));  // 2.3.1
        field(out, "Final-Recipient", address_field(envelope.recipients.at(r.index)));                   // 2.3.2
        field(out, "Action", action_of(r.outcome));                                                     // 2.3.3
        field(out, "Status", status_of(r));                                                             // 2.3.4
        if (!r.remote_mta.empty()) field(out, "Remote-MTA", "dns; " + printable(r.remote_mta));          // 2.3.5
        if (!r.diagnostic.empty()) field(out, "Diagnostic-Code", "smtp; " + one_line(r.diagnostic));     // 2.3.6
        else if (!r.reason.empty()) field(out, "Diagnostic-Code", "X-Cartero; " + printable(r.reason));
        if (r.last_attempt != 0) field(out, "Last-Attempt-Date", format_date(r.last_attempt));          // 2.3.7
        if (r.outcome == Outcome::delayed && r.retry_until != 0)
            field(out, "Will-Retry-Until", format_date(r.retry_until));                                 // 2.3.9
    }
    return out;
}

// --- the whole message -------------------------------------------------------------

// A boundary made of the seed and host name (boundary characters only), lengthened
// with a counter until it occurs in none of the parts (RFC 2046 5.1.1: it must not
// appear in the encapsulated content; the original message is untrusted).
std::string choose_boundary(const ReportInput& input, const std::array<std::string_view, 3>& parts) {
    std::string base = "=_" + input.boundary_seed + "/" + input.hostname;
    base.erase(std::remove_if(base.begin(), base.end(),
                              [](char c) {
                                  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                                     (c >= '0' && c <= '9');
                                  return !alnum && std::string_view("=_/.-").find(c) == std::string_view::npos;
                              }),
               base.end());
    base = base.substr(0, max_boundary - 12);
    std::string boundary = base;
    const auto clashes = [&](const std::string& b) {
        return std::any_of(parts.begin(), parts.end(), [&](std::string_view p) { return p.find(b) != p.npos; });
    };
    for (unsigned n = 1; clashes(boundary); ++n) boundary = base + "." + std::to_string(n);
    return boundary;
}

struct PartTypes {
    std::string status;
    std::string returned;
};

PartTypes part_types(const spool::Envelope& envelope, const std::vector<RecipientStatus>& recipients, bool full) {
    const bool utf8_address = std::any_of(recipients.begin(), recipients.end(), [&](const RecipientStatus& r) {
        return !is_ascii(envelope.recipients.at(r.index));
    });
    PartTypes types;
    types.status = utf8_address ? "message/global-delivery-status" : "message/delivery-status";  // RFC 6533 6.1
    if (envelope.smtputf8) types.returned = full ? "message/global" : "message/global-headers";  // RFC 6533 6.3
    else types.returned = full ? "message/rfc822" : "text/rfc822-headers";
    return types;
}

std::string_view encoding_of(std::string_view content) { return is_ascii(content) ? "7bit" : "8bit"; }

void begin_part(std::string& out, std::string_view boundary, std::string_view description, std::string_view type,
                std::string_view content) {
    line(out);
    line(out, "--" + std::string(boundary));
    field(out, "Content-Description", description);
    field(out, "Content-Type", type);
    field(out, "Content-Transfer-Encoding", encoding_of(content));
    line(out);
    out += content;
    if (!content.empty() && content.substr(content.size() - std::min<std::size_t>(2, content.size())) != crlf)
        out += crlf;
}

}  // namespace

std::string format_date(std::int64_t unix_seconds) {
    static constexpr std::array<std::string_view, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const time_t seconds = static_cast<time_t>(unix_seconds);
    struct tm t {};
    gmtime_r(&seconds, &t);  // pure arithmetic on its argument: no clock, no time zone file
    const auto two = [](int n) { return (n < 10 ? "0" : "") + std::to_string(n); };
    return std::string(days.at(static_cast<std::size_t>(t.tm_wday))) + ", " + std::to_string(t.tm_mday) + " " +
           std::string(months.at(static_cast<std::size_t>(t.tm_mon))) + " " + std::to_string(t.tm_year + 1900) +
           " " + two(t.tm_hour) + ":" + two(t.tm_min) + ":" + two(t.tm_sec) + " +0000";
}

std::optional<Composed> compose(const ReportInput& input, const spool::Envelope& envelope,
                                const std::vector<RecipientStatus>& recipients, std::string_view original) {
    if (envelope.sender.empty() || recipients.empty()) return std::nullopt;  // never a DSN to <> (RFC 5321 6.1)
    for (const auto& r : recipients)
        if (r.index >= envelope.recipients.size()) return std::nullopt;  // a caller bug, not a message to send

    const Returned returned = what_to_return(input, envelope, original);
    const std::string human = human_part(input, envelope, recipients, returned);
    const std::string status = status_part(input, envelope, recipients);
    const PartTypes types = part_types(envelope, recipients, returned.full);
    const std::string boundary = choose_boundary(input, {human, status, returned.content});

    Composed composed;
    composed.eight_bit = !is_ascii(human) || !is_ascii(status) || !is_ascii(returned.content);
    composed.smtputf8 = envelope.smtputf8 || !is_ascii(envelope.sender);
    std::string& out = composed.bytes;
    field(out, "From", "\"Mail Delivery System\" <MAILER-DAEMON@" + printable(input.hostname) + ">");
    field(out, "To", "<" + envelope.sender + ">");
    field(out, "Subject", subject_of(input.kind));
    field(out, "Date", format_date(input.date));
    field(out, "Message-ID", printable(input.message_id));
    field(out, "Auto-Submitted", "auto-replied");  // RFC 3834 5
    field(out, "MIME-Version", "1.0");
    field(out, "Content-Type", "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
    field(out, "Content-Transfer-Encoding", composed.eight_bit ? "8bit" : "7bit");
    line(out);
    line(out, "This is a MIME-encapsulated message: a delivery status notification (RFC 3464).");
    const std::string text_type = is_ascii(human) ? "text/plain; charset=us-ascii" : "text/plain; charset=utf-8";
    begin_part(out, boundary, "Notification", text_type, human);
    begin_part(out, boundary, "Delivery report", types.status, status);
    begin_part(out, boundary, returned.full ? "Undelivered Message" : "Message Headers", types.returned,
               returned.content);
    line(out);
    line(out, "--" + boundary + "--");
    return composed;
}

}  // namespace cartero::bounce
