// SASL, client side: the responses a client sends for AUTH PLAIN (RFC 4616),
// AUTH LOGIN (draft-murchison-sasl-login), OAUTHBEARER (RFC 7628 3.1) and
// XOAUTH2 (Google's and Microsoft's bearer-token format), base64-encoded (RFC
// 4648 4) as RFC 4954 4 requires. The server side lives in auth/sasl.hpp.
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

// XOAUTH2: base64("user=" user ^A "auth=Bearer " token ^A ^A), ^A = 0x01.
std::string xoauth2_response(std::string_view username, std::string_view token);

// RFC 7628 3.1: gs2-header "n,a=" saslname "," then kvpairs, each ended by ^A:
// host, port (RFC 7628 3.1: the ones the client connected to; left out when
// empty/0) and auth=Bearer token, and a final ^A. In the saslname "," and "="
// are written =2C and =3D (RFC 5801 4).
std::string oauthbearer_response(std::string_view username, std::string_view host, unsigned port,
                                 std::string_view token);

// RFC 7628 3.2.3: the client's reply to the server's error challenge, a single
// ^A ("AQ=="). XOAUTH2 expects an empty line instead.
inline constexpr std::string_view oauthbearer_error_ack = "AQ==";

}  // namespace cartero::smtp
