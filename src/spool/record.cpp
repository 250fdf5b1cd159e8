// Spool records; see record.hpp for the layout.
#include "spool/record.hpp"

#include <algorithm>
#include <cstring>

#include "base/crc32c.hpp"

namespace cartero::spool::record {
namespace {

constexpr std::uint8_t flag_smtputf8 = 1;
constexpr std::uint8_t flag_eight_bit = 2;
// A DSN section follows the done bits (record.hpp). Records without it are the
// format written before DSN support and decode exactly as they always did.
constexpr std::uint8_t flag_dsn = 4;
// An origin octet follows the DSN section (record.hpp), written only when the
// origin differs from the one a record without it implies.
constexpr std::uint8_t flag_origin = 8;
constexpr std::uint8_t known_flags = flag_smtputf8 | flag_eight_bit | flag_dsn | flag_origin;
constexpr std::uint8_t known_notify_bits =
    smtp::notify_success | smtp::notify_failure | smtp::notify_delay | smtp::notify_never;

template <typename Int>
void put(std::string& out, Int value) {
    for (std::size_t i = 0; i < sizeof(Int); ++i)
        out.push_back(static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i)));
}

template <typename Length>
void put_string(std::string& out, std::string_view text) {
    put(out, static_cast<Length>(text.size()));
    out.append(text);
}

template <typename Int>
Int get(std::string_view bytes, std::size_t at) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i)
        value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    return static_cast<Int>(value);
}

// Bounds-checked sequential reader over a payload; any overrun makes ok() false.
class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    template <typename Int>
    Int number() {
        if (!take(sizeof(Int))) return 0;
        return get<Int>(bytes_, at_ - sizeof(Int));
    }
    template <typename Length>
    std::string_view text() {
        const auto length = number<Length>();
        if (!take(length)) return {};
        return bytes_.substr(at_ - length, length);
    }
    std::string_view rest() {
        std::string_view tail = bytes_.substr(std::min(at_, bytes_.size()));
        at_ = bytes_.size();
        return tail;
    }
    bool ok() const { return ok_; }
    bool finished() const { return ok_ && at_ == bytes_.size(); }

private:
    bool take(std::uint64_t length) {
        ok_ = ok_ && length <= bytes_.size() - at_;
        if (ok_) at_ += static_cast<std::size_t>(length);
        return ok_;
    }
    std::string_view bytes_;
    std::size_t at_ = 0;
    bool ok_ = true;
};

std::uint32_t checksum(std::string_view header, std::string_view payload_head, std::string_view payload_tail,
                       std::uint64_t nonce) {
    std::string seed;
    put(seed, nonce);
    std::uint32_t crc = base::crc32c(seed);
    crc = base::crc32c(header.substr(4, 8), crc);
    crc = base::crc32c(payload_head, crc);
    return base::crc32c(payload_tail, crc);
}

// Appends a 16-octet header for a payload made of `payload_head` (already at
// the end of `out`, after the header space) and `payload_tail`.
void seal(std::string& out, Type type, std::string_view payload_tail, std::uint64_t nonce) {
    const std::size_t payload_size = out.size() - header_size + payload_tail.size();
    std::string header;
    put(header, magic);
    put(header, static_cast<std::uint8_t>(type));
    header.append(3, '\0');
    put(header, static_cast<std::uint32_t>(payload_size));
    const std::string_view payload_head = std::string_view(out).substr(header_size);
    put(header, checksum(header, payload_head, payload_tail, nonce));
    out.replace(0, header_size, header);
}

std::string sealed(std::string payload_with_room, Type type, std::uint64_t nonce) {
    seal(payload_with_room, type, {}, nonce);
    payload_with_room.append(padding_for(payload_with_room.size() - header_size), '\0');
    return payload_with_room;
}

void put_done_bits(std::string& out, const std::vector<bool>& done) {
    for (std::size_t byte = 0; byte * 8 < done.size(); ++byte) {
        std::uint8_t bits = 0;
        for (std::size_t bit = 0; bit < 8 && byte * 8 + bit < done.size(); ++bit)
            if (done[byte * 8 + bit]) bits |= static_cast<std::uint8_t>(1u << bit);
        put(out, bits);
    }
}

// Only envelopes that carry a DSN parameter get the section, so a message without
// any is written byte for byte as before (older spools and fuzz seeds stay canonical).
bool has_dsn(const Envelope& envelope) {
    if (envelope.ret != DsnReturn::unset || !envelope.envid.empty()) return true;
    return std::any_of(envelope.recipient_dsn.begin(), envelope.recipient_dsn.end(),
                       [](const RecipientDsn& dsn) { return dsn != RecipientDsn{}; });
}

void put_dsn(std::string& out, const Envelope& envelope) {
    put(out, static_cast<std::uint8_t>(envelope.ret));
    put_string<std::uint16_t>(out, envelope.envid);
    for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
        const RecipientDsn& dsn = envelope.dsn(i);
        put(out, dsn.notify);
        put_string<std::uint16_t>(out, dsn.orcpt_type);
        put_string<std::uint16_t>(out, dsn.orcpt);
    }
}

