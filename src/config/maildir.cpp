// Maildir paths for local recipients: the delivery.maildir template, checked at
// load and expanded per recipient.
//
// Trust: the template is operator input; localpart and domain come from RCPT TO,
// i.e. from the network. A recipient must never choose a path outside its own
// mailbox: "../" in a local part is the classic path-traversal bug of MTAs that
// build paths from addresses (the OpenSMTPD audit class). So a part with '/' or
// NUL, or a leading '.' ("." and ".." and hidden dirs), is refused rather than
// escaped: there is no escaping that keeps both safety and a readable tree.
#include "config/maildir_template.hpp"

#include <algorithm>
#include <array>

#include "config/config.hpp"
#include "config/invalid_value.hpp"

namespace cartero::config {
namespace {

constexpr std::array<std::string_view, 3> kPlaceholders = {"{data_dir}", "{domain}", "{localpart}"};

constexpr std::string_view kTemplateHelp =
    "write a path using {data_dir}, {domain} and {localpart}, e.g. \"{data_dir}/mail/{domain}/{localpart}\"";

// The placeholder starting at text[0], if text starts with one.
std::string_view placeholder_at(std::string_view text) {
    for (std::string_view placeholder : kPlaceholders) {
        if (text.starts_with(placeholder)) {
            return placeholder;
        }
    }
    return {};
}

void check_mailbox_part(std::string_view part, std::string_view what) {
    if (const auto problem = mailbox_name_problem(part))
        throw InvalidMailbox(std::string(what) + " cannot be used as a mailbox directory name: it " + *problem);
}

}  // namespace

std::optional<std::string> mailbox_name_problem(std::string_view part) {
    if (part.empty()) return "is empty";
    if (part.front() == '.') return "starts with '.'";
    if (part.find('/') != std::string_view::npos) return "contains '/'";
    if (part.find('\0') != std::string_view::npos) return "contains a NUL octet";
    return std::nullopt;
}

void check_maildir_template(std::string_view text) {
    for (std::size_t brace = text.find('{'); brace != std::string_view::npos; brace = text.find('{', brace + 1)) {
        if (placeholder_at(text.substr(brace)).empty()) {
            throw InvalidValue("unknown placeholder at \"" + std::string(text.substr(brace)) + "\"",
                               std::string(kTemplateHelp));
        }
    }
    if (text.find("{localpart}") == std::string_view::npos) {
        throw InvalidValue("\"" + std::string(text) + "\" has no {localpart}, so all users would share one mailbox",
                           std::string(kTemplateHelp));
    }
    if (!text.starts_with('/') && !text.starts_with("{data_dir}")) {
        throw InvalidValue("\"" + std::string(text) + "\" is a relative path",
                           "start it with \"/\" or \"{data_dir}\"");
    }
}

std::filesystem::path maildir_for(const Config& config, std::string_view localpart, std::string_view domain) {
    check_mailbox_part(localpart, "local part");
    check_mailbox_part(domain, "domain");
    const std::string data_dir = config.data_dir.string();
    const std::string_view template_text = config.delivery.maildir;
    std::string path;
    // One pass, left to right: text substituted in is never scanned again, so a
    // local part spelled "{data_dir}" stays literal.
    for (std::size_t at = 0; at < template_text.size();) {
        const std::string_view placeholder = placeholder_at(template_text.substr(at));
        if (placeholder.empty()) {
            path += template_text[at++];
            continue;
        }
        path += placeholder == "{data_dir}" ? std::string_view(data_dir)
                : placeholder == "{domain}" ? domain
                                            : localpart;
        at += placeholder.size();
    }
    return path;
}

}  // namespace cartero::config

namespace cartero::config {

// The fixed directory every mailbox lies under: the template expanded up to the
// last '/' before its first {domain} or {localpart}. Local delivery refuses to
// follow symlinks below it.
std::filesystem::path maildir_root(const Config& config) {
    const std::string_view template_text = config.delivery.maildir;
    const std::size_t first_variable =
        std::min(template_text.find("{domain}"), template_text.find("{localpart}"));
    std::string fixed(template_text.substr(0, first_variable));
    const std::string data_dir = config.data_dir.string();
    for (std::size_t at = fixed.find("{data_dir}"); at != std::string::npos; at = fixed.find("{data_dir}"))
        fixed.replace(at, std::string_view("{data_dir}").size(), data_dir);
    return std::filesystem::path(fixed.substr(0, fixed.rfind('/') + 1)).lexically_normal();
}

}  // namespace cartero::config
