// InvalidValue: a value that has the right TOML type but the wrong content, said
// in words an operator can act on. Thrown by the validators of this folder; the
// loader adds "file:line: key:" and turns it into a ConfigError.
//
// Trust: carries text derived from operator input only.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace cartero::config {

class InvalidValue : public std::invalid_argument {
public:
    // what_is_wrong: "bad CIDR \"10.0.0.0/33\": prefix longer than 32";
    // fix: "write ADDRESS/PREFIX, e.g. 192.0.2.0/24"; element: index into a list value.
    InvalidValue(const std::string& what_is_wrong, std::string fix, std::optional<std::size_t> element = {})
        : std::invalid_argument(what_is_wrong), fix_(std::move(fix)), element_(element) {}

    const std::string& fix() const { return fix_; }
    std::optional<std::size_t> element() const { return element_; }

private:
    std::string fix_;
    std::optional<std::size_t> element_;
};

}  // namespace cartero::config
