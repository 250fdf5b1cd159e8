// Reply: one SMTP server reply as a value (RFC 5321 4.2, enhanced codes RFC 3463).
//
// Trust: pure data; the text is written by cartero, never copied from a peer
// without the caller checking it holds no CR or LF.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cartero::smtp {

struct Reply {
    int code = 0;               // three digits, 2xx..5xx
    std::string enhanced;       // "2.1.0"; empty only for 220/221 greetings where RFC 2034 omits it
    std::string text;           // may contain '\n' to make a multi-line reply (RFC 5321 4.2.1)

    bool positive() const { return code >= 200 && code < 400; }
    bool transient() const { return code >= 400 && code < 500; }
    bool permanent() const { return code >= 500; }

    // The bytes on the wire: every line "code-enh text\r\n", the last with ' '.
    std::string wire() const;
};

Reply make_reply(int code, std::string_view enhanced, std::string_view text);

}  // namespace cartero::smtp