// Values no encoder writes are damage: refusing them keeps decode(encode(x)) == x.
bool get_dsn(Reader& reader, Envelope& envelope) {
    const auto ret = reader.number<std::uint8_t>();
    if (ret > static_cast<std::uint8_t>(DsnReturn::headers)) return false;
    envelope.ret = static_cast<DsnReturn>(ret);
    envelope.envid = std::string(reader.text<std::uint16_t>());
    for (std::size_t i = 0; i < envelope.recipients.size() && reader.ok(); ++i) {
        RecipientDsn dsn;
        dsn.notify = reader.number<std::uint8_t>();
        if ((dsn.notify & ~known_notify_bits) != 0) return false;
        dsn.orcpt_type = std::string(reader.text<std::uint16_t>());
        dsn.orcpt = std::string(reader.text<std::uint16_t>());
        envelope.recipient_dsn.push_back(std::move(dsn));
    }
    return reader.ok();
}

// Records written before origins were kept say only who authenticated: mail
// with an auth user came from a session that authenticated (or the local
// socket, which counts as one), the rest is taken as from the internet.
Origin implied_origin(const Envelope& envelope) {
    return envelope.auth_user.empty() ? Origin::internet : Origin::authenticated;
}

bool has_origin(const Envelope& envelope) { return envelope.origin != implied_origin(envelope); }

// An origin octet equal to the implied one, or unknown, is damage: no encoder writes it.
bool get_origin(Reader& reader, Envelope& envelope) {
    const auto origin = reader.number<std::uint8_t>();
    if (!reader.ok() || origin > smtp::max_origin) return false;
    envelope.origin = static_cast<Origin>(origin);
    return has_origin(envelope);
}

constexpr std::uint8_t state_held = 1;
constexpr std::uint8_t state_delay_warned = 2;

RecipientOutcome outcome_from(std::uint8_t value) {
    return value == 1 ? RecipientOutcome::delivered : value == 2 ? RecipientOutcome::bounced : RecipientOutcome::unknown;
}

bool all_zero(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

}  // namespace

std::size_t padding_for(std::size_t payload_size) {
    return (alignment - (header_size + payload_size) % alignment) % alignment;
}

std::string encode_segment(std::uint64_t sequence, std::uint64_t nonce) {
    std::string out(header_size, '\0');
    put(out, sequence);
    put(out, nonce);
    // The segment record itself is sealed with nonce 0: it is what carries the nonce.
    return sealed(std::move(out), Type::segment, 0);
}

EncodedMessage encode_message(const std::string& id, const Envelope& envelope, const std::vector<bool>& done,
                              std::shared_ptr<const std::string> data, std::uint64_t nonce) {
    std::string head(header_size, '\0');
    put_string<std::uint16_t>(head, id);
    put_string<std::uint32_t>(head, envelope.sender);
    put_string<std::uint32_t>(head, envelope.auth_user);
    const bool dsn = has_dsn(envelope);
    const bool origin = has_origin(envelope);
    put(head, static_cast<std::uint8_t>((envelope.smtputf8 ? flag_smtputf8 : 0) |
                                        (envelope.eight_bit ? flag_eight_bit : 0) | (dsn ? flag_dsn : 0) |
                                        (origin ? flag_origin : 0)));
    put(head, envelope.received_at);
    put(head, static_cast<std::uint32_t>(envelope.recipients.size()));
    for (const auto& recipient : envelope.recipients) put_string<std::uint32_t>(head, recipient);
    put_done_bits(head, done);
    if (dsn) put_dsn(head, envelope);
    if (origin) put(head, static_cast<std::uint8_t>(envelope.origin));
    put(head, static_cast<std::uint64_t>(data->size()));
    seal(head, Type::message, *data, nonce);
    const std::size_t padding = padding_for(head.size() - header_size + data->size());
    return EncodedMessage{std::move(head), std::move(data), padding};
}

std::string encode_done(const std::string& id, std::uint32_t index, std::uint64_t nonce) {
    std::string out(header_size, '\0');
    put_string<std::uint16_t>(out, id);
    put(out, index);
    return sealed(std::move(out), Type::done, nonce);
}

std::string encode_state(const std::string& id, const DeliveryState& state, std::uint64_t nonce) {
    std::string out(header_size, '\0');
    put_string<std::uint16_t>(out, id);
    put(out, state.attempts);
    put(out, state.next_attempt);
    put(out, static_cast<std::uint8_t>((state.held ? state_held : 0) | (state.delay_warned ? state_delay_warned : 0)));
    put(out, static_cast<std::uint32_t>(state.recipients.size()));
    for (const auto& recipient : state.recipients) {
        put(out, static_cast<std::uint8_t>(recipient.outcome));
        put_string<std::uint16_t>(out, std::string_view(recipient.last_error).substr(0, max_error_text));
    }
    return sealed(std::move(out), Type::state, nonce);
}

