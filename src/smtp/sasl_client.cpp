// SASL client responses; see sasl_client.hpp.
#include "smtp/sasl_client.hpp"

namespace cartero::smtp {

std::string encode_base64(std::string_view octets) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((octets.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= octets.size(); i += 3) {
        const unsigned n = static_cast<unsigned char>(octets[i]) << 16 | static_cast<unsigned char>(octets[i + 1]) << 8 |
                           static_cast<unsigned char>(octets[i + 2]);
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = octets.size() - i;
    if (rest > 0) {
        unsigned n = static_cast<unsigned char>(octets[i]) << 16;
        if (rest == 2) n |= static_cast<unsigned char>(octets[i + 1]) << 8;
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string plain_response(std::string_view username, std::string_view password) {
    std::string message;
    message += '\0';
    message += username;
    message += '\0';
    message += password;
    return encode_base64(message);
}

std::string xoauth2_response(std::string_view username, std::string_view token) {
    std::string message = "user=";
    message += username;
    message += "\x01" "auth=Bearer ";
    message += token;
    message += "\x01\x01";
    return encode_base64(message);
}

std::string oauthbearer_response(std::string_view username, std::string_view host, unsigned port,
                                 std::string_view token) {
    std::string message = "n,a=";
    for (const char c : username) {
        if (c == ',') message += "=2C";
        else if (c == '=') message += "=3D";
        else message += c;
    }
    message += ",\x01";
    if (!host.empty()) message += "host=" + std::string(host) + "\x01";
    if (port != 0) message += "port=" + std::to_string(port) + "\x01";
    message += "auth=Bearer ";
    message += token;
    message += "\x01\x01";
    return encode_base64(message);
}

}  // namespace cartero::smtp
