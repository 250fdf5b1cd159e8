// Opening a submission connection; see submission.hpp.
#include "cli/submission.hpp"

#include <fmt/format.h>

#include "base/translation.hpp"

namespace cartero::cli {
namespace {

std::optional<ClientTls> tls_of(const std::string& name) {
    if (name == "ssl") return ClientTls::ssl;
    if (name == "starttls") return ClientTls::starttls;
    if (name == "none") return ClientTls::none;
    return std::nullopt;
}

int exit_code_of(const delivery::OpenResult& opened) {
    if (opened.session_failure && opened.session_failure->kind == smtp::ClientFailureKind::auth_refused &&
        opened.session_failure->reply && opened.session_failure->reply->permanent())
        return exit_no_permission;
    return opened.failure.status == delivery::DeliveryStatus::permanent ? exit_unavailable : exit_temporary;
}

}  // namespace

ClientConnectionFlags flags_of(const SavedAccount& account) {
    ClientConnectionFlags flags;
    flags.server = account.server;
    flags.port = account.port;
    flags.tls = tls_of(account.tls).value_or(ClientTls::starttls);
    flags.user = account.user;
    flags.password_command = account.password_command;
    flags.password_file = account.password_file;
    flags.oauth_token_command = account.oauth_token_command;
    return flags;
}

Submission open_submission(const ClientConnectionFlags& flags) {
    Submission result;
    std::optional<std::string> secret;
    if (!flags.user.empty() || !flags.oauth_token_command.empty()) {
        std::string error;
        secret = !flags.oauth_token_command.empty() ? read_oauth_token(flags, error) : read_password(flags, error);
        if (!secret) {
            result.error = error;
            result.exit_code = exit_config;
            return result;
        }
    }
    delivery::Peer peer;
    peer.host = flags.server;
    peer.port = flags.effective_port();
    try {
        const auto answer = client_resolver(flags)->addresses(flags.server);
        if (answer.status != dns::Status::ok) {
            result.error = fmt::format(fmt::runtime(base::tr("cannot find the address of {}: {}")), flags.server,
                                       answer.error);
            result.exit_code = answer.status == dns::Status::temporary ? exit_temporary : exit_no_host;
            return result;
        }
        peer.address = (!answer.ipv4.empty() ? answer.ipv4.front() : answer.ipv6.front()).to_string();
    } catch (const std::invalid_argument& e) {
        result.error = e.what();
        result.exit_code = exit_usage;
        return result;
    }
    auto opened = delivery::SmtpConnection::open(peer, connection_options(flags, std::move(secret)));
    if (!opened.connection) {
        result.error = opened.session_failure ? opened.session_failure->reason : opened.failure.detail;
        result.exit_code = exit_code_of(opened);
        return result;
    }
    result.connection = std::move(opened.connection);
    return result;
}

}  // namespace cartero::cli
