// Received: builds the trace header of RFC 5321 4.4 for an accepted message.
//
// Trust: the HELO name and the authenticated user come from the session; the HELO
// name is client-chosen (checked at EHLO to be one printable word) and is sanitized
// again here so no header syntax can be injected through it. The peer address, TLS
// parameters, queue ID and host name are cartero's own.
//
// RFCs: 5321 4.4 (Time-stamp-line: From-domain, By-domain, With, ID, For), 3848
// (ESMTP, ESMTPS, ESMTPA, ESMTPSA), 6531 3.7.3 (UTF8SMTP, UTF8SMTPS, UTF8SMTPA,
// UTF8SMTPSA), 5322 3.3 (date-time) and 2.2.3 (folding).
#include "smtp/received.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace cartero::smtp {

namespace {

// RFC 5322 2.1.1: lines SHOULD stay within 78 characters.
constexpr std::size_t fold_column = 78;

// One printable word, with nothing that could end a clause or open a comment.
std::string sanitized(std::string_view text) {
    static constexpr std::string_view forbidden = "()<>;\\\"";
    std::string out;
    for (const char c : text) {
        const bool printable = c > 0x20 && c < 0x7f && forbidden.find(c) == std::string_view::npos;
        out += printable ? c : '_';
    }
    return out;
}

// RFC 5321 4.1.3 address literal, the TCP-info of 4.4.
std::string address_literal(std::string_view ip) {
    const bool ipv6 = ip.find(':') != std::string_view::npos;
    return "[" + std::string(ipv6 ? "IPv6:" : "") + std::string(ip) + "]";
}

std::string protocol_name(const Trace& trace) {
    if (!trace.esmtp) return "SMTP";
    std::string name = trace.smtputf8 ? "UTF8SMTP" : "ESMTP";
    if (trace.tls) name += "S";
    if (!trace.auth_user.empty()) name += "A";
    return name;
}

// RFC 5322 3.3 date-time in UTC, from the caller's clock.
std::string rfc5322_date(std::time_t when) {
    static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm utc{};
    gmtime_r(&when, &utc);
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%s, %d %s %04d %02d:%02d:%02d +0000", days[utc.tm_wday], utc.tm_mday,
                  months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
    return buffer;
}

// A local submission (role local) has no client host to name; like Postfix's
// "(Postfix, from userid 1000)" the By-domain comment names who submitted it:
// "Received: by HOST (cartero, from local user ana uid 1000) id QID; DATE".
std::vector<std::string> local_clauses(const Trace& trace, const ReceivedOptions& options) {
    std::vector<std::string> out{"Received:", "by " + sanitized(options.by_hostname),
                                 "(cartero,", "from", "local", "user", sanitized(trace.peer.local_user),
                                 "uid " + std::to_string(*trace.peer.local_uid) + ")",
                                 "id " + sanitized(options.queue_id)};
    if (!options.for_recipient.empty()) out.push_back("for <" + std::string(options.for_recipient) + ">");
    out.back() += ";";
    out.push_back(rfc5322_date(options.when));
    return out;
}

std::vector<std::string> clauses(const Trace& trace, const ReceivedOptions& options) {
    if (trace.peer.local_uid) return local_clauses(trace, options);
    std::vector<std::string> out{"Received:", "from " + sanitized(trace.helo),
                                 "(" + address_literal(trace.peer.ip) + ")"};
    if (options.include_auth_user && !trace.auth_user.empty()) {
        out.push_back("(Authenticated sender: " + sanitized(trace.auth_user) + ")");
    }
    out.push_back("by " + sanitized(options.by_hostname));
    out.emplace_back("(cartero)");
    out.push_back("with " + protocol_name(trace));
    if (trace.tls) out.push_back("(" + sanitized(trace.tls->version) + " " + sanitized(trace.tls->cipher) + ")");
    out.push_back("id " + sanitized(options.queue_id));
    if (!options.for_recipient.empty()) out.push_back("for <" + std::string(options.for_recipient) + ">");
    out.back() += ";";
    out.push_back(rfc5322_date(options.when));
    return out;
}

}  // namespace

std::string received_header(const Trace& trace, const ReceivedOptions& options) {
    std::string header;
    std::size_t line_length = 0;
    for (const auto& clause : clauses(trace, options)) {
        if (header.empty()) {
            header = clause;
            line_length = clause.size();
        } else if (line_length + 1 + clause.size() <= fold_column) {
            header += " " + clause;
            line_length += 1 + clause.size();
        } else {
            header += "\r\n\t" + clause;  // RFC 5322 2.2.3: fold before white space
            line_length = 1 + clause.size();
        }
    }
    return header + "\r\n";
}

}  // namespace cartero::smtp
