// Builds spool segment files (spool/record.hpp) from fuzz input, for the record and
// recovery targets. A fuzzer cannot be expected to guess CRC-32C values, so most
// operations write records with a correct checksum and structure-aware payloads;
// others write raw octets or flip octets, so damaged, torn and hostile files are
// reached as well.
//
// Each operation starts with one octet; its low 3 bits pick:
//   0  new segment: a SEGMENT record (sequence = segment count + 1, or a fuzzed u64)
//   1  MESSAGE record from fields (ID from a small set, recipients, done bits, data)
//   2  DONE record for an ID of the same set and a fuzzed index
//   3  sealed record of any type octet (1..3 or any) around fuzzed payload octets
//   4  raw octets (garbage, or a copy of a record's framing with bad contents)
//   5  flip one octet of the current segment
//   6  zero octets (preallocated space), maybe followed by more records
//   7  cut the current segment short (a torn write)
// Every value is taken from the input in its own statement: the order in which
// function arguments are evaluated differs between clang and GCC, and the corpus
// replay test (GCC) must build the same files as the fuzzer (clang).
// The checksum is recomputed here from the layout in record.hpp rather than by
// calling into record.cpp, so the harness also checks the encoder against the doc.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/crc32c.hpp"
#include "spool/record.hpp"

namespace cartero::fuzz {

struct SegmentFile {
    std::uint64_t sequence = 0;
    std::string bytes;
    std::size_t records = 0;  // records after the SEGMENT record, by operations 1 and 2
    bool clean = true;        // no operation 3..7 touched it: every record must scan as valid
};

struct SpoolLog {
    std::uint64_t nonce = 0;
    std::vector<SegmentFile> segments;
};

inline const char* const queue_ids[] = {"0000000001AAAAAA", "0000000001AAAAAB", "0000000002ZZZZZZ",
                                        "0000000003000000"};

class SpoolLogBuilder {
public:
    explicit SpoolLogBuilder(FuzzedDataProvider& in) : in_(in) {}

    SpoolLog build(std::size_t max_operations = 64) {
        log_.nonce = in_.ConsumeIntegral<std::uint64_t>();
        new_segment(false);
        for (std::size_t i = 0; i < max_operations && in_.remaining_bytes() > 0; ++i) step();
        return std::move(log_);
    }

    // The record layout of record.hpp, sealed with `nonce`.
    static std::string seal(std::uint8_t type, std::string_view payload, std::uint64_t nonce) {
        std::string out;
        put<std::uint32_t>(out, spool::record::magic);
        out.push_back(static_cast<char>(type));
        out.append(3, '\0');
        put<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
        std::string seed;
        put<std::uint64_t>(seed, nonce);
        std::uint32_t crc = base::crc32c(seed);
        crc = base::crc32c(std::string_view(out).substr(4, 8), crc);
        crc = base::crc32c(payload, crc);
        put<std::uint32_t>(out, crc);
        out.append(payload);
        out.append(spool::record::padding_for(payload.size()), '\0');
        return out;
    }

private:
    template <typename Int>
    static void put(std::string& out, Int value) {
        for (std::size_t i = 0; i < sizeof(Int); ++i)
            out.push_back(static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i)));
    }

    std::string& current() { return log_.segments.back().bytes; }
    std::string queue_id() { return queue_ids[in_.ConsumeIntegralInRange<std::size_t>(0, 3)]; }

    void new_segment(bool fuzzed_sequence) {
        std::uint64_t sequence = log_.segments.size() + 1;
        if (fuzzed_sequence && in_.ConsumeBool()) sequence = in_.ConsumeIntegral<std::uint64_t>();
        for (const auto& s : log_.segments)
            if (s.sequence == sequence) return;
        std::string payload;
        put(payload, sequence);
        put(payload, log_.nonce);
        log_.segments.push_back(SegmentFile{sequence, seal(1, payload, 0)});
    }

    void message() {
        spool::Envelope envelope;
        envelope.sender = in_.ConsumeRandomLengthString(40);
        envelope.auth_user = in_.ConsumeBool() ? "" : "user@example.org";
        envelope.smtputf8 = in_.ConsumeBool();
        envelope.eight_bit = in_.ConsumeBool();
        envelope.received_at = in_.ConsumeIntegral<std::int64_t>();
        envelope.origin = static_cast<spool::Origin>(in_.ConsumeIntegralInRange<std::uint8_t>(0, smtp::max_origin));
        const auto count = in_.ConsumeIntegralInRange<std::size_t>(0, 10);
        std::vector<bool> done;
        for (std::size_t i = 0; i < count; ++i) {
            envelope.recipients.push_back("rcpt" + std::to_string(i) + "@example.org");
            done.push_back(in_.ConsumeBool());
        }
        auto data = std::make_shared<const std::string>(in_.ConsumeRandomLengthString(200));
        const auto encoded = spool::record::encode_message(queue_id(), envelope, done, data, log_.nonce);
        current() += encoded.head + *encoded.data + std::string(encoded.padding, '\0');
        ++log_.segments.back().records;
    }

    void step() {
        const auto operation = in_.ConsumeIntegral<std::uint8_t>() & 7;
        if (operation >= 3) log_.segments.back().clean = false;
        switch (operation) {
            case 0: return new_segment(true);
            case 1: return message();
            case 2: {
                ++log_.segments.back().records;
                const std::string id = queue_id();
                const auto index = in_.ConsumeIntegralInRange<std::uint32_t>(0, 11);
                current() += spool::record::encode_done(id, index, log_.nonce);
                return;
            }
            case 3: {
                const auto type = in_.ConsumeIntegral<std::uint8_t>();
                const auto nonce = in_.ConsumeBool() ? log_.nonce : 0;
                current() += seal(type % 5, in_.ConsumeRandomLengthString(300), nonce);
                return;
            }
            case 4: current() += in_.ConsumeRandomLengthString(64); return;
            case 5: {
                if (current().empty()) return;
                const auto at = in_.ConsumeIntegralInRange<std::size_t>(0, current().size() - 1);
                current()[at] ^= static_cast<char>(in_.ConsumeIntegralInRange<int>(1, 255));
                return;
            }
            case 6: current().append(in_.ConsumeIntegralInRange<std::size_t>(1, 64), '\0'); return;
            default:
                current().resize(in_.ConsumeIntegralInRange<std::size_t>(0, current().size()));
                return;
        }
    }

    FuzzedDataProvider& in_;
    SpoolLog log_;
};

}  // namespace cartero::fuzz
