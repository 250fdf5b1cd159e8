// docs/configuration.md and docs/limits.md against the schema table, in the
// spirit of Postfix's check-postconf-undocumented: a key missing from the docs,
// or documented with a stale type, default or bound, fails the build.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/schema.hpp"
#include "temp_dir.hpp"

namespace cartero::config {
namespace {

std::string read_doc(std::string_view name) {
    const std::filesystem::path path = std::filesystem::path(CARTERO_SOURCE_DIR) / "docs" / name;
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The row "| `key` | type | default | bounds | meaning |", split into trimmed cells.
std::vector<std::string> row_of(const std::string& doc, std::string_view key) {
    const std::string start = "| `" + std::string(key) + "` |";
    const std::size_t at = doc.find(start);
    if (at == std::string::npos) {
        return {};
    }
    const std::string line = doc.substr(at, doc.find('\n', at) - at);
    std::vector<std::string> cells;
    std::stringstream stream(line.substr(1));
    for (std::string cell; std::getline(stream, cell, '|');) {
        const std::size_t first = cell.find_first_not_of(' ');
        const std::size_t last = cell.find_last_not_of(' ');
        cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    return cells;
}

std::string in_code(const std::string& text) { return text.empty() ? "" : "`" + text + "`"; }

TEST(ConfigurationDoc, DocumentsEveryKeyWithTypeDefaultAndBounds) {
    const std::string doc = read_doc("configuration.md");
    for (const KeySpec& spec : schema()) {
        const std::vector<std::string> cells = row_of(doc, spec.key);
        ASSERT_GE(cells.size(), 5u) << spec.key << ": no row \"| `" << spec.key
                                    << "` | type | default | bounds | meaning |\" in docs/configuration.md";
        const std::string want_default =
            spec.scope == Scope::global ? in_code(default_text(spec)) : default_text(spec);
        EXPECT_EQ(cells[1], kind_name(spec.kind)) << spec.key << ": documented type";
        EXPECT_EQ(cells[2], want_default) << spec.key << ": documented default";
        EXPECT_EQ(cells[3], in_code(bounds_text(spec))) << spec.key << ": documented bounds";
    }
}

// The complete example in the docs must load as it is written.
TEST(ConfigurationDoc, ExampleLoads) {
    const std::string doc = read_doc("configuration.md");
    const std::string fence = "```toml\n";
    const std::size_t begin = doc.find(fence, doc.find("## Complete example"));
    ASSERT_NE(begin, std::string::npos) << "no ```toml block after \"## Complete example\"";
    const std::size_t end = doc.find("```", begin + fence.size());
    const std::string example = doc.substr(begin + fence.size(), end - begin - fence.size());

    testing::TempDir dir;
    dir.write("tls/fullchain.pem", "certificate");
    dir.write("tls/privkey.pem", "key");
    const std::filesystem::path file = dir.write("cartero.toml", example);
    EXPECT_NO_THROW({
        try {
            load_file(file);
        } catch (const ConfigError& error) {
            ADD_FAILURE() << error.what();
            throw;
        }
    });
}

// docs/operations.md, "Reloading": one row per key saying whether SIGHUP
// applies it or it needs a restart, as the schema's Reload mark says.
TEST(OperationsDoc, SaysForEveryKeyWhetherItReloads) {
    const std::string doc = read_doc("operations.md");
    for (const KeySpec& spec : schema()) {
        const std::vector<std::string> cells = row_of(doc, spec.key);
        ASSERT_GE(cells.size(), 2u) << spec.key << ": no row \"| `" << spec.key
                                    << "` | reloads or restart |\" in docs/operations.md";
        EXPECT_EQ(cells[1], reload_name(spec.reload)) << spec.key << ": documented reload behaviour";
    }
}

TEST(LimitsDoc, DescribesEveryLimit) {
    const std::string doc = read_doc("limits.md");
    for (const KeySpec& spec : schema()) {
        if (spec.key.starts_with("limits.")) {
            EXPECT_NE(doc.find("`" + std::string(spec.key) + "`"), std::string::npos)
                << spec.key << " is not described in docs/limits.md";
        }
    }
}

}  // namespace
}  // namespace cartero::config
