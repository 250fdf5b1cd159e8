#include "spool/record.hpp"

#include <gtest/gtest.h>

namespace cartero::spool::record {
namespace {

std::string flatten(const EncodedMessage& encoded) { return encoded.head + *encoded.data + std::string(encoded.padding, '\0'); }

TEST(Record, MessageRoundTrip) {
    Envelope envelope{"s@x", {"a@y", "b@z", "c@w"}, "s@x", true, true, 1234567890};
    const std::vector<bool> done = {false, true, false};
    const auto data = std::make_shared<const std::string>("Subject: hi\r\n\r\nbody\r\n");
    const std::string bytes = flatten(encode_message("ID1", envelope, done, data, 42));
    EXPECT_EQ(bytes.size() % alignment, 0u);
    const View view = read_at(bytes, 0, 42);
    ASSERT_EQ(view.status, View::Status::valid);
    EXPECT_EQ(view.next, bytes.size());
    const auto message = decode_message(view.payload);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->id, "ID1");
    EXPECT_EQ(message->envelope.recipients, envelope.recipients);
    EXPECT_EQ(message->envelope.sender, "s@x");
    EXPECT_TRUE(message->envelope.smtputf8 && message->envelope.eight_bit);
    EXPECT_EQ(message->envelope.received_at, 1234567890);
    EXPECT_EQ(message->done, done);
    EXPECT_EQ(*message->data, *data);
}

TEST(Record, EveryDamageIsDetected) {
    const std::string bytes = encode_done("QUEUEID", 7, 99);
    const std::size_t record_end = header_size + read_at(bytes, 0, 99).payload.size();  // padding is not covered
    for (std::size_t at = 0; at < record_end; ++at) {
        std::string damaged = bytes;
        damaged[at] ^= 0x20;
        EXPECT_EQ(read_at(damaged, 0, 99).status, View::Status::invalid) << "flipped byte " << at;
    }
    EXPECT_EQ(read_at(bytes, 0, 98).status, View::Status::invalid) << "another nonce must not verify";
    const auto done = decode_done(read_at(bytes, 0, 99).payload);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->id, "QUEUEID");
    EXPECT_EQ(done->index, 7u);
}

TEST(Record, ResynchroniseSkipsGarbage) {
    const std::string good = encode_done("B", 1, 5);
    const std::string bytes = std::string(24, 'x') + good;
    EXPECT_EQ(read_at(bytes, 0, 5).status, View::Status::invalid);
    const auto next = resynchronise(bytes, 0, 5);
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, 24u);
}

TEST(Record, TruncatedPayloadsDoNotDecode) {
    Envelope envelope{"s@x", {"a@y"}, "", false, false, 1};
    const auto encoded = encode_message("ID", envelope, {false}, std::make_shared<const std::string>("data"), 0);
    const std::string payload = flatten(encoded).substr(header_size, encoded.head.size() - header_size + 4);
    for (std::size_t length = 0; length < payload.size(); ++length)
        EXPECT_FALSE(decode_message(payload.substr(0, length)).has_value()) << "length " << length;
    EXPECT_TRUE(decode_message(payload).has_value());
}

}  // namespace
}  // namespace cartero::spool::record
