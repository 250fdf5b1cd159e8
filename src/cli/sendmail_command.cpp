// `cartero sendmail`: see sendmail_command.hpp. The I/O half: standard input,
// the password database, the clock, the config file and the socket. The rules
// live in sendmail_message.cpp.
#include "cli/sendmail_command.hpp"

#include <pwd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

#include "base/unique_fd.hpp"
#include "cli/sendmail_message.hpp"
#include "config/config.hpp"
#include "delivery/remote/smtp_connection.hpp"
#include "net/local_submission.hpp"

namespace cartero::cli {
namespace {

using namespace sendmail;

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "sendmail: %s\n", message.c_str());
    return code;
}

// The config file: -C/--config, then the global --config, then $CARTERO_CONFIG
// (for the `sendmail` symlink, which applications call without options), then
// the embedded default under $CARTERO_HOME or ./var, as every subcommand.
config::Config find_config(const Options& options, const std::string& global_path) {
    GlobalOptions chosen;
    chosen.config_path = !options.config_path.empty() ? options.config_path : global_path;
    if (chosen.config_path.empty()) {
        const char* from_environment = std::getenv("CARTERO_CONFIG");
        if (from_environment != nullptr) chosen.config_path = from_environment;
    }
    return load_config(chosen);
}

std::string login_name() {
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> buffer{};
    if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) return {};
    return found->pw_name;
}

// "20261126100000.1a2b3c4d5e6f7081": time for humans, random bits for uniqueness.
std::string unique_token(const std::tm& now) {
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &now);
    std::array<unsigned char, 8> random{};
    if (::getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size()))
        throw std::runtime_error("getrandom failed");
    std::string token = std::string(stamp) + ".";
    char hex[3];
    for (const unsigned char byte : random) {
        std::snprintf(hex, sizeof hex, "%02x", byte);
        token += hex;
    }
    return token;
}

Context make_context(const config::Config& config) {
    Context context;
    context.login = login_name();
    context.hostname = config.hostname;
    const std::time_t now = std::time(nullptr);
    localtime_r(&now, &context.local_time);
    context.utc_offset = context.local_time.tm_gmtoff;
    context.unique = unique_token(context.local_time);
    return context;
}

struct Input {
    std::string text;
    bool too_big = false;
};

// Standard input up to EOF, or (without -i) up to a line holding a single
// dot, which classic sendmail takes as the end. Never more than `limit`
// octets are kept (limits.message_size: the server would refuse more anyway).
Input read_input(bool dot_ends_input, std::size_t limit) {
    Input input;
    std::array<char, 64 * 1024> chunk{};
    std::size_t line_start = 0;
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        input.text.append(chunk.data(), static_cast<std::size_t>(n));
        if (dot_ends_input) {
            for (auto end = input.text.find('\n', line_start); end != std::string::npos;
                 end = input.text.find('\n', line_start)) {
                if (is_lone_dot(std::string_view(input.text).substr(line_start, end - line_start))) {
                    input.text.resize(line_start);
                    return input;
                }
                line_start = end + 1;
            }
        }
        if (input.text.size() > limit) {
            input.too_big = true;
            return input;
        }
    }
    if (dot_ends_input && is_lone_dot(std::string_view(input.text).substr(line_start))) input.text.resize(line_start);
    return input;
}

// Why the connection could not be opened, in sysexits terms: probed with a
// plain connect() only after SmtpConnection failed before any reply.
int connect_failure(const std::filesystem::path& socket, const config::Config& config, const std::string& detail) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = socket.string();
    if (path.size() < sizeof address.sun_path) std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const base::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int error = probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0
                          ? errno
                          : 0;
    if (error == ENOENT || error == ECONNREFUSED || error == ENOTDIR)
        return fail(ex_unavailable, "no cartero server is running with data_dir " + config.data_dir.string() +
                                        " (nothing answers on " + path +
                                        "): start it with `cartero serve`, or point sendmail at its config with "
                                        "-C FILE or CARTERO_CONFIG");
    if (error == EACCES || error == EPERM)
        return fail(ex_noperm, "cannot reach " + path +
                                   ": permission denied (the data_dir and its parents must be searchable, o+x, "
                                   "for local users; see docs/sendmail.md)");
    return fail(ex_tempfail, "cannot submit: " + detail + "; the message was not sent, try again later");
}

