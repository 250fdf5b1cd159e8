// Fuzz target: spool record decoding (spool/record.hpp) and the segment scan
// (spool/segment.hpp): a hostile or damaged spool file must never crash recovery.
//
// Input: byte 0 even = raw mode, odd = built mode (spool_log_builder.hpp).
// Raw mode feeds the octets as a segment to read_at / resynchronise / scan_segment
// and as a payload to every decode_*. Built mode writes records with correct
// checksums (and some damage) so decoding goes past the CRC.
// Invariants: every view stays inside its segment and moves forward; a scan's
// records are valid and in order; a clean built segment scans back to exactly the
// records written; a decoded message has one done bit per recipient and
// re-encodes to a record that decodes to the same message (origin and DSN
// envelope fields included).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "spool/record.hpp"
#include "spool/segment.hpp"
#include "spool_log_builder.hpp"

using namespace cartero::spool;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool same(const QueuedMessage& a, const QueuedMessage& b) {
    return a.id == b.id && a.envelope.sender == b.envelope.sender && a.envelope.auth_user == b.envelope.auth_user &&
           a.envelope.smtputf8 == b.envelope.smtputf8 && a.envelope.eight_bit == b.envelope.eight_bit &&
           a.envelope.received_at == b.envelope.received_at && a.envelope.recipients == b.envelope.recipients &&
           a.envelope.origin == b.envelope.origin && a.envelope.ret == b.envelope.ret &&
           a.envelope.envid == b.envelope.envid && a.done == b.done && *a.data == *b.data;
}

void check_payload(std::string_view payload) {
    (void)record::decode_segment(payload);
    if (const auto done = record::decode_done(payload)) {
        const std::string again = record::encode_done(done->id, done->index, 7);
        const auto view = record::read_at(again, 0, 7);
        FUZZ_CHECK(view.status == record::View::Status::valid && view.payload == payload);
    }
    const auto message = record::decode_message(payload);
    if (!message) return;
    FUZZ_CHECK(message->done.size() == message->envelope.recipients.size());
    FUZZ_CHECK(message->data != nullptr && message->data->size() <= payload.size());
    const auto encoded = record::encode_message(message->id, message->envelope, message->done, message->data, 7);
    const std::string bytes = encoded.head + *encoded.data + std::string(encoded.padding, '\0');
    FUZZ_CHECK(bytes.size() % record::alignment == 0);
    const auto view = record::read_at(bytes, 0, 7);
    FUZZ_CHECK(view.status == record::View::Status::valid && view.next == bytes.size());
    const auto again = record::decode_message(view.payload);
    FUZZ_CHECK(again && same(*again, *message));
}

void check_view(const record::View& view, std::string_view segment, std::size_t offset) {
    if (view.status != record::View::Status::valid) return;
    FUZZ_CHECK(inside(view.payload, segment));
    FUZZ_CHECK(view.next > offset && view.next <= segment.size());
    FUZZ_CHECK(view.next == segment.size() || view.next % record::alignment == offset % record::alignment);
    check_payload(view.payload);
}

void check_segment(std::string_view bytes, std::uint64_t nonce) {
    for (std::size_t offset = 0; offset < bytes.size() && offset < 256; offset += record::alignment) {
        check_view(record::read_at(bytes, offset, nonce), bytes, offset);
        if (const auto next = record::resynchronise(bytes, offset, nonce)) {
            FUZZ_CHECK(*next > offset && *next % record::alignment == 0);
            FUZZ_CHECK(record::read_at(bytes, *next, nonce).status == record::View::Status::valid);
        }
    }
    const SegmentScan scan = scan_segment(bytes);
    FUZZ_CHECK(scan.valid_end <= bytes.size());
    if (!scan.header) FUZZ_CHECK(scan.records.empty());
    std::size_t previous = 0;
    for (const auto& view : scan.records) {
        FUZZ_CHECK(view.status == record::View::Status::valid && inside(view.payload, bytes));
        FUZZ_CHECK(view.next > previous && view.next <= scan.valid_end);
        previous = view.next;
        check_payload(view.payload);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    if (data[0] % 2 == 0) {
        const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
        check_payload(input);
        check_segment(input, 0);
        return 0;
    }
    FuzzedDataProvider in(data + 1, size - 1);
    const cartero::fuzz::SpoolLog log = cartero::fuzz::SpoolLogBuilder(in).build();
    for (const auto& segment : log.segments) {
        check_segment(segment.bytes, log.nonce);
        if (!segment.clean) continue;
        const SegmentScan scan = scan_segment(segment.bytes);
        FUZZ_CHECK(scan.header && scan.header->nonce == log.nonce && scan.header->sequence == segment.sequence);
        FUZZ_CHECK(!scan.holes && !scan.garbage_tail && scan.valid_end == segment.bytes.size());
        FUZZ_CHECK(scan.records.size() == segment.records);
    }
    return 0;
}
