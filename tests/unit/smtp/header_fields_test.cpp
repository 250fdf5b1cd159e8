// HeaderFieldScanner: which lines of a message are header fields, case-insensitive
// names, folded values, the end of the header block, bounded values, and the same
// result wherever the content is cut (every split point, as TCP segments and BDAT
// chunks cut it). Also the hop count (limits.received_headers) through the DATA
// and BDAT readers: 554 5.4.6 only for Received fields of the header block.
#include <gtest/gtest.h>

#include "smtp/chunk_reader.hpp"
#include "smtp/data_reader.hpp"
#include "smtp/header_fields.hpp"

namespace cartero::smtp {
namespace {

struct Scan {
    std::size_t count = 0;
    std::vector<std::string> values;
    bool ended = false;
    bool operator==(const Scan&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Scan& s) {
    return out << "{count " << s.count << ", values " << ::testing::PrintToString(s.values) << ", ended " << s.ended
               << "}";
}

Scan scan(const std::vector<std::string_view>& pieces, std::string name = "Received", std::size_t limit = 64) {
    HeaderFieldScanner scanner(std::move(name), limit);
    for (const auto piece : pieces) scanner.feed(piece);
    return {scanner.count(), scanner.values(), scanner.header_ended()};
}

struct Case {
    const char* name;
    std::string message;
    Scan want;  // for the field "Received"
};

const std::vector<Case>& cases() {
    static const std::vector<Case> cases{
        {"no header at all", "\r\nReceived: x\r\n", {0, {}, true}},
        {"two of three", "Received: a\r\nSubject: s\r\nreceived:b\r\n\r\nbody\r\n", {2, {" a", "b"}, true}},
        {"any case", "RECEIVED: a\r\nReCeIvEd: b\r\n\r\n", {2, {" a", " b"}, true}},
        {"folded value is unfolded", "Received: from a\r\n\tby b\r\n  for c\r\nX: y\r\n\r\n",
         {1, {" from a\tby b  for c"}, true}},
        {"a longer name is another field", "Received-SPF: pass\r\nReceivedx: 1\r\nReceive: 2\r\n\r\n", {0, {}, true}},
        {"space before the colon (RFC 5322 4.5)", "Received  : a\r\n\r\n", {1, {" a"}, true}},
        {"body fields are not counted", "Subject: s\r\n\r\nReceived: a\r\nReceived: b\r\n", {0, {}, true}},
        {"a line that is no field ends the block", "Subject: s\r\nnot a field\r\nReceived: a\r\n", {0, {}, true}},
        {"a first line that starts with space is no field", " Received: a\r\nReceived: b\r\n", {0, {}, true}},
        {"empty name", ":x\r\nReceived: a\r\n", {0, {}, true}},
        {"not ended yet", "Received: a\r\nReceived: b", {2, {" a", " b"}, false}},
        {"value over the limit is dropped, still counted",
         "Received: " + std::string(70, 'x') + "\r\nReceived: short\r\n\r\n", {2, {" short"}, true}},
        {"8-bit octets in a name end the block", "Rec\xc3\xa9ived: a\r\nReceived: b\r\n\r\n", {0, {}, true}},
    };
    return cases;
}

TEST(HeaderFieldScanner, Table) {
    for (const auto& c : cases()) EXPECT_EQ(scan({c.message}), c.want) << c.name;
}

TEST(HeaderFieldScanner, EverySplitPointGivesTheSameResult) {
    for (const auto& c : cases()) {
        const std::string_view m = c.message;
        for (std::size_t at = 0; at <= m.size(); ++at)
            EXPECT_EQ(scan({m.substr(0, at), m.substr(at)}), c.want) << c.name << ", split at " << at;
        std::vector<std::string_view> octets;
        for (std::size_t i = 0; i < m.size(); ++i) octets.push_back(m.substr(i, 1));
        EXPECT_EQ(scan(octets), c.want) << c.name << ", one octet at a time";
    }
}

TEST(HeaderFieldScanner, OtherNamesAndWholeMessages) {
    const std::string message = "Delivered-To: a@b\r\nX: y\r\ndelivered-to:<c@d>\r\n\r\nDelivered-To: e@f\r\n";
    EXPECT_EQ(header_field_values(message, "Delivered-To", 100), (std::vector<std::string>{" a@b", "<c@d>"}));
    EXPECT_EQ(scan({message}, "X", 0), (Scan{1, {}, true})) << "value_limit 0 counts only";
}

// The hop count through the readers: `received` Received fields, then a body that
// has many more (a quoted message), read with limit `limit`.
std::string with_received(std::size_t received) {
    std::string message;
    for (std::size_t i = 0; i < received; ++i) message += "Received: from hop" + std::to_string(i) + "\r\n";
    message += "Subject: loop\r\n\r\n";
    for (int i = 0; i < 10; ++i) message += "Received: in the body\r\n";
    return message;
}

BodyProblem data_problem(const std::string& message, std::size_t limit) {
    DataReader reader(1 << 20, limit);
    std::string input = message + ".\r\n";
    std::string_view rest = input;
    while (!rest.empty()) {
        const DataReader::Step step = reader.read(rest);
        rest.remove_prefix(step.consumed);
        if (step.finished) break;
    }
    return reader.problem();
}

BodyProblem chunk_problem(const std::string& message, std::size_t limit, std::size_t cut) {
    ChunkReader reader(1 << 20, limit);
    reader.begin_chunk(cut, false);
    reader.read(std::string_view(message).substr(0, cut));
    reader.begin_chunk(message.size() - cut, true);
    reader.read(std::string_view(message).substr(cut));
    return reader.problem();
}

TEST(HopCount, MoreReceivedFieldsThanTheLimitIsALoop) {
    EXPECT_EQ(data_problem(with_received(5), 5), BodyProblem::none) << "at the limit";
    EXPECT_EQ(data_problem(with_received(6), 5), BodyProblem::too_many_hops);
    EXPECT_EQ(data_problem(with_received(0), 1), BodyProblem::none) << "fields in the body are not hops";
    const std::string over = with_received(6);
    for (std::size_t cut = 0; cut <= over.size(); ++cut) {
        EXPECT_EQ(chunk_problem(over, 5, cut), BodyProblem::too_many_hops) << "BDAT cut at " << cut;
        EXPECT_EQ(chunk_problem(with_received(5), 5, std::min(cut, with_received(5).size())), BodyProblem::none)
            << "BDAT cut at " << cut;
    }
}

TEST(HopCount, DotStuffedLinesAreCountedAsTheirContent) {
    // RFC 5321 4.5.2: "..Received:" is the content ".Received:", no field; a
    // lone leading dot is removed, so ".Received:" is the content "Received:".
    EXPECT_EQ(data_problem("..Received: a\r\n\r\n", 0), BodyProblem::none);
    EXPECT_EQ(data_problem("Received: a\r\n.Received: b\r\n\r\n", 1), BodyProblem::too_many_hops);
}

}  // namespace
}  // namespace cartero::smtp
