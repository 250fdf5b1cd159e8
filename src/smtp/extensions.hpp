// Extensions: what a server's EHLO (or LMTP LHLO) reply offers, as the client
// state machine needs it.
//
// Trust: the reply is untrusted; unknown keywords are ignored, a SIZE value that
// is not a number counts as "no limit given", AUTH keeps at most a few mechanisms.
//
// RFC 5321 4.1.1.1 (ehlo-line = keyword *(SP param)), RFC 2920 (PIPELINING),
// 1870 (SIZE), 6152 (8BITMIME), 6531 (SMTPUTF8), 3207 (STARTTLS), 4954 (AUTH; the
// pre-standard "AUTH=" form is still sent by old servers), 3461 (DSN), 3030
// (CHUNKING), 2034 (ENHANCEDSTATUSCODES).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/reply.hpp"

namespace cartero::smtp {

struct Extensions {
    bool pipelining = false;
    bool size_advertised = false;
    std::uint64_t size_limit = 0;        // 0: SIZE without a number, or SIZE 0 (no fixed limit, RFC 1870)
    bool eight_bit_mime = false;
    bool smtputf8 = false;
    bool starttls = false;
    bool dsn = false;
    bool chunking = false;
    bool enhanced_status_codes = false;
    std::vector<std::string> auth;       // mechanisms, upper case, in the server's order

    bool offers_auth(std::string_view mechanism) const;
};

// The first line of the reply is the server's name; every other line is a keyword.
Extensions parse_extensions(const Reply& ehlo_reply);

}  // namespace cartero::smtp
