// Translation of the text cartero shows to people (the client tools' messages,
// in English and Spanish) through GNU gettext: catalogs are po/<lang>/*.po in
// the repository, compiled to <lang>/LC_MESSAGES/cartero.mo at build time.
//
// Code writes the English text and wraps it in tr(); `xgettext --keyword=tr`
// finds it, and tests/translations fails when a message has no Spanish
// translation or its {} placeholders differ. Formatted messages go through
// fmt::runtime(tr("... {} ...")), so a translation may reorder nothing but the
// words around the placeholders.
//
// Why not plain setlocale(LC_ALL, ""): a fresh Debian machine has only the C
// and C.UTF-8 locales, and glibc's gettext ignores the language in the "C"
// locale. choose_language() therefore selects C.UTF-8 for messages and names
// the catalog language through LANGUAGE, which glibc honours there.
#pragma once

#include <optional>
#include <string_view>

namespace cartero::base {

enum class Language { en, es };

// "es", "es_ES.UTF-8", "es:en" -> es; "en", "C", "POSIX", "" -> en; others nullopt.
std::optional<Language> parse_language(std::string_view name);

// Sets the language of tr() for the whole process: `requested` (a --lang flag)
// when given, else the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set
// and not empty, else English. Call once, early, before other threads start
// (it changes the locale and the environment). Returns the language chosen.
Language choose_language(std::optional<Language> requested = std::nullopt);

// The language chosen last (English before choose_language()).
Language current_language();

// The translation of `english` in the chosen language, or `english` itself.
// The returned text lives as long as the process.
const char* tr(const char* english);

}  // namespace cartero::base
