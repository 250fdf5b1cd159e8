// Client envelope: command lines and pre-send checks; see client_envelope.hpp.
#include "smtp/client_envelope.hpp"

#include <algorithm>

#include "smtp/ascii.hpp"
#include "smtp/dsn_params.hpp"

namespace cartero::smtp {
namespace {

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Anything that could end the command line or the angle-bracket path.
bool usable_address(std::string_view address) {
    return std::none_of(address.begin(), address.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return is_control(u) || c == '<' || c == '>';
    });
}

bool ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// NOTIFY and RET values are keywords; anything else is dropped rather than sent.
bool keyword_list(std::string_view value) {
    return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ',';
    });
}

std::string orcpt_value(std::string_view orcpt) {
    const std::size_t semicolon = orcpt.find(';');
    const std::string_view type = orcpt.substr(0, semicolon == std::string_view::npos ? 0 : semicolon);
    const bool atom = !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!atom) return "rfc822;" + xtext_encode(orcpt);
    return std::string(orcpt.substr(0, semicolon + 1)) + xtext_encode(orcpt.substr(semicolon + 1));
}

}  // namespace

bool needs_smtputf8(const ClientMessage& message) {
    return message.smtputf8 || !ascii(message.sender) ||
           std::any_of(message.recipients.begin(), message.recipients.end(),
                       [](const ClientRecipient& r) { return !ascii(r.address); });
}

std::optional<Reply> message_refusal(const ClientMessage& message, const Extensions& ext) {
    if (!usable_address(message.sender)) {
        return make_reply(501, "5.1.7", "the sender address contains characters that cannot be sent");
    }
    const std::uint64_t size = message.data ? message.data->size() : 0;
    if (ext.size_limit > 0 && size > ext.size_limit) {  // RFC 1870 6
        return make_reply(552, "5.3.4",
                          "message size " + std::to_string(size) + " exceeds the server's limit of " +
                              std::to_string(ext.size_limit) + " octets (SIZE)");
    }
    // RFC 6531 3.5: without SMTPUTF8 at the server the message must not be sent;
    // no downgrade is attempted (RFC 6530 leaves it unspecified and lossy).
    if (needs_smtputf8(message) && !ext.smtputf8) {
        return make_reply(553, "5.6.7", "the message needs SMTPUTF8 and the server does not support it");
    }
    // RFC 6152 3: an 8-bit message to a server without 8BITMIME must be converted
    // or returned. cartero does not convert to quoted-printable (it would break
    // DKIM signatures and is rarely needed today), so the message is returned.
    if (message.eight_bit && !ext.eight_bit_mime) {
        return make_reply(554, "5.6.3", "the message has 8-bit content and the server does not support 8BITMIME");
    }
    return std::nullopt;
}

std::optional<Reply> recipient_refusal(const ClientRecipient& recipient) {
    if (recipient.address.empty() || !usable_address(recipient.address)) {
        return make_reply(553, "5.1.3", "the recipient address contains characters that cannot be sent");
    }
    return std::nullopt;
}

std::string mail_command(const ClientMessage& message, const Extensions& ext) {
    std::string line = "MAIL FROM:<" + message.sender + ">";
    if (ext.size_advertised && message.data) line += " SIZE=" + std::to_string(message.data->size());
    if (message.eight_bit) line += " BODY=8BITMIME";
    if (needs_smtputf8(message)) line += " SMTPUTF8";
    if (ext.dsn) {
        const std::string ret = upper_ascii(message.ret);
        if (ret == "FULL" || ret == "HDRS") line += " RET=" + ret;
        if (!message.envid.empty()) line += " ENVID=" + xtext_encode(message.envid);
    }
    return line + "\r\n";
}

std::string rcpt_command(const ClientRecipient& recipient, const Extensions& ext) {
    std::string line = "RCPT TO:<" + recipient.address + ">";
    if (ext.dsn) {
        if (keyword_list(recipient.notify)) line += " NOTIFY=" + upper_ascii(recipient.notify);
        if (!recipient.orcpt.empty()) line += " ORCPT=" + orcpt_value(recipient.orcpt);
    }
    return line + "\r\n";
}

}  // namespace cartero::smtp
