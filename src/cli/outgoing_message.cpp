// Composing the message of `cartero send` with GMime 3; see outgoing_message.hpp.
#include "cli/outgoing_message.hpp"

#include <gmime/gmime.h>
#include <magic.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace cartero::cli {
namespace {

// GObject references released on every path.
struct Unref {
    void operator()(void* object) const { g_object_unref(object); }
};
template <typename T>
using Ref = std::unique_ptr<T, Unref>;

void initialise_gmime() {
    static std::once_flag once;
    // GMime picks the smallest charset for each encoded word (ISO-8859-1 for
    // "Ana Núñez", UTF-8 for a dash): both decode to the same text.
    std::call_once(once, [] { g_mime_init(); });
}

// RFC 5322 2.3: CRLF is the line end; GMime writes DOS line ends when told to,
// and expects the text it is given to end lines with LF alone.
std::string lf_line_ends(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        out += text[i];
    }
    return out;
}

Ref<GMimeObject> text_part(const std::string& body) {
    Ref<GMimeTextPart> part(g_mime_text_part_new_with_subtype("plain"));
    std::string text = lf_line_ends(body);
    if (!text.empty() && text.back() != '\n') text += '\n';
    // The UTF-8 octets as they are (g_mime_text_part_set_text would convert
    // to the smallest charset that fits).
    Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
    Ref<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(GMIME_PART(part.get()), wrapper.get());
    g_mime_text_part_set_charset(part.get(), "utf-8");
    // 7bit for short ASCII lines, else quoted-printable (RFC 2045 6.7): never
    // a line over 998 octets, never 8-bit data.
    g_mime_object_encode(GMIME_OBJECT(part.get()), GMIME_ENCODING_CONSTRAINT_7BIT);
    if (g_mime_part_get_content_encoding(GMIME_PART(part.get())) == GMIME_CONTENT_ENCODING_DEFAULT)
        g_mime_part_set_content_encoding(GMIME_PART(part.get()), GMIME_CONTENT_ENCODING_7BIT);  // said, not implied
    return Ref<GMimeObject>(GMIME_OBJECT(part.release()));
}

Ref<GMimeObject> attachment_part(const Attachment& attachment) {
    const std::string type = attachment.content_type.empty() ? "application/octet-stream" : attachment.content_type;
    Ref<GMimeContentType> content_type(g_mime_content_type_parse(nullptr, type.c_str()));
    Ref<GMimePart> part(g_mime_part_new_with_type(g_mime_content_type_get_media_type(content_type.get()),
                                                  g_mime_content_type_get_media_subtype(content_type.get())));
    Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(attachment.content.data(), attachment.content.size()));
    Ref<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part.get(), wrapper.get());
    g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_BASE64);  // RFC 2045 6.8
    g_mime_object_set_disposition(GMIME_OBJECT(part.get()), GMIME_DISPOSITION_ATTACHMENT);
    // Sets the filename parameter of Content-Disposition (and name of
    // Content-Type); the format options below write it per RFC 2231.
    g_mime_part_set_filename(part.get(), attachment.file_name.c_str());
    return Ref<GMimeObject>(GMIME_OBJECT(part.release()));
}

Ref<GMimeObject> mime_body(const OutgoingMessage& message) {
    Ref<GMimeObject> text = text_part(message.body);
    if (message.attachments.empty()) return text;
    Ref<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));  // RFC 2046 5.1.3
    g_mime_multipart_add(mixed.get(), text.get());
    for (const auto& attachment : message.attachments)
        g_mime_multipart_add(mixed.get(), attachment_part(attachment).get());
    return Ref<GMimeObject>(GMIME_OBJECT(mixed.release()));
}

void set_date(GMimeMessage* mime, std::time_t date, long utc_offset) {
    GTimeZone* zone = g_time_zone_new_offset(static_cast<gint32>(utc_offset));
    GDateTime* utc = g_date_time_new_from_unix_utc(static_cast<gint64>(date));
    GDateTime* local = g_date_time_to_timezone(utc, zone);
    g_mime_message_set_date(mime, local);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    g_time_zone_unref(zone);
}

}  // namespace

std::string message_id_domain(const std::string& address) {
    const auto at = address.rfind('@');
    if (at == std::string::npos || at + 1 == address.size()) return "localhost";
    return address.substr(at + 1);
}

std::string compose(const OutgoingMessage& message) {
    initialise_gmime();
    Ref<GMimeMessage> mime(g_mime_message_new(TRUE));  // TRUE: MIME-Version and the fields GMime keeps in order
    g_mime_message_add_mailbox(mime.get(), GMIME_ADDRESS_TYPE_FROM, message.from_name.c_str(),
                               message.from_address.c_str());
    for (const auto& to : message.to) {
        // An addr-spec or "Name <addr>"; GMime encodes a display name per RFC 2047.
        Ref<InternetAddressList> list(internet_address_list_parse(nullptr, to.c_str()));
        if (!list || internet_address_list_length(list.get()) == 0)
            throw std::invalid_argument("not an address: " + to);
        internet_address_list_append(g_mime_message_get_addresses(mime.get(), GMIME_ADDRESS_TYPE_TO), list.get());
    }
    g_mime_message_set_subject(mime.get(), message.subject.c_str(), "utf-8");  // RFC 2047 when not ASCII
    set_date(mime.get(), message.date, message.utc_offset);
    char* id = g_mime_utils_generate_message_id(message_id_domain(message.from_address).c_str());
    g_mime_message_set_message_id(mime.get(), id);
    g_free(id);
    g_mime_message_set_mime_part(mime.get(), mime_body(message).get());

    GMimeFormatOptions* options = g_mime_format_options_clone(nullptr);
    g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_format_options_set_param_encoding_method(options, GMIME_PARAM_ENCODING_METHOD_RFC2231);
    Ref<GMimeStream> out(g_mime_stream_mem_new());
    g_mime_object_write_to_stream(GMIME_OBJECT(mime.get()), options, out.get());
    g_mime_format_options_free(options);
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::optional<Mailbox> parse_mailbox(const std::string& text) {
    initialise_gmime();
    Ref<InternetAddressList> list(internet_address_list_parse(nullptr, text.c_str()));
    if (!list || internet_address_list_length(list.get()) != 1) return std::nullopt;
    InternetAddress* address = internet_address_list_get_address(list.get(), 0);
    if (!INTERNET_ADDRESS_IS_MAILBOX(address)) return std::nullopt;
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
    const char* name = internet_address_get_name(address);
    if (addr == nullptr || std::string_view(addr).find('@') == std::string_view::npos) return std::nullopt;
    return Mailbox{name == nullptr ? std::string() : name, addr};
}

bool is_utf8(const std::string& text) {
    return g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr) == TRUE;
}

std::string content_type_of(const std::string& bytes) {
    const std::string fallback = "application/octet-stream";
    magic_t cookie = magic_open(MAGIC_MIME_TYPE);
    if (cookie == nullptr) return fallback;
    std::string type = fallback;
    if (magic_load(cookie, nullptr) == 0) {
        const char* found = magic_buffer(cookie, bytes.data(), bytes.size());
        if (found != nullptr && std::string_view(found).find('/') != std::string_view::npos) type = found;
    }
    magic_close(cookie);
    return type;
}

}  // namespace cartero::cli
