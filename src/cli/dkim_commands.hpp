// `cartero dkim keygen` and `cartero dkim show`: create DKIM keys and print the
// DNS TXT records to publish for them (docs/dkim.md).
//
// Trust: run by the operator (trusted); the domain and selector are still
// validated because they become file names and DNS names.
// Privileges: write under dkim.key_dir (keys mode 0600, directories 0700).
//
// Output: stdout carries only the zone-file record(s), so it can be pasted or
// piped; notes go to stderr.
//
// Exit status (sysexits.h): 0 done; 65 EX_DATAERR bad domain or selector;
// 66 EX_NOINPUT no key for the domain (show); 73 EX_CANTCREAT the key exists
// (without --force) or cannot be written; 70 EX_SOFTWARE key generation failed;
// 78 EX_CONFIG a key file cannot be used (show: e.g. mode not 0600);
// 2 configuration error.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace cartero::cli {

void add_dkim_commands(CLI::App& app, GlobalOptions& options);

}  // namespace cartero::cli
