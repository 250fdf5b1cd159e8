// `cartero serve`: runs the server until SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_serve_command(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli
