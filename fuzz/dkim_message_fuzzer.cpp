// Fuzz target: the DKIM signer's message splitter (dkim/message.hpp) on any
// octets — a submitted message is signed, so a user controls every byte.
//
// Invariants: every field name and value, and the body, are views into the
// input, in message order, never overlapping; a name is non-empty printable
// ASCII without ':'; the body is the end of the input; a refusal says why.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "dkim/message.hpp"
#include "fuzz_check.hpp"

using namespace cartero::dkim;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view message(reinterpret_cast<const char*>(data), size);
    const ParseResult result = parse_message(message);
    if (const auto* refused = std::get_if<MalformedMessage>(&result)) {
        FUZZ_CHECK(!refused->reason.empty());
        return 0;
    }
    const auto& parsed = std::get<ParsedMessage>(result);
    const char* after = message.data();
    for (const HeaderField& field : parsed.fields) {
        FUZZ_CHECK(!field.name.empty() && inside(field.name, message) && inside(field.value, message));
        FUZZ_CHECK(field.name.data() >= after);
        for (const char c : field.name) FUZZ_CHECK(c > 0x20 && c < 0x7f && c != ':');
        after = field.value.data() + field.value.size();
        FUZZ_CHECK(field.value.empty() || field.value.data() > field.name.data());
    }
    FUZZ_CHECK(inside(parsed.body, message));
    if (!parsed.body.empty()) {
        FUZZ_CHECK(parsed.body.data() >= after);
        FUZZ_CHECK(parsed.body.data() + parsed.body.size() == message.data() + message.size());
    }
    return 0;
}
