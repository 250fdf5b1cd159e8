// The Received trace header cartero prepends to every accepted message
// (RFC 5321 4.4, protocol names from RFC 3848: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA,
// and UTF8SMTP variants from RFC 6531 3.7.3).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "smtp/session.hpp"

namespace cartero::smtp {

struct ReceivedOptions {
    std::string_view by_hostname;     // our hostname
    std::string_view queue_id;        // "id" clause
    std::string_view for_recipient;   // the "for" clause, only when there is one recipient
    std::time_t when = 0;             // the caller's clock: the core reads none
    bool include_auth_user = false;   // smtp.received_auth_user
};

// "Received: from HELO (IP) by HOST (cartero) with ESMTPSA (TLSv1.3 CIPHER) id QID for <r>; DATE\r\n"
// folded at 78 columns with CRLF + tab (RFC 5322 2.2.3).
std::string received_header(const Trace& trace, const ReceivedOptions& options);

}  // namespace cartero::smtp