View read_at(std::string_view segment, std::size_t offset, std::uint64_t nonce) {
    View view;
    if (offset > segment.size() || segment.size() - offset < header_size) return view;
    const std::string_view header = segment.substr(offset, header_size);
    const auto length = get<std::uint32_t>(header, 8);
    const auto type = get<std::uint8_t>(header, 4);
    if (get<std::uint32_t>(header, 0) != magic || length > max_payload || !all_zero(header.substr(5, 3)) ||
        type < static_cast<std::uint8_t>(Type::segment) || type > static_cast<std::uint8_t>(Type::state))
        return view;
    const std::size_t available = segment.size() - offset - header_size;
    if (length > available) return view;
    const std::string_view payload = segment.substr(offset + header_size, length);
    if (checksum(header, payload, {}, nonce) != get<std::uint32_t>(header, 12)) return view;
    view.status = View::Status::valid;
    view.type = static_cast<Type>(type);
    view.payload = payload;
    view.next = std::min(segment.size(), offset + header_size + length + padding_for(length));
    return view;
}

std::optional<std::size_t> resynchronise(std::string_view segment, std::size_t offset, std::uint64_t nonce) {
    for (std::size_t at = (offset / alignment + 1) * alignment; at + header_size <= segment.size(); at += alignment) {
        if (get<std::uint32_t>(segment, at) != magic) continue;
        if (read_at(segment, at, nonce).status == View::Status::valid) return at;
    }
    return std::nullopt;
}

std::optional<SegmentHeader> decode_segment(std::string_view payload) {
    Reader reader(payload);
    SegmentHeader header;
    header.sequence = reader.number<std::uint64_t>();
    header.nonce = reader.number<std::uint64_t>();
    if (!reader.finished()) return std::nullopt;
    return header;
}

std::optional<Done> decode_done(std::string_view payload) {
    Reader reader(payload);
    Done done;
    done.id = std::string(reader.text<std::uint16_t>());
    done.index = reader.number<std::uint32_t>();
    if (!reader.finished()) return std::nullopt;
    return done;
}

// Trailing octets are a later version's fields (record.hpp): not checked.
std::optional<State> decode_state(std::string_view payload) {
    Reader reader(payload);
    State state;
    state.id = std::string(reader.text<std::uint16_t>());
    state.state.attempts = reader.number<std::uint32_t>();
    state.state.next_attempt = reader.number<std::int64_t>();
    const auto flags = reader.number<std::uint8_t>();
    state.state.held = (flags & state_held) != 0;
    state.state.delay_warned = (flags & state_delay_warned) != 0;
    const auto count = reader.number<std::uint32_t>();
    // Each recipient takes at least 3 octets: a larger count is damage, not a reason to allocate.
    if (!reader.ok() || count > payload.size() / 3) return std::nullopt;
    for (std::uint32_t i = 0; i < count && reader.ok(); ++i) {
        RecipientState recipient;
        recipient.outcome = outcome_from(reader.number<std::uint8_t>());
        recipient.last_error = std::string(reader.text<std::uint16_t>().substr(0, max_error_text));
        state.state.recipients.push_back(std::move(recipient));
    }
    if (!reader.ok()) return std::nullopt;
    return state;
}

std::optional<QueuedMessage> decode_message(std::string_view payload) {
    Reader reader(payload);
    QueuedMessage message;
    message.id = std::string(reader.text<std::uint16_t>());
    message.envelope.sender = std::string(reader.text<std::uint32_t>());
    message.envelope.auth_user = std::string(reader.text<std::uint32_t>());
    const auto flags = reader.number<std::uint8_t>();
    if ((flags & ~known_flags) != 0) return std::nullopt;
    message.envelope.smtputf8 = (flags & flag_smtputf8) != 0;
    message.envelope.eight_bit = (flags & flag_eight_bit) != 0;
    message.envelope.received_at = reader.number<std::int64_t>();
    const auto count = reader.number<std::uint32_t>();
    // Each recipient takes at least 4 octets, so a count beyond that is damage, not a reason to allocate.
    if (!reader.ok() || count > payload.size() / 4) return std::nullopt;
    for (std::uint32_t i = 0; i < count && reader.ok(); ++i)
        message.envelope.recipients.emplace_back(reader.text<std::uint32_t>());
    message.done.assign(count, false);
    for (std::uint32_t byte = 0; byte * 8 < count; ++byte) {
        const auto bits = reader.number<std::uint8_t>();
        for (std::uint32_t bit = 0; bit < 8 && byte * 8 + bit < count; ++bit)
            message.done[byte * 8 + bit] = (bits >> bit) & 1;
    }
    if ((flags & flag_dsn) != 0 && !get_dsn(reader, message.envelope)) return std::nullopt;
    message.envelope.origin = implied_origin(message.envelope);
    if ((flags & flag_origin) != 0 && !get_origin(reader, message.envelope)) return std::nullopt;
    const auto size = reader.number<std::uint64_t>();
    const std::string_view data = reader.rest();
    if (!reader.ok() || data.size() != size) return std::nullopt;
    message.data = std::make_shared<const std::string>(data);
    return message;
}

}  // namespace cartero::spool::record
