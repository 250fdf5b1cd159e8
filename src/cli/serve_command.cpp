// `cartero serve`: wires the spool, the delivery queue, accounts, the
// authenticator and the listeners together, recovers the spool, and runs.
#include "cli/serve_command.hpp"

#include <unistd.h>

#include <algorithm>
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
#include "config/changes.hpp"
#include "delivery/discard.hpp"
#include "delivery/local/local_courier.hpp"
#include "delivery/local/maildir.hpp"
#include "delivery/remote/srs_forwarding.hpp"
#include "net/control_socket.hpp"
#include "net/local_submission.hpp"
#include "net/server.hpp"
#include "net/privileges.hpp"
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
    // `cartero`: the command line that reaches this server's data, for the
    // commands its warnings suggest (cartero_command below).
    LiveDirectory(accounts::AccountStore& store, std::vector<std::string> local_domains,
                  std::vector<config::Route> routes, config::Accounts rules, std::string cartero)
        : store_(store), domains_(std::move(local_domains)), routes_(std::move(routes)), rules_(std::move(rules)),
          cartero_(std::move(cartero)) {
        refresh();
        watcher_ = std::jthread([this](std::stop_token stop) { watch(stop); });
    }
    DirectoryPtr current() const { return snapshot_.load(); }

    // SIGHUP, in two steps: prepare reads the accounts with the new
    // local_domains, [[route]] and [accounts] rules (and may throw); use puts them in force.
    struct Prepared {
        std::vector<std::string> domains;
        std::vector<config::Route> routes;
        config::Accounts rules;
        std::uint64_t version = 0;
        DirectoryPtr snapshot;
    };
    Prepared prepare(std::vector<std::string> local_domains, std::vector<config::Route> routes,
                     config::Accounts rules) const {
        Prepared prepared{std::move(local_domains), std::move(routes), std::move(rules), store_.version(), {}};
        prepared.snapshot = accounts::load_directory(store_, prepared.domains, prepared.routes, prepared.rules);
        return prepared;
    }
    void use(Prepared prepared) {
        std::lock_guard lock(mutex_);
        domains_ = std::move(prepared.domains);
        routes_ = std::move(prepared.routes);
        rules_ = std::move(prepared.rules);
        version_ = prepared.version;  // a change since is picked up by the watcher
        publish_locked(std::move(prepared.snapshot));
    }

private:
    void refresh() {
        std::lock_guard lock(mutex_);
        refresh_locked();
    }
    void refresh_locked() {
        version_ = store_.version();
        publish_locked(accounts::load_directory(store_, domains_, routes_, rules_));
    }
    void publish_locked(DirectoryPtr snapshot) {
        // Said at start-up and again whenever the answer changes, not on every reload.
        auto problem = snapshot->postmaster_problem(cartero_);
        if (problem && problem != postmaster_problem_) spdlog::warn("{}", *problem);
        postmaster_problem_ = std::move(problem);
        snapshot_.store(std::move(snapshot));
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
    config::Accounts rules_;
    std::optional<std::string> postmaster_problem_;
    std::string cartero_;
    std::atomic<DirectoryPtr> snapshot_;
    std::uint64_t version_ = 0;
    std::jthread watcher_;
};

std::filesystem::path executable_path() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path("cartero") : path;
}

// The command that runs `cartero` against this server's configuration: the
// same --config file, or the same $CARTERO_HOME for the embedded default.
std::string cartero_command(const GlobalOptions& options, const config::Config& config) {
    const std::string exe = executable_path().string();
    if (options.config_path.empty()) return "CARTERO_HOME=" + config.data_dir.string() + " " + exe;
    return exe + " --config " + std::filesystem::absolute(options.config_path).string();
}

// The swaks command that sends a test message through the first submission
// (STARTTLS) or submissions (implicit TLS) listener actually bound; empty when
// there is neither. Debian 12's swaks (20201014) does not verify certificates
// and has no --tls-verify* options, so none is printed; it asks for the password.
std::string swaks_command(const std::vector<net::BoundListener>& bound, const std::string& address) {
    for (const auto role : {config::ListenerRole::submission, config::ListenerRole::submissions}) {
        for (const auto& listener : bound) {
            if (listener.role != role) continue;
            const char* tls = role == config::ListenerRole::submission ? "--tls" : "--tls-on-connect";
            return "swaks --server " + listener.address + " " + tls + " --auth-user " + address + " \\\n" +
                   "        --from " + address + " --to " + address;
        }
    }
    return {};
}

