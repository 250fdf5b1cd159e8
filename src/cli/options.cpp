#include "cli/options.hpp"

#include <cstdlib>

namespace cartero::cli {

std::filesystem::path default_home() {
    const char* home = std::getenv("CARTERO_HOME");
    return std::filesystem::absolute(home != nullptr && *home != '\0' ? home : "var");
}

config::Config load_config(const GlobalOptions& options) {
    if (options.config_path.empty()) return config::embedded_default(default_home());
    return config::load_file(options.config_path);
}

}  // namespace cartero::cli
