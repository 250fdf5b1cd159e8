// `cartero dkim ...`: thin commands over dkim/. Key handling and the record
// format live and are tested there; this file parses arguments, picks the
// default selector, prints, and maps outcomes to exit codes.
#include "cli/dkim_commands.hpp"

#include <sysexits.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <memory>

#include "config/domain_name.hpp"
#include "dkim/key.hpp"
#include "dkim/signer.hpp"

namespace cartero::cli {
namespace {

[[noreturn]] void fail(int exit_code, const std::string& message) {
    std::cerr << "cartero: " << message << "\n";
    throw CLI::RuntimeError(exit_code);
}

struct KeygenArgs {
    std::string domain;
    std::string selector;  // empty: default_selector()
    std::string algorithm = "rsa";
    bool force = false;
};

// The default selector names the day and the algorithm, "20250612-rsa": a key
// made on another day gets a new selector by itself, which is what rotation
// needs (publish the new record, switch, later remove the old key), and an RSA
// and an Ed25519 key of the same day do not collide (docs/dkim.md).
std::string default_selector(dkim::KeyAlgorithm algorithm) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char date[16];
    std::strftime(date, sizeof date, "%Y%m%d", &utc);
    return std::string(date) + "-" + std::string(dkim::to_string(algorithm));
}

std::string checked_domain(const std::string& domain) {
    const auto ascii = config::ascii_domain_name(domain);
    if (!ascii) {
        fail(EX_DATAERR, "\"" + domain + "\" is not a domain name (write it like example.org; an IDN in Unicode or as xn--)");
    }
    return *ascii;
}

void warn_if_not_signing(const config::Config& config, const std::string& domain) {
    const auto& locals = config.local_domains;
    if (std::find(locals.begin(), locals.end(), domain) == locals.end()) {
        std::cerr << "cartero: note: " << domain << " is not in local_domains"
                  << (config.source.empty() ? " (of the embedded default; pass --config)" : "")
                  << "; mail is signed for the sender domains of your users\n";
    }
    if (!config.dkim.enabled) std::cerr << "cartero: note: dkim.enabled is false, nothing is signed\n";
}

void run_keygen(const KeygenArgs& args, const GlobalOptions& options) {
    const config::Config config = load_config(options);
    const std::string domain = checked_domain(args.domain);
    const auto algorithm = dkim::key_algorithm_from_string(args.algorithm);  // CLI11 checked the name
    const std::string selector = config::lower_ascii(args.selector.empty() ? default_selector(*algorithm) : args.selector);
    if (!dkim::is_selector(selector)) {
        fail(EX_DATAERR, "\"" + selector + "\" is not a valid selector (DNS labels: letters, digits, '-', dots)");
    }
    auto generated = dkim::generate_key(*algorithm);
    if (auto* error = std::get_if<dkim::KeyError>(&generated)) fail(EX_SOFTWARE, error->message);
    const auto& key = std::get<dkim::PrivateKey>(generated);
    const auto file = dkim::key_dir(config) / domain / (selector + ".key");
    if (auto problem = dkim::write_key_file(file, key.pem(), args.force)) fail(EX_CANTCREAT, problem->message);
    warn_if_not_signing(config, domain);
    std::cerr << "cartero: wrote " << file.string() << "; publish this record in the DNS zone of " << domain
              << ". The server signs with the key from its next start.\n";
    std::cout << dkim::txt_record(domain, selector, key);
}

void add_keygen(CLI::App& dkim_app, GlobalOptions& options) {
    auto args = std::make_shared<KeygenArgs>();
    auto* cmd = dkim_app.add_subcommand("keygen", "Create a DKIM key for a domain and print its DNS TXT record");
    cmd->add_option("DOMAIN", args->domain, "The signing domain (d=), normally a local domain")->required();
    cmd->add_option("--selector", args->selector, "Selector (s=); default: today's date and the algorithm, e.g. 20250612-rsa");
    cmd->add_option("--algorithm", args->algorithm, "rsa (2048 bits, rsa-sha256) or ed25519 (RFC 8463)")
        ->check(CLI::IsMember({"rsa", "ed25519"}));
    cmd->add_flag("--force", args->force, "Replace an existing key with the same selector");
    cmd->callback([args, &options] { run_keygen(*args, options); });
}

void run_show(const std::string& domain_arg, const GlobalOptions& options) {
    const config::Config config = load_config(options);
    const std::string domain = domain_arg.empty() ? "" : checked_domain(domain_arg);
    const auto dir = dkim::key_dir(config);
    auto loaded = dkim::Signer::load(dir);
    for (const auto& problem : loaded.problems) std::cerr << "cartero: " << problem.message << "\n";
    std::size_t shown = 0;
    for (const auto& key : loaded.signer.keys()) {
        if (!domain.empty() && key.domain != domain) continue;
        std::cout << dkim::txt_record(key.domain, key.selector, key.key);
        ++shown;
    }
    if (!loaded.problems.empty()) throw CLI::RuntimeError(EX_CONFIG);
    if (shown == 0) {
        fail(EX_NOINPUT, "no DKIM keys" + (domain.empty() ? "" : " for " + domain) + " in " + dir.string() +
                             " (create one with `cartero dkim keygen DOMAIN`)");
    }
}

void add_show(CLI::App& dkim_app, GlobalOptions& options) {
    auto domain = std::make_shared<std::string>();
    auto* cmd = dkim_app.add_subcommand("show", "Print the DNS TXT records of existing DKIM keys");
    cmd->add_option("DOMAIN", *domain, "Only this domain's keys; default: every domain");
    cmd->callback([domain, &options] { run_show(*domain, options); });
}

}  // namespace

void add_dkim_commands(CLI::App& app, GlobalOptions& options) {
    auto* dkim_app = app.add_subcommand("dkim", "DKIM keys for signing outgoing mail (docs/dkim.md)");
    dkim_app->require_subcommand(1);
    add_keygen(*dkim_app, options);
    add_show(*dkim_app, options);
}

}  // namespace cartero::cli
