// Delivered-To; see delivered_to.hpp.
#include "delivery/delivered_to.hpp"

#include "smtp/ascii.hpp"
#include "smtp/header_fields.hpp"

namespace cartero::delivery {
namespace {

// RFC 5322 2.1.1: a line is at most 998 characters; no address we write is longer.
constexpr std::size_t longest_value = 998;

// " <a@b> " -> "a@b", lower-case.
std::string bare_address(std::string_view value) {
    const auto first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    value = value.substr(first, value.find_last_not_of(" \t") - first + 1);
    if (value.size() >= 2 && value.front() == '<' && value.back() == '>') value = value.substr(1, value.size() - 2);
    return smtp::lower_ascii(value);
}

}  // namespace

std::string delivered_to_field(std::string_view address) { return "Delivered-To: " + std::string(address) + "\r\n"; }

DeliveredTo DeliveredTo::of(std::string_view message) {
    DeliveredTo found;
    for (const auto& value : smtp::header_field_values(message, "Delivered-To", longest_value))
        found.addresses_.insert(bare_address(value));
    return found;
}

bool DeliveredTo::names(std::string_view address) const { return addresses_.contains(smtp::lower_ascii(address)); }

}  // namespace cartero::delivery
