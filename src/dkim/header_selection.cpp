// Header field selection for DKIM signatures. See header_selection.hpp.
#include "dkim/header_selection.hpp"

#include <array>
#include <map>
#include <string_view>

namespace cartero::dkim {
namespace {

struct SignedName {
    std::string_view name;  // lower case
    bool oversign;          // listed once more than it occurs (RFC 6376 8.15)
};

// RFC 6376 5.4.1 recommended fields, then MIME (RFC 2045) and list fields
// (RFC 2369, 2919, 8058). Order is the order in h=.
constexpr std::array kSignedNames = {
    SignedName{"from", true},
    SignedName{"reply-to", true},
    SignedName{"subject", true},
    SignedName{"date", false},
    SignedName{"to", true},
    SignedName{"cc", true},
    SignedName{"sender", false},
    SignedName{"message-id", false},
    SignedName{"in-reply-to", false},
    SignedName{"references", false},
    SignedName{"resent-date", false},
    SignedName{"resent-from", false},
    SignedName{"resent-sender", false},
    SignedName{"resent-to", false},
    SignedName{"resent-cc", false},
    SignedName{"resent-message-id", false},
    SignedName{"mime-version", false},
    SignedName{"content-type", false},
    SignedName{"content-transfer-encoding", false},
    SignedName{"content-id", false},
    SignedName{"content-description", false},
    SignedName{"list-id", false},
    SignedName{"list-help", false},
    SignedName{"list-unsubscribe", false},
    SignedName{"list-unsubscribe-post", false},
    SignedName{"list-subscribe", false},
    SignedName{"list-post", false},
    SignedName{"list-owner", false},
    SignedName{"list-archive", false},
};

}  // namespace

std::size_t count_fields(const std::vector<HeaderField>& fields, std::string_view name) {
    std::size_t count = 0;
    for (const HeaderField& field : fields) {
        if (same_field_name(field.name, name)) ++count;
    }
    return count;
}

std::vector<HeaderField> pick_fields(const std::vector<HeaderField>& fields, const std::vector<std::string>& names) {
    std::map<std::string, std::size_t> next_from_bottom;  // per name: index + 1 of the last pick
    std::vector<HeaderField> picked;
    for (const std::string& name : names) {
        const auto entry = next_from_bottom.try_emplace(name, fields.size()).first;
        std::size_t index = entry->second;
        while (index > 0 && !same_field_name(fields[index - 1].name, name)) --index;
        if (index == 0) {
            entry->second = 0;  // exhausted: further listings select nothing
            continue;
        }
        picked.push_back(fields[index - 1]);
        entry->second = index - 1;
    }
    return picked;
}

HeaderSelection select_headers(const std::vector<HeaderField>& fields) {
    HeaderSelection selection;
    for (const SignedName& candidate : kSignedNames) {
        const std::size_t listed = count_fields(fields, candidate.name) + (candidate.oversign ? 1 : 0);
        for (std::size_t i = 0; i < listed; ++i) selection.names.emplace_back(candidate.name);
    }
    selection.fields = pick_fields(fields, selection.names);
    return selection;
}

}  // namespace cartero::dkim
