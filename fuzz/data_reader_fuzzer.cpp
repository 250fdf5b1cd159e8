// Fuzz target: DataReader (DATA end detection and dot-unstuffing). The input is read
// whole and again cut at a fuzzer-chosen point; both must agree on where the message
// ends and whether it is bad, and a good body must be identical (CVE-2023-51764
// class: the end of data may not depend on how TCP split the bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/data_reader.hpp"

using namespace cartero::smtp;

namespace {

struct Outcome {
    std::string body;
    std::size_t end = 0;  // octets up to and including the end marker; 0 if none
    BodyProblem problem = BodyProblem::none;
};

Outcome read(std::string_view input, std::size_t cut) {
    DataReader reader(1 << 20);
    Outcome out;
    std::size_t offset = 0;
    for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
        while (!piece.empty() && out.end == 0) {
            const DataReader::Step step = reader.read(piece);
            FUZZ_CHECK(step.consumed > 0 && step.consumed <= piece.size());
            out.body += step.body;
            offset += step.consumed;
            piece.remove_prefix(step.consumed);
            if (step.finished) out.end = offset;
        }
    }
    out.problem = reader.problem();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::size_t cut = ((data[0] << 8) | data[1]) % (input.size() + 1);
    const Outcome whole = read(input, input.size());
    const Outcome split = read(input, cut);
    FUZZ_CHECK(whole.end == split.end && whole.problem == split.problem);
    if (whole.problem == BodyProblem::none) FUZZ_CHECK(whole.body == split.body);
    if (whole.end > 0) {
        // The end is the first real "<CRLF>.<CRLF>" (its first CRLF may be the DATA line's).
        const std::string framed = "\r\n" + std::string(input.substr(0, whole.end));
        FUZZ_CHECK(framed.size() >= 5 && framed.find("\r\n.\r\n") == framed.size() - 5);
    }
    return 0;
}
