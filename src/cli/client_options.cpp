// The client tools' connection flags: see client_options.hpp.
#include "cli/client_options.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "base/translation.hpp"
#include "cli/terminal.hpp"
#include "dns/unbound_resolver.hpp"

namespace cartero::cli {
namespace {

// RFC 8314 3.3 / RFC 6409 3.1: implicit TLS on 465, STARTTLS submission on 587.
constexpr std::uint16_t implicit_tls_port = 465;
constexpr std::uint16_t submission_port = 587;

std::string local_host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
    return name.data();
}

// The first line of what `command` prints (through /bin/sh -c), or nullopt.
std::optional<std::string> first_line_of_command(const std::string& command, std::string& error) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    if (!pipe) {
        error = fmt::format(fmt::runtime(base::tr("cannot run the password command: {}")), std::strerror(errno));
        return std::nullopt;
    }
    std::string line = read_line(pipe.get());
    while (std::fgetc(pipe.get()) != EOF) {}  // let the command finish writing
    const int status = ::pclose(pipe.release());
    if (status != 0) {
        error = base::tr("the password command failed (it exited with an error)");
        return std::nullopt;
    }
    return line;
}

}  // namespace

std::uint16_t ClientConnectionFlags::effective_port() const {
    if (port != 0) return port;
    return tls == ClientTls::ssl ? implicit_tls_port : submission_port;
}

std::string_view to_string(ClientTls tls) {
    switch (tls) {
        case ClientTls::ssl: return "SSL/TLS";
        case ClientTls::starttls: return "STARTTLS";
        case ClientTls::none: return "none";
    }
    return "?";
}

std::string_view flag_value(ClientTls tls) {
    switch (tls) {
        case ClientTls::ssl: return "ssl";
        case ClientTls::starttls: return "starttls";
        case ClientTls::none: return "none";
    }
    return "?";
}

void add_client_connection_flags(CLI::App& command, ClientConnectionFlags& flags) {
    command.add_option("--server", flags.server, "Outgoing mail server (host name or IP address)");
    command.add_option("--port", flags.port, "Port (default: 465 with --tls ssl, 587 otherwise)")
        ->check(CLI::Range(1, 65535));
    command
        .add_option_function<std::string>(
            "--tls",
            [&flags](const std::string& value) {
                flags.tls = value == "ssl" ? ClientTls::ssl : value == "none" ? ClientTls::none : ClientTls::starttls;
            },
            "Encryption: ssl (SSL/TLS from the first byte), starttls (default), none")
        ->check(CLI::IsMember({"ssl", "starttls", "none"}, CLI::ignore_case));
    command.add_option("--user", flags.user, "Username for AUTH (usually the full address); none: no AUTH");
    command.add_option("--password-file", flags.password_file, "Read the password from the first line of FILE")
        ->check(CLI::ExistingFile);
    command.add_option("--password-command", flags.password_command,
                       "Run CMD (with /bin/sh) and use the first line it prints as the password");
    command.add_option("--ca-file", flags.ca_file, "Trust the certificate authority in FILE (PEM)")
        ->check(CLI::ExistingFile);
    command.add_flag("--insecure", flags.insecure, "Go on past certificate problems (they are still reported)");
    command.add_option("--timeout", flags.timeout_seconds, "Seconds to wait for the connection and each reply")
        ->check(CLI::Range(1, 600))
        ->capture_default_str();
    command.add_option("--test-dns-resolver", flags.test_dns_resolver,
                       "TEST ONLY: ask this DNS server (ADDR or ADDR:PORT) instead of the system's");
}

std::optional<std::string> read_password(const ClientConnectionFlags& flags, std::string& error) {
    if (!flags.password_file.empty()) {
        std::FILE* file = std::fopen(flags.password_file.c_str(), "r");
        if (file == nullptr) {
            error = fmt::format(fmt::runtime(base::tr("cannot read the password file {}: {}")), flags.password_file,
                                std::strerror(errno));
            return std::nullopt;
        }
        std::string line = read_line(file);
        std::fclose(file);
        return line;
    }
    if (!flags.password_command.empty()) return first_line_of_command(flags.password_command, error);
    const std::string prompt = fmt::format(fmt::runtime(base::tr("Password for {}: ")), flags.user);
    if (auto answer = ask_on_terminal(prompt.c_str())) return answer;
    error = base::tr("no terminal to ask for the password on: use --password-file or --password-command");
    return std::nullopt;
}

delivery::ConnectionOptions connection_options(const ClientConnectionFlags& flags,
                                               std::optional<std::string> password) {
    delivery::ConnectionOptions o;
    o.helo_name = local_host_name();
    switch (flags.tls) {
        case ClientTls::ssl: o.tls = delivery::TlsMode::implicit; break;
        case ClientTls::starttls: o.tls = delivery::TlsMode::required; break;
        case ClientTls::none: o.tls = delivery::TlsMode::none; break;
    }
    o.verify_certificate = !flags.insecure;
    if (!flags.ca_file.empty()) o.ca_file = flags.ca_file;
    if (!flags.user.empty() && password) o.credentials = smtp::ClientCredentials{flags.user, std::move(*password)};
    auto& t = o.timeouts;
    t.connect = t.greeting = t.hello = t.starttls = t.tls_handshake = t.auth = t.mail = t.rcpt = t.data_initiation =
        t.data = t.rset = t.quit = flags.timeout();
    return o;
}

std::unique_ptr<dns::Resolver> client_resolver(const ClientConnectionFlags& flags) {
    dns::ResolverOptions options;
    options.resolver = flags.test_dns_resolver;
    options.timeout = flags.timeout();
    return dns::make_unbound_resolver(options);
}

}  // namespace cartero::cli
