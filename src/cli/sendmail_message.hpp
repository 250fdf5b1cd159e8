// The pure half of `cartero sendmail`: the classic /usr/sbin/sendmail command
// line and what it does to the message before it is submitted. No I/O, no
// clock, no password database: the caller passes the login name, host name,
// time and a unique token in a Context, so every rule here is unit-tested.
//
// Command line (getopt-like, as Postfix's sendmail: flags may be grouped,
// option values may be attached or the next argument, "--" ends options, the
// first non-option starts the recipients):
//   -t            recipients also from To/Cc/Bcc (Resent-To/Cc/Bcc when the message has Resent- fields)
//   -i, -oi       a line with a single "." does not end the message
//   -f ADDR, -r ADDR   envelope sender (Postfix: the same; "<>" = null sender)
//   -F NAME       full name for the From field added when the message has none
//   -N DSN        RFC 3461 NOTIFY for every recipient (never, or success,delay,failure)
//   -R full|hdrs  RFC 3461 RET;  -V ENVID  RFC 3461 ENVID
//   -B 7BIT|8BITMIME  body type; -C FILE / --config FILE  configuration file
//   -v            print the server's reply for each recipient
//   accepted and ignored (their classic meaning is the only one cartero has):
//   -bm (send mail, the default), -oem/-oep/-oeq/-oew/-oee (errors are always
//   printed and in the exit code), -odb/-odi/-odq (the server queues anyway),
//   -om, -m, -G, -U, -n
// Anything else is a usage error (exit 64, EX_USAGE), naming the option.
//
// Message (RFC 5322): line ends become CRLF (lone LF or CR too: SMTP carries
// nothing else, RFC 5321 2.3.8); a leading mbox "From " line is dropped; Bcc
// and Resent-Bcc fields are removed (RFC 5322 3.6.3: the blind copies must not
// see each other); From, Date (RFC 5322 3.6: both required) and Message-ID
// (3.6.4) are added at the end of the header when missing, as Postfix's
// cleanup does.
//
// Addresses without "@" (cron writes to "root") get "@hostname" (Postfix
// append_at_myorigin with myorigin = myhostname); the default sender is
// LOGIN@hostname.
//
// Trust: the caller's input and arguments are the local user's own; anything
// that would end up in a header or an SMTP command is checked for line breaks
// and control characters here (no header or command injection through -F or
// -f), and the server checks everything again.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cartero::cli::sendmail {

// sysexits.h values (BSD): what applications such as cron, PHP and git expect.
inline constexpr int ex_ok = 0;
inline constexpr int ex_usage = 64;        // bad command line
inline constexpr int ex_dataerr = 65;      // bad input: no recipients, bad address, too big
inline constexpr int ex_nouser = 67;       // addressee unknown; or no login name for the sender
inline constexpr int ex_unavailable = 69;  // no server running; refused for good
inline constexpr int ex_software = 70;     // internal error
inline constexpr int ex_tempfail = 75;     // try again later
inline constexpr int ex_noperm = 77;       // the socket is not reachable for this user
inline constexpr int ex_config = 78;       // configuration error

struct Options {
    bool extract_recipients = false;     // -t
    bool dot_ends_input = true;          // cleared by -i / -oi
    std::optional<std::string> sender;   // -f / -r, as given
    std::string full_name;               // -F
    std::string notify;                  // -N, upper-cased
    std::string ret;                     // -R, upper-cased
    std::string envid;                   // -V
    bool eight_bit = false;              // -B 8BITMIME
    bool verbose = false;                // -v
    std::string config_path;             // -C / --config
    std::vector<std::string> recipients; // arguments, each may be a list
};

struct UsageError {
    std::string message;
};

// `args` without the program name.
std::variant<Options, UsageError> parse_arguments(const std::vector<std::string>& args);

// True for a line (without its line end) that ends the input unless -i.
bool is_lone_dot(std::string_view line);

// Every line end CRLF, and the text ends with one (unless empty).
std::string normalize_line_ends(std::string_view text);

struct HeaderField {
    std::string name;   // as written
    std::string field;  // the whole field with folded lines, each ending CRLF
};

struct SplitMessage {
    std::vector<HeaderField> header;
    std::string body;  // after the empty line (or the first non-header line)
};

// `text` has CRLF line ends. A leading "From " line (mbox) is dropped.
SplitMessage split_message(std::string_view text);

// "Name: value\r\n\tmore\r\n" -> "value more" (RFC 5322 2.2.3 unfolding).
std::string field_value(const HeaderField& field);

// RFC 5322 3.4 address-list / mailbox-list to bare addresses: display names,
// comments, groups and source routes dropped. "a@x, B <b@y>, g: c@z;" ->
// {"a@x", "b@y", "c@z"}.
std::vector<std::string> parse_address_list(std::string_view value);

struct Context {
    std::string login;        // the invoking user's login name; "" = none
    std::string hostname;     // config hostname: qualifies bare names, names Message-IDs
    std::tm local_time{};     // now, in local time
    long utc_offset = 0;      // seconds east of UTC (tm_gmtoff)
    std::string unique;       // a token unique to this submission, for the Message-ID
};

// RFC 5322 3.3 date-time: "Thu, 26 Nov 2026 10:00:00 +0100".
std::string rfc5322_date(const std::tm& local_time, long utc_offset);

struct Submission {
    std::string sender;                   // "" = null sender
    std::vector<std::string> recipients;  // qualified, without duplicates, in order
    std::string data;                     // the message to send, CRLF throughout
    bool eight_bit = false;               // -B8BITMIME or 8-bit octets in the message
};

struct DataError {
    int exit_code = ex_dataerr;
    std::string message;
};

// Everything between the input and the SMTP transaction.
std::variant<Submission, DataError> prepare(const Options& options, std::string_view input, const Context& context);

}  // namespace cartero::cli::sendmail
