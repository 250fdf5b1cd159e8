// Fuzz target: the command line layer: LineReader framing with a small limit,
// parse_command, after_prefix and parse_decimal, on any octets.
// Invariants: the reader always makes progress or asks for more, never returns a
// line over the limit or one holding LF, and consumes exactly the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/command.hpp"
#include "smtp/line_reader.hpp"

using namespace cartero::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t limit = 3 + data[0] % 64;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    LineReader reader;
    while (!input.empty()) {
        const LineResult r = reader.next(input, limit);
        FUZZ_CHECK(r.consumed <= input.size());
        if (r.status == LineStatus::need_more) {
            FUZZ_CHECK(r.consumed == input.size() || input.size() - r.consumed < limit);
            break;
        }
        FUZZ_CHECK(r.consumed > 0);
        if (r.status == LineStatus::complete) {
            FUZZ_CHECK(r.line.size() + 1 <= limit && r.line.find('\n') == std::string_view::npos);
            const Command command = parse_command(r.line);
            FUZZ_CHECK(command.verb.find(' ') == std::string::npos);
            (void)after_prefix(command.argument, "FROM:");
            (void)parse_decimal(command.argument);
        }
        input.remove_prefix(r.consumed);
    }
    return 0;
}
