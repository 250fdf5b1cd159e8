// DotStuffer: turns message octets into the DATA text a client sends (RFC 5321
// 4.5.2: a line starting with "." gets one more "."; the text ends with
// CRLF "." CRLF), block by block so a large message is never copied whole.
//
// Line endings: the wire carries CRLF only. A bare LF or a bare CR in the message
// becomes CRLF before stuffing, so no byte sequence of the message can be read by
// the next server as an end of data (SMTP smuggling, CVE-2023-51764/51765/51766,
// chasquid CVE-2023-52354: "check the client side emits CRLF only"). Messages
// received by cartero already hold only CRLF (the server refuses bare LF), so for
// them this is an identity; it matters for `sendmail` input and other local sources.
//
// Trust: the message is untrusted and opaque; only line ends and leading dots change.
#pragma once

#include <string>
#include <string_view>

namespace cartero::smtp {

class DotStuffer {
public:
    // Appends the wire form of `block` to `out`. Blocks may split lines anywhere,
    // even between a CR and its LF.
    void add(std::string_view block, std::string& out);
    // Appends CRLF if the last line is unfinished, then the final ".\r\n".
    void finish(std::string& out);

private:
    void end_line(std::string& out);

    bool at_line_start_ = true;
    bool pending_cr_ = false;
};

}  // namespace cartero::smtp
