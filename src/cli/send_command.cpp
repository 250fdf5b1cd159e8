// `cartero send`: see send_command.hpp. Flags → message → connection → report.
#include "cli/send_command.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "base/translation.hpp"
#include "cli/outgoing_message.hpp"
#include "cli/saved_accounts.hpp"
#include "cli/submission.hpp"
#include "smtp/replies.hpp"
#include "smtp/reply_parser.hpp"

namespace cartero::cli {
namespace {

struct SendFlags {
    std::vector<std::string> to;
    std::string from;
    std::string subject;
    std::vector<std::string> attach;
    std::string account;
    bool dry_run = false;
    ClientConnectionFlags connection;
};

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "cartero send: %s\n", message.c_str());
    return code;
}

std::string read_standard_input() {
    std::string text;
    std::array<char, 64 * 1024> chunk{};
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    return text;
}

std::optional<Attachment> read_attachment(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = fmt::format(fmt::runtime(base::tr("cannot read the attachment {}")), path);
        return std::nullopt;
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    Attachment attachment;
    attachment.file_name = std::filesystem::path(path).filename().string();
    attachment.content = bytes.str();
    attachment.content_type = content_type_of(attachment.content);
    return attachment;
}

// The connection settings: a saved account, with any flag given on the
// command line taking precedence over it.
std::optional<ClientConnectionFlags> connection_flags(SendFlags& flags, std::string& error) {
    if (flags.account.empty()) return flags.connection;
    const SavedAccounts accounts = load_accounts(accounts_file_path());
    const auto found = accounts.find(flags.account);
    if (found == accounts.end()) {
        error = fmt::format(fmt::runtime(base::tr("no saved account named {} (see cartero account list)")),
                            flags.account);
        return std::nullopt;
    }
    if (flags.from.empty()) flags.from = found->second.address;
    ClientConnectionFlags merged = flags_of(found->second);
    const ClientConnectionFlags& given = flags.connection;
    merged.ca_file = given.ca_file;
    merged.insecure = given.insecure;
    merged.timeout_seconds = given.timeout_seconds;
    merged.test_dns_resolver = given.test_dns_resolver;
    return merged;
}

// The final word per recipient; 0 when all took it.
int report(const std::vector<std::string>& to, const std::vector<delivery::DeliveryOutcome>& outcomes) {
    int code = 0;
    for (std::size_t i = 0; i < outcomes.size() && i < to.size(); ++i) {
        const auto& outcome = outcomes[i];
        if (outcome.status == delivery::DeliveryStatus::delivered) continue;
        const bool temporary = outcome.status == delivery::DeliveryStatus::temporary;
        std::fprintf(stderr, "%s\n",
                     fmt::format(fmt::runtime(temporary ? base::tr("not sent to {}, try again later: {}")
                                                        : base::tr("not sent to {}, refused: {}")),
                                 to[i], outcome.reply.code != 0 ? smtp::one_line(outcome.reply) : outcome.detail)
                         .c_str());
        if (code == 0 || temporary) code = temporary ? exit_temporary : exit_unavailable;
    }
    for (const auto& outcome : outcomes) {
        if (outcome.status != delivery::DeliveryStatus::delivered) continue;
        std::printf("%s\n", fmt::format(fmt::runtime(base::tr("Sent. The server replied: {}")),
                                        smtp::one_line(outcome.reply))
                                .c_str());
        const std::string id = smtp::replies::queue_id_in(outcome.reply);
        if (!id.empty()) std::printf("%s\n", fmt::format(fmt::runtime(base::tr("Queue ID: {}")), id).c_str());
        break;  // one message, one final reply
    }
    return code;
}

int run_send(SendFlags& flags) {
    std::string error;
    std::optional<ClientConnectionFlags> connection;
    try {
        connection = connection_flags(flags, error);
    } catch (const AccountsFileError& e) {
        return fail(exit_config, e.what());
    }
    if (!connection) return fail(exit_usage, error);
    if (flags.from.empty() && connection->user.find('@') != std::string::npos) flags.from = connection->user;
    if (connection->user.empty() && !connection->oauth_token_command.empty()) connection->user = flags.from;
    if (flags.from.empty())
        return fail(exit_usage, base::tr("no sender: give --from ADDRESS, --account NAME or a --user that is an address"));
    if (!flags.dry_run && connection->server.empty())
        return fail(exit_usage, base::tr("no server: give --account NAME or --server HOST (or --dry-run)"));

    const auto sender = parse_mailbox(flags.from);
    if (!sender) return fail(exit_usage, fmt::format(fmt::runtime(base::tr("{} is not an email address")), flags.from));
    OutgoingMessage message;
    message.from_address = sender->address;
    message.from_name = sender->name;
    message.to = flags.to;
    message.subject = flags.subject;
    message.body = read_standard_input();
    if (!is_utf8(message.body) || !is_utf8(message.subject))
        return fail(exit_data, base::tr("the text is not UTF-8: convert it first (for example with iconv)"));
    for (const auto& path : flags.attach) {
        auto attachment = read_attachment(path, error);
        if (!attachment) return fail(exit_no_input, error);
        message.attachments.push_back(std::move(*attachment));
    }
    message.date = std::time(nullptr);
    std::tm local{};
    localtime_r(&message.date, &local);
    message.utc_offset = local.tm_gmtoff;
    std::string text;
    try {
        text = compose(message);
    } catch (const std::invalid_argument& e) {
        return fail(exit_usage, e.what());
    }
    if (flags.dry_run) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }

    Submission submission = open_submission(*connection);
    if (!submission.connection)
        return fail(submission.exit_code,
                    fmt::format(fmt::runtime(base::tr("not sent: {}")), submission.error));
    delivery::Transaction transaction;
    transaction.sender = sender->address;
    for (const auto& to : flags.to) transaction.recipients.push_back({parse_mailbox(to).value_or(Mailbox{{}, to}).address, {}, {}});
    transaction.data = std::make_shared<const std::string>(std::move(text));
    const auto outcomes = submission.connection->send(transaction);
    submission.connection->quit();
    return report(flags.to, outcomes);
}

}  // namespace

void add_send_command(CLI::App& app, GlobalOptions&) {
    auto flags = std::make_shared<SendFlags>();
    CLI::App* command = app.add_subcommand(
        "send", base::tr("Send a message (standard input as the text) through any SMTP server (docs/client.md)"));
    command->add_option("--to", flags->to, base::tr("Recipient address (repeat for more)"))->required();
    command->add_option("--from", flags->from, base::tr("Sender address (default: the account's, or --user)"));
    command->add_option("--subject", flags->subject, base::tr("Subject (UTF-8)"));
    command->add_option("--attach", flags->attach, base::tr("Attach FILE (repeat for more)"))->check(CLI::ExistingFile);
    command->add_option("--account", flags->account, base::tr("Use a saved account (cartero account add)"));
    command->add_flag("--dry-run", flags->dry_run, base::tr("Print the message instead of sending it"));
    add_client_connection_flags(*command, flags->connection);
    command->callback([flags] {
        const int code = run_send(*flags);
        if (code != 0) throw CLI::RuntimeError(code);
    });
}

}  // namespace cartero::cli
