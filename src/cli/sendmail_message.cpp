// `cartero sendmail`, pure half: see sendmail_message.hpp for the rules.
#include "cli/sendmail_message.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace cartero::cli::sendmail {
namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && upper(a) == upper(b);
}

// --- command line ------------------------------------------------------------

// Options taking a value, as in Postfix's getopt string.
constexpr std::string_view options_with_value = "fFrCNRVBob";
// Flags, and flags accepted only for compatibility (see the header).
constexpr std::string_view flags = "tivmGUn";

std::optional<std::string> apply_o(Options& options, std::string_view value) {
    if (value == "i") {
        options.dot_ends_input = false;
        return std::nullopt;
    }
    // -oe? error modes, -od? delivery modes, -om "me too": the only sensible
    // reading here is the default (errors on stderr and in the exit code; the
    // server queues whatever it accepts).
    if ((value.size() == 2 && (value[0] == 'e' || value[0] == 'd')) || value == "m") return std::nullopt;
    return "option -o" + std::string(value) + " is not supported";
}

std::optional<std::string> apply_b(std::string_view value) {
    if (value == "m") return std::nullopt;
    if (value == "p") return "-bp (list the queue) is not supported: use `cartero queue list`";
    if (value == "s") return "-bs (SMTP on standard input) is not supported: speak SMTP to the submission port";
    return "mode -b" + std::string(value) + " is not supported (only -bm, send mail)";
}

std::optional<std::string> apply_value(Options& options, char option, std::string value) {
    switch (option) {
        case 'f':
        case 'r': options.sender = std::move(value); return std::nullopt;
        case 'F': options.full_name = std::move(value); return std::nullopt;
        case 'C': options.config_path = std::move(value); return std::nullopt;
        case 'N': options.notify = upper(value); return std::nullopt;
        case 'V': options.envid = std::move(value); return std::nullopt;
        case 'R':
            options.ret = upper(value);
            if (options.ret == "FULL" || options.ret == "HDRS") return std::nullopt;
            return "-R wants full or hdrs, not \"" + value + "\"";
        case 'B':
            if (iequals(value, "8BITMIME")) options.eight_bit = true;
            else if (!iequals(value, "7BIT")) return "-B wants 7BIT or 8BITMIME, not \"" + value + "\"";
            return std::nullopt;
        case 'o': return apply_o(options, value);
        case 'b': return apply_b(value);
    }
    return std::nullopt;
}

void apply_flag(Options& options, char flag) {
    if (flag == 't') options.extract_recipients = true;
    if (flag == 'i') options.dot_ends_input = false;
    if (flag == 'v') options.verbose = true;
}

std::string unknown_option(char option) {
    if (option == 'q') return "-q (queue runs) is not supported: use `cartero queue flush`";
    return "unknown option -" + std::string(1, option) +
           " (supported: -t -i -oi -f -r -F -N -R -V -B -C -v, see docs/sendmail.md)";
}

// --- addresses -----------------------------------------------------------------

bool has_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return std::string(text.substr(first, last - first + 1));
}

// One list element: the <angle-addr> if there is one (route dropped), else the
// text without comments.
std::string element_address(const std::string& plain, const std::optional<std::string>& angle) {
    if (!angle) return trimmed(plain);
    std::string address = trimmed(*angle);
    // RFC 5322 4.4 obs-route "@a,@b:user@c": only the final address counts.
    if (!address.empty() && address.front() == '@') {
        const auto colon = address.find(':');
        address = colon == std::string::npos ? std::string() : address.substr(colon + 1);
    }
    return address;
}

// "root" -> "root@hostname"; "<>" and "" stay the null sender.
std::string qualified(const std::string& address, const std::string& hostname) {
    if (address.empty() || address.find('@') != std::string::npos) return address;
    return address + "@" + hostname;
}

// A usable address: no controls, no brackets, no white space outside quotes.
bool usable(std::string_view address) {
    if (address.empty() || has_control(address)) return false;
    bool quoted = false;
    for (const char c : address) {
        if (c == '"') quoted = !quoted;
        if (!quoted && (c == ' ' || c == '\t' || c == '<' || c == '>' || c == ',')) return false;
    }
    return !quoted;
}

// --- header fields --------------------------------------------------------------

bool is_field_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 33 && u <= 126 && c != ':';
    });
}

bool named(const HeaderField& field, std::string_view name) { return iequals(field.name, name); }

bool has_field(const std::vector<HeaderField>& header, std::string_view name) {
    return std::any_of(header.begin(), header.end(), [&](const HeaderField& f) { return named(f, name); });
}

