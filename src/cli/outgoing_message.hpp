// The message `cartero send` composes (client side; not the server's account
// commands in account_commands.hpp): a body from standard input, a subject,
// attachments, turned into an RFC 5322 / MIME message with GMime 3.
//
// What comes out, and why:
// - From, To, Subject, Date (RFC 5322 3.6.1) and Message-ID (3.6.4) with the
//   sender's domain on the right of the "@"; MIME-Version: 1.0 (RFC 2045 4).
// - Non-ASCII subjects and display names as RFC 2047 encoded words; attachment
//   file names as RFC 2231 parameters (filename*=utf-8''...), so the message is
//   7-bit clean and any server takes it without 8BITMIME or SMTPUTF8.
// - The body as text/plain; charset=utf-8 with the safest transfer encoding
//   GMime's best-encoding filter picks under the 7-bit constraint: 7bit when it
//   is plain ASCII in short lines, quoted-printable otherwise (RFC 2045 6.7), so
//   no line exceeds 998 octets (RFC 5322 2.1.1) whatever the input.
// - With attachments, multipart/mixed (RFC 2046 5.1.3): the text first, then
//   each file base64-encoded (RFC 2045 6.8) with Content-Disposition:
//   attachment (RFC 2183) and the content type libmagic finds in its bytes.
// - CRLF line ends throughout (RFC 5322 2.3), as SMTP DATA wants them.
//
// Trust: the inputs are the invoking user's own (a terminal or a script); the
// one check that matters is that nothing they give can add a header field:
// GMime encodes or folds every header value it writes, and addresses with line
// breaks are refused before they get here (smtp/client_envelope.hpp).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace cartero::cli {

struct Attachment {
    std::string file_name;     // shown to the recipient (the path's last part), UTF-8
    std::string content;       // the file's bytes
    std::string content_type;  // "application/pdf"; empty: application/octet-stream
};

struct OutgoingMessage {
    std::string from_address;  // addr-spec: "ana@example.com"
    std::string from_name;     // display name, UTF-8, may be empty
    std::vector<std::string> to;  // addr-specs (a "Name <addr>" form is parsed by GMime)
    std::string subject;       // UTF-8, may be empty
    std::string body;          // UTF-8 text; LF or CRLF line ends
    std::vector<Attachment> attachments;
    std::time_t date = 0;      // seconds since the epoch
    long utc_offset = 0;       // seconds east of UTC, for the Date field
};

// The message as SMTP DATA would carry it (CRLF, before dot-stuffing).
std::string compose(const OutgoingMessage& message);

// "Ana Núñez <ana@example.com>" or "ana@example.com" (RFC 5322 3.4 mailbox,
// parsed by GMime) as display name and addr-spec; nullopt when it is not one
// mailbox.
struct Mailbox {
    std::string name;
    std::string address;
};
std::optional<Mailbox> parse_mailbox(const std::string& text);

// The domain after the last "@" ("example.com"), or "localhost" without one:
// the right-hand side of the Message-ID.
std::string message_id_domain(const std::string& address);

// Valid UTF-8 (the body and subject must be; the Content-Type says so).
bool is_utf8(const std::string& text);

// libmagic's MIME type of these bytes ("application/pdf", "text/plain"), or
// application/octet-stream when it cannot tell.
std::string content_type_of(const std::string& bytes);

}  // namespace cartero::cli
