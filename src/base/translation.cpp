#include "base/translation.hpp"

#include <libintl.h>

#include <atomic>
#include <clocale>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace cartero::base {
namespace {

constexpr const char* text_domain = "cartero";
std::atomic<Language> chosen{Language::en};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The catalogs: $CARTERO_LOCALE_DIR when set (tests; unusual installs), else
// beside the executable (the build tree: build/cartero and build/locale), else
// where `cmake --install` puts them.
std::filesystem::path catalog_directory() {
    if (const char* directory = std::getenv("CARTERO_LOCALE_DIR"); directory != nullptr && *directory != '\0')
        return directory;
    std::error_code error;
    const auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
        auto beside = executable.parent_path() / "locale";
        if (std::filesystem::is_directory(beside, error)) return beside;
    }
    return CARTERO_INSTALLED_LOCALE_DIR;
}

std::optional<Language> language_from_environment() {
    for (const char* variable : {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* value = std::getenv(variable);
        if (value == nullptr || *value == '\0') continue;
        return parse_language(value).value_or(Language::en);
    }
    return std::nullopt;
}

}  // namespace

std::optional<Language> parse_language(std::string_view name) {
    // "es_ES.UTF-8@euro" or "es:en": the first entry's language part decides.
    const auto first = name.substr(0, name.find(':'));
    const auto language = lower(first.substr(0, first.find_first_of("_.@-")));
    if (language == "es") return Language::es;
    if (language == "en" || language == "c" || language == "posix" || language.empty()) return Language::en;
    return std::nullopt;
}

Language choose_language(std::optional<Language> requested) {
    const Language language = requested ? *requested : language_from_environment().value_or(Language::en);
    ::bindtextdomain(text_domain, catalog_directory().c_str());
    ::bind_textdomain_codeset(text_domain, "UTF-8");
    std::setlocale(LC_MESSAGES, "C.UTF-8");
    ::setenv("LANGUAGE", language == Language::es ? "es" : "en", 1);
    chosen.store(language);
    return language;
}

Language current_language() { return chosen.load(); }

const char* tr(const char* english) {
    if (chosen.load() == Language::en) return english;
    return ::dgettext(text_domain, english);
}

}  // namespace cartero::base