// RFC 5322 3.6.6: with Resent- fields present, the resent recipients are the ones.
std::vector<std::string> header_recipients(const std::vector<HeaderField>& header) {
    const bool resent = has_field(header, "Resent-To") || has_field(header, "Resent-Cc") ||
                        has_field(header, "Resent-Bcc");
    const std::array<std::string_view, 3> names =
        resent ? std::array<std::string_view, 3>{"Resent-To", "Resent-Cc", "Resent-Bcc"}
               : std::array<std::string_view, 3>{"To", "Cc", "Bcc"};
    std::vector<std::string> out;
    for (const auto& field : header)
        if (std::any_of(names.begin(), names.end(), [&](std::string_view n) { return named(field, n); }))
            for (auto& address : parse_address_list(field_value(field))) out.push_back(std::move(address));
    return out;
}

std::string base64(std::string_view bytes) {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(n >> shift) & 63];
    }
    if (i < bytes.size()) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// The display name of the added From: a quoted-string (RFC 5322 3.2.4), or an
// RFC 2047 encoded-word when it is not ASCII. Controls were refused earlier.
std::string display_name(std::string_view name) {
    const bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (!ascii) return "=?UTF-8?B?" + base64(name) + "?=";
    std::string out = "\"";
    for (const char c : name) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string from_field(const Options& options, const std::string& address) {
    if (options.full_name.empty()) return "From: " + address + "\r\n";
    return "From: " + display_name(options.full_name) + " <" + address + ">\r\n";
}

bool eight_bit_text(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::optional<DataError> bad_address(const std::string& address, std::string_view what) {
    if (usable(address)) return std::nullopt;
    return DataError{ex_dataerr, "bad " + std::string(what) + " address \"" + address + "\""};
}

}  // namespace

std::variant<Options, UsageError> parse_arguments(const std::vector<std::string>& args) {
    Options options;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--config" || arg.starts_with("--config=")) {
            if (arg == "--config" && i + 1 == args.size()) return UsageError{"--config needs a file"};
            options.config_path = arg == "--config" ? args[++i] : arg.substr(9);
            continue;
        }
        if (arg.size() < 2 || arg[0] != '-') break;  // the recipients start here
        if (arg[1] == '-') return UsageError{"unknown option " + arg};
        for (std::size_t at = 1; at < arg.size(); ++at) {
            const char option = arg[at];
            if (options_with_value.find(option) != std::string_view::npos) {
                std::string value = arg.substr(at + 1);
                if (value.empty()) {
                    if (i + 1 == args.size()) return UsageError{"option -" + std::string(1, option) + " needs a value"};
                    value = args[++i];
                }
                if (auto error = apply_value(options, option, std::move(value))) return UsageError{*error};
                break;  // the value took the rest of the argument
            }
            if (flags.find(option) == std::string_view::npos) return UsageError{unknown_option(option)};
            apply_flag(options, option);
        }
    }
    options.recipients.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return options;
}

bool is_lone_dot(std::string_view line) { return line == "." || line == ".\r"; }

std::string normalize_line_ends(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32 + 2);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') {
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
            out += "\r\n";
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
}

SplitMessage split_message(std::string_view text) {
    SplitMessage message;
    std::size_t at = 0;
    if (text.starts_with("From ")) {  // mbox separator, not a header field
        const auto end = text.find("\r\n");
        at = end == std::string_view::npos ? text.size() : end + 2;
    }
    while (at < text.size()) {
        const auto end = text.find("\r\n", at);
        const std::string_view line = text.substr(at, end - at);
        if (line.empty()) {  // the empty line between header and body
            at = end + 2;
            break;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !message.header.empty()) {
            message.header.back().field.append(line).append("\r\n");
            at = end + 2;
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !is_field_name(line.substr(0, colon))) break;  // body starts
        message.header.push_back({std::string(line.substr(0, colon)), std::string(line) + "\r\n"});
        at = end + 2;
    }
    message.body = std::string(text.substr(std::min(at, text.size())));
    return message;
}

std::string field_value(const HeaderField& field) {
    std::string value = field.field.substr(field.name.size() + 1);
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
            ++i;
            continue;
        }
        out += value[i];
    }
    return trimmed(out);
}

