// `cartero queue ...`: thin commands over the control socket. The queue
// operations live and are tested in scheduler/; the protocol in net/. This file
// parses arguments, sends one request, prints the answer and maps it to an exit code.
#include "cli/queue_commands.hpp"

#include <sysexits.h>

#include <ctime>
#include <iostream>

#include <boost/json.hpp>

#include "net/control_socket.hpp"

namespace cartero::cli {
namespace {

namespace json = boost::json;

struct QueueArgs {
    std::string id;
    bool json = false;
};

[[noreturn]] void fail(int exit_code, const std::string& message) {
    std::cerr << "cartero: " << message << "\n";
    throw CLI::RuntimeError(exit_code);
}

std::string text(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::int64_t number(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return 0;
    if (value->is_int64()) return value->get_int64();
    if (value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
    return 0;
}

bool flag(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_bool() && value->get_bool();
}

// mailq's arrival format, in local time: "Thu Jun 12 10:00:00".
std::string local_time(std::int64_t unix_seconds) {
    const std::time_t when = static_cast<std::time_t>(unix_seconds);
    std::tm local{};
    localtime_r(&when, &local);
    char out[32];
    std::strftime(out, sizeof out, "%a %b %e %H:%M:%S", &local);
    return out;
}

// Sends one request; a missing server, a transport error or {"ok":false} ends
// the command with a plain sentence and an exit code.
json::object ask(const GlobalOptions& options, json::object request) {
    const config::Config config = load_config(options);  // ConfigError reaches main: exit 2
    const auto path = net::control_socket_path(config.data_dir);
    const net::ControlReply reply = net::call_control(path, request);
    if (reply.no_server)
        fail(EX_UNAVAILABLE, "no cartero server is running with data_dir " + config.data_dir.string() +
                                 " (control socket not found): start it with cartero serve");
    if (!reply.error.empty()) fail(EX_PROTOCOL, "control socket " + path.string() + ": " + reply.error);
    if (flag(reply.body, "ok")) return reply.body;
    const std::string error = text(reply.body, "error");
    if (error.starts_with("no queued message")) fail(EX_NOINPUT, error);
    if (error.find("is held") != std::string::npos) fail(EX_TEMPFAIL, error);
    fail(EX_PROTOCOL, error.empty() ? "the server refused the request" : error);
}

std::string schedule_line(const json::object& message) {
    std::string line = "attempts " + std::to_string(number(message, "attempts"));
    if (flag(message, "delivering")) return line + ", being delivered now";
    if (flag(message, "held")) return line + ", held (cartero queue release " + text(message, "id") + ")";
    return line + ", next attempt " + local_time(number(message, "next_attempt"));
}

// Postfix mailq layout: ID (with ! when held, * while being delivered), size,
// arrival, sender; then per recipient not done its last error in parentheses
// and the address, indented.
void print_mailq_entry(const json::object& message) {
    const std::string mark = flag(message, "delivering") ? "*" : flag(message, "held") ? "!" : " ";
    std::printf("%-16s%s %8lld %s  %s\n", text(message, "id").c_str(), mark.c_str(),
                static_cast<long long>(number(message, "size")), local_time(number(message, "received_at")).c_str(),
                text(message, "sender").empty() ? "MAILER-DAEMON" : text(message, "sender").c_str());
    std::printf("%44s(%s)\n", "", schedule_line(message).c_str());
    for (const auto& value : message.at("recipients").as_array()) {
        const auto& recipient = value.as_object();
        if (text(recipient, "status") != "pending") continue;
        if (const auto error = text(recipient, "last_error"); !error.empty()) std::printf("(%s)\n", error.c_str());
        std::printf("%44s%s\n", "", text(recipient, "address").c_str());
    }
    std::printf("\n");
}

void print_list(const json::object& reply) {
    const auto& messages = reply.at("messages").as_array();
    if (messages.empty()) {
        std::printf("Mail queue is empty\n");
        return;
    }
    std::printf("%-17s %8s %-20s  %s\n", "-Queue ID-", "--Size--", "----Arrival Time----", "-Sender/Recipient-------");
    std::int64_t octets = 0;
    for (const auto& message : messages) {
        print_mailq_entry(message.as_object());
        octets += number(message.as_object(), "size");
    }
    std::printf("-- %lld Kbytes in %zu Request%s.\n", static_cast<long long>((octets + 1023) / 1024), messages.size(),
                messages.size() == 1 ? "" : "s");
}

void print_show(const json::object& message) {
    std::printf("ID:            %s\n", text(message, "id").c_str());
    std::printf("Sender:        <%s>\n", text(message, "sender").c_str());
    std::printf("Arrived:       %s\n", local_time(number(message, "received_at")).c_str());
    std::printf("Size:          %lld octets\n", static_cast<long long>(number(message, "size")));
    std::printf("Delivery:      %s\n", schedule_line(message).c_str());
    std::printf("Recipients:\n");
    for (const auto& value : message.at("recipients").as_array()) {
        const auto& recipient = value.as_object();
        std::printf("  %-40s %s\n", text(recipient, "address").c_str(), text(recipient, "status").c_str());
        if (const auto error = text(recipient, "last_error"); !error.empty())
            std::printf("    last error: %s\n", error.c_str());
    }
}

void print_json(const json::value& value) { std::cout << json::serialize(value) << "\n"; }

void run_list(const GlobalOptions& options, const QueueArgs& args) {
    const auto reply = ask(options, {{"op", "list"}});
    if (args.json) return print_json(reply.at("messages"));
    print_list(reply);
}

void run_show(const GlobalOptions& options, const QueueArgs& args) {
    const auto reply = ask(options, {{"op", "show"}, {"id", args.id}});
    if (args.json) return print_json(reply.at("message"));
    print_show(reply.at("message").as_object());
}

void run_flush(const GlobalOptions& options, const QueueArgs& args) {
    json::object request{{"op", "flush"}};
    if (!args.id.empty()) request["id"] = args.id;
    const auto reply = ask(options, std::move(request));
    if (args.json) return print_json(reply);
    if (args.id.empty())
        std::printf("%lld messages due now\n", static_cast<long long>(number(reply, "flushed")));
    else
        std::printf("%s: due now\n", args.id.c_str());
}

// hold, release, delete, bounce: one ID, one result.
void run_operation(const GlobalOptions& options, const QueueArgs& args, const std::string& op,
                   const std::string& past) {
    const auto reply = ask(options, {{"op", op}, {"id", args.id}});
    if (args.json) return print_json(reply);
    if (text(reply, "result") == "after_delivery")
        std::printf("%s: being delivered now; %s as soon as this attempt ends\n", args.id.c_str(), past.c_str());
    else
        std::printf("%s: %s\n", args.id.c_str(), past.c_str());
}

CLI::App* add_verb(CLI::App* queue, const std::string& name, const std::string& help, QueueArgs& args,
                   bool id_required) {
    CLI::App* command = queue->add_subcommand(name, help);
    auto* id = command->add_option("id", args.id, "Queue ID (as shown by cartero queue list)");
    if (id_required) id->required();
    command->add_flag("--json", args.json, "Print the server's JSON answer");
    return command;
}

}  // namespace

void add_queue_commands(CLI::App& app, GlobalOptions& options) {
    CLI::App* queue = app.add_subcommand("queue", "Inspect and manage the running server's queue");
    queue->require_subcommand(1);
    static QueueArgs args;  // CLI11 binds by reference; one invocation parses one command
    CLI::App* list = queue->add_subcommand("list", "List queued messages (like mailq)");
    list->add_flag("--json", args.json, "Print the queue as a JSON array");
    list->callback([&options] { run_list(options, args); });
    add_verb(queue, "show", "Show one message with each recipient's status", args, true)
        ->callback([&options] { run_show(options, args); });
    add_verb(queue, "flush", "Try every message (or one) now; held messages stay held", args, false)
        ->callback([&options] { run_flush(options, args); });
    struct Verb {
        const char* op;
        const char* help;
        const char* past;
    };
    static constexpr Verb verbs[] = {
        {"hold", "Hold a message: no delivery until released", "held"},
        {"release", "Release a held message: delivered again on its retry schedule", "released"},
        {"delete", "Delete a message without telling the sender", "deleted"},
        {"bounce", "Give up now: the sender gets a DSN for the recipients not delivered", "bounced"},
    };
    for (const Verb& verb : verbs)
        add_verb(queue, verb.op, verb.help, args, true)->callback([&options, verb] {
            run_operation(options, args, verb.op, verb.past);
        });
}

}  // namespace cartero::cli