// While no account exists, the server tells its operator exactly what to type
// next. Every command is built from what this server really uses (config file,
// listeners, local domain, Maildir) and works as printed on Debian 12:
// tests/integration/test_first_start.py runs them.
void print_first_steps(const GlobalOptions& options, const config::Config& config,
                       const std::vector<net::BoundListener>& bound) {
    if (config.local_domains.empty()) return;
    const std::string& domain = config.local_domains.front();
    const std::string address = "you@" + domain;
    std::printf("\nNo accounts yet. Add one (you will be asked for a password):\n  %s user add %s\n",
                cartero_command(options, config).c_str(), address.c_str());
    const std::string swaks = swaks_command(bound, address);
    if (swaks.empty()) return;
    std::printf("Send yourself a test message (swaks asks for the password; it does not check the certificate):\n"
                "  %s\n", swaks.c_str());
    if (const auto& lmtp = config::lmtp_address_for(config, domain); !lmtp.empty())
        std::printf("It is delivered over LMTP to %s\n", lmtp.c_str());
    else
        std::printf("It lands in %s/new/\n", config::maildir_for(config, "you", domain).c_str());
}

void print_banner(const GlobalOptions& options, const config::Config& config,
                  const std::vector<net::BoundListener>& bound, bool no_accounts) {
    std::printf("cartero is running (hostname %s, data in %s)\n", config.hostname.c_str(),
                config.data_dir.c_str());
    for (const auto& listener : bound)
        std::printf("  %-12s %s\n", std::string(config::to_string(listener.role)).c_str(),
                    listener.address.c_str());
    if (no_accounts) print_first_steps(options, config, bound);
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
    if (!config->tls.cert.empty()) runtime->tls = net::make_server_context(config->tls);
    runtime->trusted = config::NetworkSet::parse(config->trusted_networks);
    return runtime;
}

// The local mailboxes' courier, swapped whole when delivery.maildir or the
// hostname changes on reload; a delivery in progress finishes with the one it
// started with.
class SwappableCourier final : public delivery::Courier {
public:
    explicit SwappableCourier(std::shared_ptr<delivery::Courier> courier) : current_(std::move(courier)) {}
    void swap(std::shared_ptr<delivery::Courier> courier) { current_.store(std::move(courier)); }
    delivery::DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override {
        const std::shared_ptr<delivery::Courier> courier = current_.load();
        return courier->deliver(message, recipient);
    }

private:
    std::atomic<std::shared_ptr<delivery::Courier>> current_;
};

// Creates the mailbox root, so a template naming a directory that cannot be
// made fails here (at start or on reload) rather than at each delivery.
std::shared_ptr<delivery::Courier> make_maildir_courier(const config::Config& loaded) {
    auto config = std::make_shared<const config::Config>(loaded);
    std::filesystem::create_directories(config::maildir_root(*config));
    return std::make_shared<delivery::MaildirCourier>(
        config::maildir_root(*config),
        [config](std::string_view localpart, std::string_view domain) {
            return config::maildir_for(*config, localpart, domain);
        },
        config->hostname);
}

// A listener kept until restart may need TLS that the new file no longer
// configures (the loader checked the new file's listeners, not the running ones).
void check_tls_for_listeners(const config::Config& config) {
    for (const config::Listener& listener : config.listeners) {
        if (config::needs_tls(listener.role) && (config.tls.cert.empty() || config.tls.key.empty()))
            throw config::ConfigError(config.source.string() + ": tls.cert: the running " +
                                      std::string(config::to_string(listener.role)) +
                                      " listener needs a certificate until restart (keep tls.cert and tls.key set)");
    }
}

// SIGHUP, all or nothing (docs/operations.md, "Reloading"). prepare() does
// everything that can fail — reads and checks the file, builds the TLS
// context (certificate and key must match), reads the accounts with the new
// domains, makes the mailbox root, builds the resolver, reads the DKIM keys —
// without touching the running server; only when all of it succeeded does
// apply() put it in force, and apply() cannot fail. Keys marked restart in
// the schema table keep their running values and are named in a warning.
class Reloader {
public:
    struct Parts {
        LiveDirectory& directory;
        SwappableCourier& maildir;
        delivery::LocalCourier& local;
        Outbound& outbound;
        scheduler::DeliveryQueue& queue;
        Bouncer& bouncer;
        auth::Authenticator& authenticator;
        std::function<DirectoryPtr()> directory_now;
        Forwarding forwarding;  // read at start: delivery.srs_max_age and the SRS domain wait for a restart
    };
    Reloader(const GlobalOptions& options, const config::Config& running, Parts parts)
        : options_(options), running_(running), parts_(std::move(parts)) {}

    // Throws, naming the problem, when anything would fail; then nothing changed.
    std::shared_ptr<const net::Runtime> reload() {
        Prepared prepared = prepare(load_config(options_));
        apply(prepared);
        return prepared.runtime;
    }

private:
    struct Prepared {
        config::Config config;                         // the new file, restart keys as running
        std::vector<const config::KeySpec*> restart;   // changed keys that wait for a restart
        std::shared_ptr<const net::Runtime> runtime;   // TLS context built
        LiveDirectory::Prepared directory;
        std::shared_ptr<delivery::Courier> maildir;    // null: unchanged
        Outbound::Prepared outbound;
    };

