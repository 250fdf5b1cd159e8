// Options every `cartero` subcommand shares, and the one way to load the config.
#pragma once

#include <filesystem>
#include <string>

#include "config/config.hpp"

namespace cartero::cli {

struct GlobalOptions {
    std::string config_path;  // --config; empty = embedded default under $CARTERO_HOME or ./var
};

// $CARTERO_HOME, or ./var, made absolute: where the embedded default keeps its data.
std::filesystem::path default_home();

// The config for this invocation: the file named by --config, or the embedded
// default. Throws config::ConfigError with a message fit for the operator.
config::Config load_config(const GlobalOptions& options);

}  // namespace cartero::cli
