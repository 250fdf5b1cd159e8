// DataReader, ChunkReader and BodyCheck: end-of-data detection, dot-unstuffing,
// the smuggling variants of CVE-2023-51764/51765/51766 at every split point, and the
// BDAT framing checks across chunks.
#include <gtest/gtest.h>

#include <limits>

#include "smtp/chunk_reader.hpp"
#include "smtp/data_reader.hpp"

namespace cartero::smtp {
namespace {

struct DataResult {
    std::string body;
    BodyProblem problem = BodyProblem::none;
    bool finished = false;
    std::string rest;  // input left after the end

    bool operator==(const DataResult& o) const {
        // The content handed out before a problem shows up depends on where the
        // pieces were cut; it is aborted anyway, so only good bodies must match.
        const bool bodies_match = problem != BodyProblem::none || body == o.body;
        return bodies_match && problem == o.problem && finished == o.finished && rest == o.rest;
    }
};

std::ostream& operator<<(std::ostream& out, const DataResult& r) {
    return out << "{body " << ::testing::PrintToString(r.body) << ", problem " << static_cast<int>(r.problem)
               << ", finished " << r.finished << ", rest " << ::testing::PrintToString(r.rest) << "}";
}

DataResult read_pieces(const std::vector<std::string>& pieces, std::size_t limit = 1000) {
    DataReader reader(limit);
    DataResult result;
    for (const auto& piece : pieces) {
        std::string_view input = piece;
        if (result.finished) {
            result.rest += piece;
            continue;
        }
        while (!input.empty() && !result.finished) {
            const DataReader::Step step = reader.read(input);
            EXPECT_TRUE(step.consumed > 0 || step.finished) << "no progress on " << ::testing::PrintToString(input);
            if (step.consumed == 0) break;
            result.body += step.body;
            result.finished = step.finished;
            input.remove_prefix(step.consumed);
        }
        if (result.finished) result.rest += input;
    }
    result.problem = reader.problem();
    return result;
}

std::vector<std::string> split_at(const std::string& s, std::size_t at) { return {s.substr(0, at), s.substr(at)}; }

std::vector<std::string> single_octets(const std::string& s) {
    std::vector<std::string> out;
    for (const char c : s) out.emplace_back(1, c);
    return out;
}

constexpr auto ok = BodyProblem::none;
constexpr auto bare = BodyProblem::bare_line_ending;

struct DataCase {
    const char* name;
    std::string input;  // what follows the 354
    DataResult want;
};

const std::vector<DataCase>& data_cases() {
    static const std::vector<DataCase> cases{
        {"empty message", ".\r\n", {"", ok, true, ""}},
        {"one line", "a\r\n.\r\n", {"a\r\n", ok, true, ""}},
        {"empty first line", "\r\n.\r\n", {"\r\n", ok, true, ""}},
        {"stuffed dot", "a\r\n..b\r\n.\r\n", {"a\r\n.b\r\n", ok, true, ""}},
        {"line of one stuffed dot", "..\r\n.\r\n", {".\r\n", ok, true, ""}},
        {"single leading dot dropped", ".x\r\n.\r\n", {"x\r\n", ok, true, ""}},
        {"dot inside a line", "a.b\r\n.c\r\n.\r\n", {"a.b\r\nc\r\n", ok, true, ""}},
        {"pipelined command after the end", "a\r\n.\r\nQUIT\r\n", {"a\r\n", ok, true, "QUIT\r\n"}},
        {"8-bit octets", "caf\xc3\xa9 \xff\x80\x7f\r\n.\r\n", {"caf\xc3\xa9 \xff\x80\x7f\r\n", ok, true, ""}},
        {"not yet ended", "a\r\n.\r", {"a\r\n", ok, false, ""}},
        {"dot-space is no end", "a\r\n. \r\n.\r\n", {"a\r\n \r\n", ok, true, ""}},
        // Smuggling variants: none of them ends the data, every one marks it bad.
        {"LF.LF", "a\n.\nb\r\n.\r\n", {"", bare, true, ""}},
        {"LF.CRLF", "a\n.\r\nb\r\n.\r\n", {"", bare, true, ""}},
        {"CR.CR", "a\r.\rb\r\n.\r\n", {"", bare, true, ""}},
        {"CRLF.LF", "a\r\n.\nb\r\n.\r\n", {"", bare, true, ""}},
        {"CRLF.CR", "a\r\n.\rb\r\n.\r\n", {"", bare, true, ""}},
        {"CR.CRLF", "a\r.\r\nb\r\n.\r\n", {"", bare, true, ""}},
        {"LF.LF at the start", ".\n.\r\nstill data\r\n.\r\n", {"", bare, true, ""}},
        {"bare LF then the dot line", "a\n.\r\n", {"", bare, false, ""}},
        {"CRCRLF", "a\r\r\n.\r\n", {"", bare, true, ""}},
        {"dot CR CR LF", ".\r\r\n.\r\n", {"", bare, true, ""}},
        {"NUL", std::string("a\0b\r\n.\r\n", 8), {"", BodyProblem::nul, true, ""}},
    };
    return cases;
}

TEST(DataReader, Table) {
    for (const auto& c : data_cases()) {
        const DataResult got = read_pieces({c.input});
        EXPECT_EQ(got, c.want) << c.name;
        if (c.want.problem == ok) {
            EXPECT_EQ(got.body, c.want.body) << c.name;
        }
    }
}

// The same input cut anywhere (TCP may split it anywhere) gives the same result.
TEST(DataReader, EverySplitPointGivesTheSameResult) {
    for (const auto& c : data_cases()) {
        for (std::size_t at = 0; at <= c.input.size(); ++at) {
            EXPECT_EQ(read_pieces(split_at(c.input, at)), c.want) << c.name << ", split at " << at;
        }
        EXPECT_EQ(read_pieces(single_octets(c.input)), c.want) << c.name << ", one octet at a time";
    }
}

// RFC 5321 4.5.2 transparency: what a client stuffs, the reader restores exactly.
std::string dot_stuffed(std::string_view body) {
    std::string out;
    bool line_start = true;
    for (const char c : body) {
        if (line_start && c == '.') out += '.';
        out += c;
        line_start = c == '\n';
    }
    return out + ".\r\n";
}

TEST(DataReader, UnstuffingRoundTripsEveryOctet) {
    std::string line_of_all_octets;
    for (int c = 1; c < 256; ++c) {
        if (c != '\r' && c != '\n') line_of_all_octets += static_cast<char>(c);
    }
    const std::vector<std::string> bodies{
        "", "\r\n", ".\r\n", "..\r\n", "...\r\n", ".\r\n.\r\n", "a\r\n.\r\n..\r\nb\r\n",
        "." + line_of_all_octets + "\r\n" + line_of_all_octets + "\r\n",
    };
    for (const auto& body : bodies) {
        const std::string wire = dot_stuffed(body);
        const DataResult got = read_pieces({wire});
        EXPECT_EQ(got.body, body) << ::testing::PrintToString(wire);
        EXPECT_TRUE(got.finished);
        for (std::size_t at = 0; at <= wire.size(); ++at) {
            EXPECT_EQ(read_pieces(split_at(wire, at)).body, body) << "split at " << at;
        }
    }
}

TEST(DataReader, SliceIsZeroCopy) {
    DataReader reader(1000);
    const std::string input = "hello\r\nworld\r\n.\r\n";
    const DataReader::Step step = reader.read(input);
    EXPECT_EQ(step.body.data(), input.data());
    EXPECT_EQ(step.body, "hello\r\nworld\r\n");
}

TEST(DataReader, SizeLimitCountsContentAfterUnstuffing) {
    EXPECT_EQ(read_pieces({"..\r\n.\r\n"}, 3).problem, ok);  // ".\r\n" is 3 octets
    EXPECT_EQ(read_pieces({"abcd\r\n.\r\n"}, 5).problem, BodyProblem::too_big);
    EXPECT_EQ(read_pieces({"abcd\r\n.\r\n"}, 5).body, "");
    EXPECT_TRUE(read_pieces({"abcd\r\n.\r\n"}, 5).finished);  // read on to the real end
}

TEST(BodyCheck, SizeCountingCannotOverflow) {
    BodyCheck check(std::numeric_limits<std::size_t>::max() - 1);
    check.count(std::numeric_limits<std::size_t>::max() - 2);
    EXPECT_EQ(check.problem(), ok);
    check.count(std::numeric_limits<std::size_t>::max());
    EXPECT_EQ(check.problem(), BodyProblem::too_big);
}

struct Chunk {
    std::uint64_t size;
    bool last;
    std::string octets;
};

// Feeds chunks (each split into single octets) and returns the content and the problem.
std::pair<std::string, BodyProblem> read_chunks(const std::vector<Chunk>& chunks, std::size_t limit = 100) {
    ChunkReader reader(limit);
    std::string body;
    for (const auto& chunk : chunks) {
        reader.begin_chunk(chunk.size, chunk.last);
        bool done = chunk.size == 0;
        for (const char c : chunk.octets) {
            const ChunkReader::Step step = reader.read(std::string_view(&c, 1));
            EXPECT_EQ(step.consumed, 1u);
            body += step.body;
            done = step.chunk_done;
        }
        EXPECT_TRUE(done);
    }
    return {body, reader.problem()};
}

TEST(ChunkReader, Table) {
    struct Case {
        const char* name;
        std::vector<Chunk> chunks;
        std::string want_body;
        BodyProblem want_problem;
    };
    const std::vector<Case> cases{
        {"one chunk", {{4, true, "ab\r\n"}}, "ab\r\n", ok},
        {"CRLF across chunks", {{3, false, "ab\r"}, {1, true, "\n"}}, "ab\r\n", ok},
        {"zero LAST", {{2, false, "ab"}, {0, true, ""}}, "ab", ok},
        {"dots are content", {{5, true, ".\r\n.."}}, ".\r\n..", ok},
        {"CR ends the last chunk", {{3, true, "ab\r"}}, "ab", bare},
        {"CR ends a chunk, zero LAST follows", {{3, false, "ab\r"}, {0, true, ""}}, "ab\r", bare},
        {"bare LF", {{3, true, "a\nb"}}, "a", bare},
        {"NUL", {{3, true, std::string("a\0b", 3)}}, "a", BodyProblem::nul},
        {"announced over the limit", {{101, true, std::string(101, 'x')}}, "", BodyProblem::too_big},
        {"over the limit over two chunks", {{60, false, std::string(60, 'x')}, {41, true, std::string(41, 'x')}},
         std::string(60, 'x'), BodyProblem::too_big},
    };
    for (const auto& c : cases) {
        const auto [body, problem] = read_chunks(c.chunks);
        EXPECT_EQ(body, c.want_body) << c.name;
        EXPECT_EQ(problem, c.want_problem) << c.name;
    }
}

TEST(ChunkReader, TakesOnlyTheChunkOctets) {
    ChunkReader reader(100);
    reader.begin_chunk(3, false);
    const ChunkReader::Step step = reader.read("abcBDAT 1 LAST\r\n");
    EXPECT_EQ(step.consumed, 3u);
    EXPECT_EQ(step.body, "abc");
    EXPECT_TRUE(step.chunk_done);
}

}  // namespace
}  // namespace cartero::smtp
