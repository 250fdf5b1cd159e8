// Session IDs: a short token that starts every log line of one connection, so
// `grep s3f9a1c0 mail.log` shows that whole session (Postfix does the same with
// smtpd's queue ID; OpenSMTPD with its session ID).
//
// Trust: no input. Thread-safe.
#pragma once

#include <string>

namespace cartero::observe {

// "s" + 8 lowercase hex digits. Unique within a process for 2^32 connections;
// the sequence starts at a random point so restarts rarely reuse IDs.
std::string session_id();

}  // namespace cartero::observe
