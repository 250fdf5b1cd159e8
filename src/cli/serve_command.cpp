// `cartero serve`: wires the spool, the delivery queue, accounts, the
// authenticator and the listeners together, recovers the spool, and runs.
#include "cli/serve_command.hpp"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include <spdlog/spdlog.h>

#include "accounts/sqlite_store.hpp"
#include "auth/authenticator.hpp"
#include "cli/bouncer.hpp"
#include "cli/outbound.hpp"
#include "delivery/discard.hpp"
#include "delivery/local/local_courier.hpp"
#include "delivery/local/maildir.hpp"
#include "delivery/remote/srs_forwarding.hpp"
#include "net/control_socket.hpp"
#include "net/local_submission.hpp"
#include "net/server.hpp"
#include "net/tls.hpp"
#include "observe/logging.hpp"
#include "policy/session_rules.hpp"
#include "scheduler/delivery_queue.hpp"
#include "spool/spool.hpp"

namespace cartero::cli {
namespace {

using DirectoryPtr = std::shared_ptr<const accounts::Directory>;

constexpr auto account_poll_interval = std::chrono::milliseconds(200);

// Keeps the in-memory account snapshot in step with the store: `cartero user`
// commands write the SQLite file from another process; this thread notices
// within a fifth of a second and swaps in a new snapshot (the session path never waits
// on SQLite).
class LiveDirectory {
public:
    LiveDirectory(accounts::AccountStore& store, std::vector<std::string> local_domains,
                  std::vector<config::Route> routes)
        : store_(store), domains_(std::move(local_domains)), routes_(std::move(routes)) {
        refresh();
        watcher_ = std::jthread([this](std::stop_token stop) { watch(stop); });
    }
    DirectoryPtr current() const { return snapshot_.load(); }

    // SIGHUP: local_domains and [[route]] may have changed in the config.
    void use_domains(std::vector<std::string> local_domains, std::vector<config::Route> routes) {
        std::lock_guard lock(mutex_);
        domains_ = std::move(local_domains);
        routes_ = std::move(routes);
        refresh_locked();
    }

private:
    void refresh() {
        std::lock_guard lock(mutex_);
        refresh_locked();
    }
    void refresh_locked() {
        version_ = store_.version();
        snapshot_.store(accounts::load_directory(store_, domains_, routes_));
    }
    void watch(std::stop_token stop) {
        std::mutex sleep_mutex;
        std::condition_variable_any tick;
        for (;;) {
            std::unique_lock lock(sleep_mutex);
            // PRAGMA data_version costs microseconds, so polling often is cheap and a
            // user added by `cartero user add` can receive mail almost at once.
            // The stop token wakes the wait when the server stops.
            tick.wait_for(lock, stop, account_poll_interval, [] { return false; });
            if (stop.stop_requested()) return;
            try {
                if (store_.version() != version_) refresh();
            } catch (const std::exception& e) {
                spdlog::error("cannot reload accounts, keeping the previous snapshot: {}", e.what());
            }
        }
    }