delivery::Transaction transaction_for(const Options& options, const Submission& submission) {
    delivery::Transaction transaction;
    transaction.sender = submission.sender;
    for (const auto& recipient : submission.recipients)
        transaction.recipients.push_back({recipient, options.notify, {}});
    transaction.ret = options.ret;
    transaction.envid = options.envid;
    transaction.data = std::make_shared<const std::string>(submission.data);
    transaction.eight_bit = submission.eight_bit;
    return transaction;
}

// 0 when every recipient was accepted; otherwise each refusal is printed and
// the worst decides: temporary 75, unknown user (5.1.x) 67, other refusal 69.
// Recipients accepted before a refusal keep the message (it is queued for them).
int report(const Submission& submission, const std::vector<delivery::DeliveryOutcome>& outcomes, bool verbose) {
    int code = ex_ok;
    for (std::size_t i = 0; i < outcomes.size() && i < submission.recipients.size(); ++i) {
        const auto& outcome = outcomes[i];
        const std::string reply = std::to_string(outcome.reply.code) + " " + outcome.reply.enhanced + " " +
                                  outcome.reply.text;
        if (outcome.status == delivery::DeliveryStatus::delivered) {
            if (verbose) std::fprintf(stderr, "sendmail: <%s>: %s\n", submission.recipients[i].c_str(), reply.c_str());
            continue;
        }
        const bool temporary = outcome.status == delivery::DeliveryStatus::temporary;
        std::fprintf(stderr, "sendmail: <%s>: %s: %s\n", submission.recipients[i].c_str(),
                     temporary ? "not sent, try again later" : "refused", outcome.detail.c_str());
        const int this_code = temporary                                  ? ex_tempfail
                              : outcome.reply.enhanced.starts_with("5.1.") ? ex_nouser
                                                                           : ex_unavailable;
        if (code == ex_ok || this_code == ex_tempfail) code = this_code;
    }
    return code;
}

int submit(const Options& options, const config::Config& config) {
    const Input input = read_input(options.dot_ends_input, config.limits.message_size);
    if (input.too_big)
        return fail(ex_dataerr, "the message is larger than limits.message_size (" +
                                    std::to_string(config.limits.message_size) + " octets); nothing was sent");
    auto prepared = prepare(options, input.text, make_context(config));
    if (auto* error = std::get_if<DataError>(&prepared)) return fail(error->exit_code, error->message);
    const Submission& submission = std::get<Submission>(prepared);

    delivery::Peer peer;
    peer.unix_socket = net::submit_socket_path(config.data_dir);
    delivery::ConnectionOptions connection_options;
    connection_options.helo_name = config.hostname;
    connection_options.tls = delivery::TlsMode::none;  // a local socket: nothing to protect in transit
    auto opened = delivery::SmtpConnection::open(peer, connection_options);
    if (!opened.connection) {
        if (!opened.session_failure && opened.failure.reply.code == 0)
            return connect_failure(peer.unix_socket, config, opened.failure.detail);
        return fail(opened.failure.status == delivery::DeliveryStatus::permanent ? ex_unavailable : ex_tempfail,
                    "the server did not take the message: " + opened.failure.detail);
    }
    const auto outcomes = opened.connection->send(transaction_for(options, submission));
    opened.connection->quit();
    return report(submission, outcomes, options.verbose);
}

}  // namespace

int run_sendmail(const std::vector<std::string>& args, const std::string& config_path) {
    auto parsed = parse_arguments(args);
    if (auto* usage = std::get_if<UsageError>(&parsed)) return fail(ex_usage, usage->message);
    const Options& options = std::get<Options>(parsed);
    config::Config config;
    try {
        config = find_config(options, config_path);
    } catch (const std::exception& e) {
        return fail(ex_config, std::string("configuration error: ") + e.what());
    }
    try {
        return submit(options, config);
    } catch (const std::exception& e) {
        return fail(ex_software, std::string("internal error: ") + e.what() + "; the message was not sent");
    }
}

void add_sendmail_command(CLI::App& app, GlobalOptions& options) {
    CLI::App* command = app.add_subcommand(
        "sendmail", "The /usr/sbin/sendmail interface: a message on stdin to the running server (docs/sendmail.md)");
    // The classic options (-t, -i, -oi, -f ...) are not CLI11's: everything
    // after `sendmail` goes to run_sendmail as it was written.
    command->prefix_command();
    command->allow_extras();
    command->fallthrough(false);  // "-t" must not be tried as a `cartero` option
    command->callback([command, &options] {
        const int code = run_sendmail(command->remaining(), options.config_path);
        if (code != 0) throw CLI::RuntimeError(code);
    });
}

}  // namespace cartero::cli
