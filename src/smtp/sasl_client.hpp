// SASL, client side: the responses a client sends for AUTH PLAIN (RFC 4616) and
// AUTH LOGIN (draft-murchison-sasl-login), base64-encoded (RFC 4648 4) as RFC
// 4954 4 requires. The server side lives in auth/sasl.hpp.
//
// Trust: the credentials are the operator's secrets. These functions only encode;
// the client state machine decides when sending them is allowed (TLS only).
#pragma once

#include <string>
#include <string_view>

namespace cartero::smtp {

std::string encode_base64(std::string_view octets);

// RFC 4616 2: message = [authzid] NUL authcid NUL passwd; no authzid is sent.
std::string plain_response(std::string_view username, std::string_view password);

}  // namespace cartero::smtp