    accounts::AccountStore& store_;
    std::mutex mutex_;  // the watcher thread and SIGHUP both refresh
    std::vector<std::string> domains_;
    std::vector<config::Route> routes_;
    std::atomic<DirectoryPtr> snapshot_;
    std::uint64_t version_ = 0;
    std::jthread watcher_;
};

std::filesystem::path executable_path() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path("cartero") : path;
}

// The embedded default tells a first-time user exactly what to type next.
void print_banner(const config::Config& config, const std::vector<net::BoundListener>& bound,
                  bool embedded) {
    std::printf("cartero is running (hostname %s, data in %s)\n", config.hostname.c_str(),
                config.data_dir.c_str());
    for (const auto& listener : bound)
        std::printf("  %-12s %s\n", std::string(config::to_string(listener.role)).c_str(),
                    listener.address.c_str());
    if (embedded) {
        const std::string exe = executable_path().string();
        const std::string home = "CARTERO_HOME=" + config.data_dir.string();
        std::printf("\nAdd a user (you will be asked for a password):\n  %s %s user add you@localhost\n",
                    home.c_str(), exe.c_str());
        std::printf("Send yourself a test message over submission with STARTTLS (self-signed certificate):\n"
                    "  swaks --server 127.0.0.1:2587 --tls --tls-verify-off --auth-user you@localhost \\\n"
                    "        --from you@localhost --to you@localhost\n"
                    "It lands in %s/mail/localhost/you/new/\n",
                    config.data_dir.c_str());
    }
    std::fflush(stdout);
}

using Forwarding = std::shared_ptr<const delivery::SrsForwarding>;

// SRS for forwarding by alias (docs/delivery.md); addresses are made in the
// first local domain, which takes mail from anyone, so bounces reach us.
Forwarding load_forwarding(const config::Config& config) {
    const std::string domain = config.local_domains.empty() ? config.hostname : config.local_domains.front();
    return std::make_shared<const delivery::SrsForwarding>(
        delivery::SrsForwarding::load_or_create(config.data_dir, domain, config.delivery.srs_max_age));
}

std::shared_ptr<const net::Runtime> make_runtime(const config::Config& loaded,
                                                 std::function<DirectoryPtr()> directory, Forwarding forwarding) {
    auto runtime = std::make_shared<net::Runtime>();
    auto config = std::make_shared<const config::Config>(loaded);
    runtime->config = config;
    policy::SessionRules::Settings settings;
    settings.check_from_header = config->policy.check_from_header;
    settings.srs = [forwarding](std::string_view local_part) { return forwarding->check(local_part, std::time(nullptr)); };
    runtime->policy = std::make_shared<const policy::SessionRules>(std::move(directory), std::move(settings));
    if (!config->tls.cert.empty()) runtime->tls = net::make_server_context(config->tls.cert, config->tls.key);
    runtime->trusted = config::NetworkSet::parse(config->trusted_networks);
    return runtime;
}

int serve(const GlobalOptions& options) {
    const bool embedded = options.config_path.empty();
    config::Config config = load_config(options);
    observe::init_logging(config.log_level, config.log_file);
    if (config.listeners.empty())
        throw config::ConfigError(config.source.string() + ": listener: no [[listener]] configured, nothing to serve (add one, see docs/configuration.md)");
    std::filesystem::create_directories(config.data_dir);
    if (embedded && net::ensure_self_signed(config.tls.cert, config.tls.key, config.hostname))
        spdlog::info("generated a self-signed certificate in {}", config.tls.cert.string());

    auto store = accounts::open_account_store(config.data_dir);
    LiveDirectory directory(*store, config.local_domains, config.routes);
    auto directory_now = [&directory] { return directory.current(); };

    auto spool = spool::open_fs_spool({config.data_dir / "spool"});
    std::filesystem::create_directories(config::maildir_root(config));
    delivery::MaildirCourier courier(config::maildir_root(config), [&config](std::string_view localpart, std::string_view domain) {
        return config::maildir_for(config, localpart, domain);
    }, config.hostname);
    delivery::LocalCourier local(config, courier);  // Maildir, or LMTP per domain ([[lmtp]], delivery.lmtp)
    delivery::DiscardCourier discard;
    Outbound outbound(config);
    Bouncer bouncer(config, *spool);
    const Forwarding forwarding = load_forwarding(config);
    scheduler::DeliveryQueueOptions queue_options = scheduler::DeliveryQueueOptions::from(config);
    queue_options.forward_sender = [forwarding](const spool::Envelope& envelope) {
        return forwarding->forward_sender(envelope, std::time(nullptr));
    };
    scheduler::DeliveryQueue queue(*spool,
                                   scheduler::directory_router(directory_now, [forwarding](std::string_view address) {
                                       return forwarding->unwrap(address);
                                   }),
                                   {local, discard, outbound.courier()}, queue_options, bouncer.notifier());
    bouncer.attach(queue);
    auto recovered = spool->recover();
    if (!recovered.empty()) spdlog::info("recovered {} queued messages from the spool", recovered.size());
    queue.recover(std::move(recovered));
    // `cartero queue` talks to the queue here; after the spool, whose lock proves this is the only server.
    net::ControlSocket control(net::control_socket_path(config.data_dir), queue);

    auth::Authenticator authenticator(*store, auth::AppPasswordKey::load_or_create(config.data_dir), config.limits);
    net::Services services{*spool, queue, authenticator, {}, {}};
    net::Server server(make_runtime(config, directory_now, forwarding), services, [&] {
        const config::Config reloaded = load_config(options);
        directory.use_domains(reloaded.local_domains, reloaded.routes);
        outbound.reload(reloaded);
        local.update(reloaded);
        return make_runtime(reloaded, directory_now, forwarding);
    });
    auto bound = server.bind();
    // `cartero sendmail` submits here (net/local_submission.hpp, docs/sendmail.md).
    const auto submit_socket = net::submit_socket_path(config.data_dir);
    bound.push_back(server.bind_local(submit_socket));
    print_banner(config, bound, embedded);
    server.run();
    std::error_code socket_gone;
    std::filesystem::remove(submit_socket, socket_gone);

    spdlog::info("stopping delivery and closing the spool");
    queue.stop();
    spool->close();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, GlobalOptions& options) {
    CLI::App* command = app.add_subcommand("serve", "Run the mail server (SMTP listeners, queue, delivery)");
    command->callback([&options] {
        const int code = serve(options);
        if (code != 0) throw CLI::RuntimeError(code);
    });
}

}  // namespace cartero::cli