    Prepared prepare(const config::Config& fresh) const {
        Prepared prepared;
        std::vector<const config::KeySpec*> changed = config::changed_keys(running_, fresh);
        for (const config::KeySpec* spec : changed)
            if (spec->reload == config::Reload::restart) prepared.restart.push_back(spec);
        prepared.config = config::keep_restart_values(running_, fresh);
        check_tls_for_listeners(prepared.config);
        prepared.runtime = make_runtime(prepared.config, parts_.directory_now, parts_.forwarding);
        prepared.directory = parts_.directory.prepare(prepared.config.local_domains, prepared.config.routes,
                                                        prepared.config.accounts);
        if (maildir_changed(changed)) prepared.maildir = make_maildir_courier(prepared.config);
        prepared.outbound = parts_.outbound.prepare(prepared.config, changed);
        return prepared;
    }

    void apply(Prepared& prepared) {
        const config::Config& config = prepared.config;
        parts_.directory.use(std::move(prepared.directory));
        if (prepared.maildir) parts_.maildir.swap(std::move(prepared.maildir));
        parts_.local.update(config);
        parts_.outbound.apply(std::move(prepared.outbound));
        parts_.queue.update(config);
        parts_.bouncer.update(config);
        parts_.authenticator.reconfigure(config.limits);
        observe::set_log_level(config.log_level);
        if (!prepared.restart.empty())
            spdlog::warn("reload: changed keys that need a restart, their running values are kept: {}",
                         config::key_list(prepared.restart));
        running_ = config;
    }

    // What the Maildir courier is built from (data_dir needs a restart).
    static bool maildir_changed(const std::vector<const config::KeySpec*>& changed) {
        return std::any_of(changed.begin(), changed.end(), [](const config::KeySpec* spec) {
            return spec->key == "delivery.maildir" || spec->key == "hostname";
        });
    }

    const GlobalOptions& options_;
    config::Config running_;  // as applied; touched by SIGHUP only (the server's control thread)
    Parts parts_;
};

// server.user (net/privileges.hpp): after the listening sockets, before
// anything else — the log file, the spool and every later file are opened as
// the unprivileged user.
void drop_privileges(const config::Config& config) {
    const auto who = net::run_as(config);
    if (!who) {
        if (::geteuid() == 0)
            spdlog::warn("running as root: set server.user (and chown data_dir to it) so that a flaw in code that "
                         "reads the network cannot act as root");
        return;
    }
    net::make_data_dir(config, *who);
    net::become(*who);
    net::check_access(config, *who);
    spdlog::info("running as user {} (uid {}), group {} (gid {})", who->user, who->uid, who->group, who->gid);
}

std::vector<net::ListeningSocket> listening_sockets(const config::Config& config) {
    auto sockets = net::open_listening_sockets(config);
    if (sockets.empty())
        throw config::ConfigError(config.source.string() + ": listener: no [[listener]] configured, nothing to serve (add one, see docs/configuration.md)");
    if (sockets.front().from_service_manager)
        spdlog::info("serving on {} sockets from systemd; [[listener]] addresses are not bound", sockets.size());
    for (const net::ListeningSocket& socket : sockets) {
        if (config::needs_tls(socket.listener.role) && (config.tls.cert.empty() || config.tls.key.empty()))
            throw config::ConfigError(config.source.string() + ": tls.cert: systemd passed a " +
                                      std::string(config::to_string(socket.listener.role)) +
                                      " socket, which needs a certificate (set tls.cert and tls.key)");
    }
    return sockets;
}

int serve(const GlobalOptions& options) {
    const bool embedded = options.config_path.empty();
    config::Config config = load_config(options);
    observe::init_logging(config.log_level);   // standard error until the log file is opened as server.user
    auto sockets = listening_sockets(config);  // the only step that may need root (ports below 1024)
    drop_privileges(config);
    if (!config.log_file.empty()) observe::init_logging(config.log_level, config.log_file);
    std::filesystem::create_directories(config.data_dir);
    if (embedded && net::ensure_self_signed(config.tls.cert, config.tls.key, config.hostname))
        spdlog::info("generated a self-signed certificate in {}", config.tls.cert.string());

    auto store = accounts::open_account_store(config.data_dir);
    LiveDirectory directory(*store, config.local_domains, config.routes, config.accounts,
                            cartero_command(options, config));
    auto directory_now = [&directory] { return directory.current(); };

    auto spool = spool::open_fs_spool({config.data_dir / "spool"});
    SwappableCourier maildir(make_maildir_courier(config));
    delivery::LocalCourier local(config, maildir);  // Maildir, or LMTP per domain ([[lmtp]], delivery.lmtp)
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
    Reloader reloader(options, config,
                      {directory, maildir, local, outbound, queue, bouncer, authenticator, directory_now, forwarding});
    net::Server server(make_runtime(config, directory_now, forwarding), services, [&reloader] { return reloader.reload(); });
    auto bound = server.listen(std::move(sockets));
    // `cartero sendmail` submits here (net/local_submission.hpp, docs/sendmail.md).
    const auto submit_socket = net::submit_socket_path(config.data_dir);
    bound.push_back(server.bind_local(submit_socket));
    print_banner(options, config, bound, store->list_users().empty());
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