std::vector<std::string> parse_address_list(std::string_view value) {
    std::vector<std::string> out;
    std::string plain;                 // the element without comments and angle part
    std::optional<std::string> angle;  // the last <...> of the element
    bool quoted = false;
    int comment = 0;
    bool in_angle = false;
    auto finish = [&] {
        std::string address = element_address(plain, angle);
        if (!address.empty()) out.push_back(std::move(address));
        plain.clear();
        angle.reset();
    };
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        std::string& sink = in_angle ? *angle : plain;
        if (c == '\\' && (quoted || comment > 0) && i + 1 < value.size()) {
            if (comment == 0) sink.append(value.substr(i, 2));
            ++i;
        } else if (comment > 0) {
            comment += c == '(' ? 1 : c == ')' ? -1 : 0;
        } else if (quoted) {
            sink += c;
            quoted = c != '"';
        } else if (c == '"') {
            sink += c;
            quoted = true;
        } else if (c == '(') {
            comment = 1;
        } else if (c == '<' && !in_angle) {
            in_angle = true;
            angle.emplace();
        } else if (c == '>' && in_angle) {
            in_angle = false;
        } else if (in_angle) {
            sink += c;
        } else if (c == ':') {
            plain.clear();  // a group's display name (RFC 5322 3.4)
        } else if (c == ',' || c == ';') {
            finish();
        } else {
            plain += c;
        }
    }
    finish();
    return out;
}

std::string rfc5322_date(const std::tm& local_time, long utc_offset) {
    static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const long minutes = (utc_offset < 0 ? -utc_offset : utc_offset) / 60;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[local_time.tm_wday % 7],
                  local_time.tm_mday, months[local_time.tm_mon % 12], local_time.tm_year + 1900, local_time.tm_hour,
                  local_time.tm_min, local_time.tm_sec, utc_offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
    return buffer;
}

std::variant<Submission, DataError> prepare(const Options& options, std::string_view input, const Context& context) {
    if (has_control(options.full_name)) return DataError{ex_usage, "-F: the full name contains control characters"};
    SplitMessage message = split_message(normalize_line_ends(input));
    Submission out;

    // The envelope sender: -f/-r, else LOGIN@hostname (Postfix myorigin).
    if (options.sender) {
        if (has_control(*options.sender)) return DataError{ex_dataerr, "bad sender address \"" + *options.sender + "\""};
        const auto listed = parse_address_list(*options.sender);
        if (listed.size() > 1) return DataError{ex_usage, "-f takes one address, not \"" + *options.sender + "\""};
        out.sender = listed.empty() ? std::string() : qualified(listed.front(), context.hostname);
    } else if (context.login.empty()) {
        return DataError{ex_nouser, "no login name for this user: give the sender with -f ADDRESS"};
    } else {
        out.sender = context.login + "@" + context.hostname;
    }
    if (!out.sender.empty())
        if (auto error = bad_address(out.sender, "sender")) return *error;

    std::vector<std::string> wanted;
    for (const auto& argument : options.recipients) {
        // Refused whole: a list parser would otherwise quietly pick a part of it.
        if (has_control(argument)) return DataError{ex_dataerr, "bad recipient address \"" + argument + "\""};
        for (auto& address : parse_address_list(argument)) wanted.push_back(std::move(address));
    }
    if (options.extract_recipients)
        for (auto& address : header_recipients(message.header)) wanted.push_back(std::move(address));
    for (const auto& address : wanted) {
        const std::string full = qualified(address, context.hostname);
        if (auto error = bad_address(full, "recipient")) return *error;
        if (std::find(out.recipients.begin(), out.recipients.end(), full) == out.recipients.end())
            out.recipients.push_back(full);
    }
    if (out.recipients.empty())
        return DataError{ex_dataerr, options.extract_recipients
                                         ? "no recipients: the message has no To, Cc or Bcc field and none was given"
                                         : "no recipients: give them as arguments, or use -t to take them from To/Cc/Bcc"};

    std::erase_if(message.header, [](const HeaderField& f) { return named(f, "Bcc") || named(f, "Resent-Bcc"); });
    for (const auto& field : message.header) out.data += field.field;
    if (!has_field(message.header, "From")) {
        // The null sender names nobody: the From field then names the login.
        const std::string author = !out.sender.empty()   ? out.sender
                                   : !context.login.empty() ? context.login + "@" + context.hostname
                                                            : "MAILER-DAEMON@" + context.hostname;
        out.data += from_field(options, author);
    }
    if (!has_field(message.header, "Date"))
        out.data += "Date: " + rfc5322_date(context.local_time, context.utc_offset) + "\r\n";
    if (!has_field(message.header, "Message-ID"))
        out.data += "Message-ID: <" + context.unique + "@" + context.hostname + ">\r\n";
    out.data += "\r\n";
    out.data += message.body;
    out.eight_bit = options.eight_bit || eight_bit_text(out.data);
    return out;
}

}  // namespace cartero::cli::sendmail
