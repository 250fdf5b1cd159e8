#include "base/translation.hpp"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace cartero::base {
namespace {

TEST(Translation, ParsesLanguageNamesAsGettextDoes) {
    EXPECT_EQ(parse_language("es"), Language::es);
    EXPECT_EQ(parse_language("es_ES.UTF-8"), Language::es);
    EXPECT_EQ(parse_language("es_MX@euro"), Language::es);
    EXPECT_EQ(parse_language("ES"), Language::es);
    EXPECT_EQ(parse_language("es:en"), Language::es);
    EXPECT_EQ(parse_language("en_GB.UTF-8"), Language::en);
    EXPECT_EQ(parse_language("C.UTF-8"), Language::en);
    EXPECT_EQ(parse_language("POSIX"), Language::en);
    EXPECT_EQ(parse_language("de_DE.UTF-8"), std::nullopt);
}

// The catalog the build compiled from po/es/*.po, read through glibc's gettext
// on a machine that has only the C and C.UTF-8 locales (as a fresh Debian has).
TEST(Translation, SpanishComesFromTheCompiledCatalog) {
    ::setenv("CARTERO_LOCALE_DIR", CARTERO_TEST_LOCALE_DIR, 1);
    EXPECT_EQ(choose_language(Language::es), Language::es);
    EXPECT_EQ(std::string(tr("unknown language {}: use es or en")), "idioma desconocido {}: use es o en");
    EXPECT_EQ(std::string(tr("a message nobody translated")), "a message nobody translated");
    EXPECT_EQ(choose_language(Language::en), Language::en);
    EXPECT_EQ(std::string(tr("unknown language {}: use es or en")), "unknown language {}: use es or en");
}

TEST(Translation, EnvironmentChoosesWhenNoFlagDoes) {
    ::setenv("CARTERO_LOCALE_DIR", CARTERO_TEST_LOCALE_DIR, 1);
    ::unsetenv("LANGUAGE");
    ::unsetenv("LC_ALL");
    ::unsetenv("LC_MESSAGES");
    ::setenv("LANG", "es_ES.UTF-8", 1);
    EXPECT_EQ(choose_language(), Language::es);
    // choose_language() names its choice in LANGUAGE (see the header): unset it
    // to see the other variables again.
    ::unsetenv("LANGUAGE");
    ::setenv("LC_ALL", "C", 1);  // LC_ALL comes before LANG
    EXPECT_EQ(choose_language(), Language::en);
    ::unsetenv("LANGUAGE");
    ::unsetenv("LC_ALL");
    ::unsetenv("LANG");
    EXPECT_EQ(choose_language(), Language::en);
}

}  // namespace
}  // namespace cartero::base
