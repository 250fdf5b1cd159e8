// `cartero check`: see check_command.hpp. The walk: resolve the name, open the
// connection with the shared client (delivery::SmtpConnection, which connects,
// runs TLS, EHLO and AUTH and keeps each step's reply and time), then MAIL
// FROM and RCPT TO without DATA — or, with --send-test, a whole test message.
// The first failure is described by facts (layer, error, reply, TLS report,
// what the other ports answer) and explained by diagnose::diagnose.
#include "cli/check_command.hpp"

#include <sysexits.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <random>
#include <regex>

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "base/translation.hpp"
#include "bounce/dsn.hpp"
#include "cli/client_options.hpp"
#include "delivery/remote/smtp_connection.hpp"
#include "diagnose/diagnosis.hpp"
#include "discovery/providers.hpp"
#include "smtp/extensions.hpp"

namespace cartero::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct CheckFlags {
    ClientConnectionFlags connection;
    std::string address;     // ADDRESS: the account's address (user, sender and recipient by default)
    std::string from;
    std::string to;
    bool send_test = false;
    bool transcript = false;
    int probe_timeout_seconds = 5;
    std::size_t message_size = 0;  // --message-size: the test message padded to this many octets
};

// --- output ---------------------------------------------------------------------

// Server text on a terminal: no control characters (escape sequences).
std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text) out += (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f ? '?' : c;
    return out;
}

std::string one_line(const smtp::Reply& r) {
    std::string text = r.text;
    std::replace(text.begin(), text.end(), '\n', ' ');
    return printable(std::to_string(r.code) + (r.enhanced.empty() ? "" : " " + r.enhanced) + " " + text);
}

std::size_t columns(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

class Report {
public:
    void step(bool ok, std::string_view label, std::string_view detail, std::optional<milliseconds> took = {}) {
        std::string line = ok ? "✓ " : "✗ ";
        line += label;
        line.append(label_width > columns(label) ? label_width - columns(label) : 1, ' ');
        line += detail;
        if (took) line += fmt::format(" ({} ms)", took->count());
        std::cout << line << "\n";
    }
    void warning(std::string_view text) { std::cout << "! " << std::string(label_width, ' ') << text << "\n"; }
    void more(std::string_view text) { std::cout << "  " << std::string(label_width, ' ') << text << "\n"; }

private:
    static constexpr std::size_t label_width = 13;
};

std::string step_label(std::string_view what) {
    if (what == "connect") return base::tr("TCP connect");
    if (what == "greeting") return base::tr("greeting");
    if (what == "end of DATA") return base::tr("end of DATA");
    return std::string(what);
}

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : std::string(separator)) + i;
    return out;
}

// "PIPELINING SIZE 10485760 STARTTLS AUTH PLAIN LOGIN": the keywords of an EHLO reply.
std::string capabilities(const smtp::Reply& r) {
    std::vector<std::string> lines;
    std::size_t at = r.text.find('\n');
    while (at != std::string::npos) {
        const std::size_t end = r.text.find('\n', at + 1);
        lines.push_back(r.text.substr(at + 1, end == std::string::npos ? end : end - at - 1));
        at = end;
    }
    return printable(lines.empty() ? std::string(base::tr("(no extensions)")) : join(lines, ", "));
}

// --- the facts of a failure -------------------------------------------------------

diagnose::TlsSetting tls_setting(ClientTls tls) {
    switch (tls) {
        case ClientTls::ssl: return diagnose::TlsSetting::ssl;
        case ClientTls::starttls: return diagnose::TlsSetting::starttls;
        case ClientTls::none: return diagnose::TlsSetting::none;
    }
    return diagnose::TlsSetting::starttls;
}

diagnose::Layer layer_of(const smtp::ClientFailure& f) {
    using K = smtp::ClientFailureKind;
    using P = smtp::ClientPhase;
    switch (f.kind) {
        case K::greeting_refused: return diagnose::Layer::greeting;
        case K::hello_refused:
        case K::tls_not_offered:
        case K::tls_refused:
        case K::auth_unsupported: return diagnose::Layer::hello;
        case K::tls_failed: return diagnose::Layer::tls;
        case K::auth_needs_tls:
        case K::auth_refused: return diagnose::Layer::auth;
        default: break;
    }
    switch (f.phase) {
        case P::greeting: return diagnose::Layer::greeting;
        case P::hello:
        case P::starttls: return diagnose::Layer::hello;
        case P::tls_handshake: return diagnose::Layer::tls;
        case P::auth: return diagnose::Layer::auth;
        case P::mail:
        case P::rset: return diagnose::Layer::mail;
        case P::rcpt: return diagnose::Layer::rcpt;
        default: return diagnose::Layer::data;
    }
}

// With --insecure the certificate's problems are warnings, not the diagnosis.
void add_tls_facts(diagnose::Facts& facts, const delivery::TlsReport& tls, bool insecure) {
    for (const auto p : insecure ? std::vector<delivery::CertificateProblem>{} : tls.problems) {
        using P = delivery::CertificateProblem;
        facts.certificate_problems.push_back(p == P::expired      ? diagnose::CertificateProblem::expired
                                             : p == P::wrong_name ? diagnose::CertificateProblem::wrong_name
                                             : p == P::untrusted  ? diagnose::CertificateProblem::untrusted
                                                                  : diagnose::CertificateProblem::other);
    }
    facts.certificate_names = tls.names;
    if (!tls.chain.empty()) facts.certificate_expiry = tls.chain.front().not_after;
}

void add_code_meaning(diagnose::Facts& facts) {
    if (!facts.reply || facts.reply->enhanced.empty()) return;
    const auto e = bounce::explain(facts.reply->enhanced);
    // bounce/'s explanations are string literals: null-terminated, and in po/es/check.po.
    if (!e.meaning.empty()) facts.code_meaning = base::tr(e.meaning.data());
    if (!e.advice.empty()) facts.code_advice = base::tr(e.advice.data());
}

// --- probes -----------------------------------------------------------------------

delivery::ConnectionOptions probe_options(const CheckFlags& flags, delivery::TlsMode tls) {
    auto o = connection_options(flags.connection, std::nullopt);
    o.tls = tls;
    o.verify_certificate = false;
    auto& t = o.timeouts;
    t.connect = t.greeting = t.hello = t.tls_handshake = t.quit = std::chrono::seconds(flags.probe_timeout_seconds);
    return o;
}

// The port answers a greeting with these options (a quick second attempt).
bool answers(const delivery::Peer& peer, const delivery::ConnectionOptions& options, bool* offers_auth = nullptr) {
    auto opened = delivery::SmtpConnection::open(peer, options);
    if (!opened.connection) return false;
    if (offers_auth) *offers_auth = !opened.connection->extensions().auth.empty();
    opened.connection->quit();
    return true;
}

// The other submission ports, all at once (RFC 8314 465, RFC 6409 587, RFC 5321 25).
std::vector<diagnose::PortAnswer> probe_ports(const CheckFlags& flags, const delivery::Peer& peer) {
    std::vector<std::future<diagnose::PortAnswer>> running;
    for (const std::uint16_t port : {465, 587, 25}) {
        if (port == peer.port) continue;
        running.push_back(std::async(std::launch::async, [&flags, peer, port] {
            delivery::Peer p = peer;
            p.port = port;
            diagnose::PortAnswer answer{port, diagnose::PortSpeaks::nothing, false};
            if (port == 465) {
                if (answers(p, probe_options(flags, delivery::TlsMode::implicit), &answer.offers_auth))
                    answer.speaks = diagnose::PortSpeaks::tls;
                return answer;
            }
            auto opened = delivery::SmtpConnection::open(p, probe_options(flags, delivery::TlsMode::none));
            if (!opened.connection) return answer;
            answer.speaks = opened.connection->extensions().starttls ? diagnose::PortSpeaks::starttls
                                                                     : diagnose::PortSpeaks::plaintext;
            answer.offers_auth = !opened.connection->extensions().auth.empty();
            opened.connection->quit();
            return answer;
        }));
    }
    std::vector<diagnose::PortAnswer> out;
    for (auto& r : running) out.push_back(r.get());
    return out;
}

// --- the test message -------------------------------------------------------------

std::string rfc5322_date() {
    const std::time_t now = std::time(nullptr);
    std::tm parts{};
    ::gmtime_r(&now, &parts);
    std::array<char, 64> text{};
    std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S +0000", &parts);
    return text.data();
}

std::string test_message(const CheckFlags& flags, const std::string& from, const std::string& to,
                         const std::string& helo) {
    std::random_device random;
    const std::string id = fmt::format("{:08x}{:08x}", random(), random());
    std::string m = "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: cartero check: test message\r\n" +
                    "Date: " + rfc5322_date() + "\r\nMessage-ID: <check." + id + "@" + helo + ">\r\n" +
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
                    "This is a test message sent by `cartero check --send-test` to see that\r\n" +
                    "this account can send mail. It can be deleted.\r\n";
    // --message-size: lines of filler up to the size asked (tests the server's SIZE).
    const std::string filler(76, 'x');
    while (m.size() + filler.size() + 2 <= flags.message_size) m += filler + "\r\n";
    return m;
}

std::optional<std::string> queue_id(const smtp::Reply& r) {
    static const std::regex queued(R"(queued as ([A-Za-z0-9._-]+))", std::regex::icase);
    std::smatch m;
    if (std::regex_search(r.text, m, queued)) return m.str(1);
    return std::nullopt;
}

// --- the walk ---------------------------------------------------------------------

class Check {
public:
    explicit Check(CheckFlags flags) : flags_(std::move(flags)) {}
    int run();

private:
    int fail(diagnose::Facts facts);
    bool resolve(delivery::Peer& peer);
    void print_steps(const delivery::Dialogue& dialogue, const delivery::TlsReport& tls, std::size_t from,
                     const std::optional<std::string>& failing_step);
    void print_tls(const delivery::TlsReport& tls, std::optional<milliseconds> took, bool ok);
    void print_failure_step(diagnose::Layer layer, const std::string& reason);
    void print_transcript(const delivery::Dialogue& dialogue);
    int opened_failed(delivery::OpenResult& opened, const delivery::Peer& peer);
    diagnose::Facts facts(diagnose::Layer layer) const;

    CheckFlags flags_;
    Report report_;
    std::string sender_;
    std::string recipient_;
};

diagnose::Facts Check::facts(diagnose::Layer layer) const {
    diagnose::Facts f;
    f.layer = layer;
    f.host = flags_.connection.server;
    f.port = flags_.connection.effective_port();
    f.tls = tls_setting(flags_.connection.tls);
    f.credentials = !flags_.connection.user.empty();
    f.sender = sender_;
    f.recipient = recipient_;
    return f;
}

int Check::fail(diagnose::Facts facts) {
    add_code_meaning(facts);
    const auto d = diagnose::diagnose(facts);
    std::cout << "\n" << d.paragraph << "\n";
    if (!d.reference.empty())
        std::cout << fmt::format(fmt::runtime(base::tr("The server's reference for this refusal: {} (give it to its "
                                                       "administrator).")),
                                 printable(d.reference))
                  << "\n";
    return d.exit_code;
}

bool Check::resolve(delivery::Peer& peer) {
    const std::string& host = flags_.connection.server;
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (!ec) {
        peer.address = host;
        report_.step(true, "DNS", fmt::format(fmt::runtime(base::tr("{} is an IP address: no lookup")), host));
        return true;
    }
    const auto begun = Clock::now();
    std::unique_ptr<dns::Resolver> resolver;
    try {
        resolver = client_resolver(flags_.connection);
    } catch (const std::exception& e) {
        report_.step(false, "DNS", e.what());
        return false;
    }
    const auto answer = resolver->addresses(host);
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - begun);
    const auto& list = !answer.ipv4.empty() ? answer.ipv4 : answer.ipv6;
    if (answer.status == dns::Status::ok && !list.empty()) {
        peer.address = list.front().to_string();
        report_.step(true, "DNS", host + " → " + peer.address, took);
        return true;
    }
    report_.step(false, "DNS", printable(answer.error), took);
    return false;
}

void Check::print_tls(const delivery::TlsReport& tls, std::optional<milliseconds> took, bool ok) {
    report_.step(ok, "TLS", tls.active ? tls.version + " " + tls.cipher : std::string(base::tr("no TLS session")), took);
    for (std::size_t i = 0; i < tls.chain.size(); ++i) {
        const auto& c = tls.chain[i];
        report_.more(fmt::format(fmt::runtime(base::tr("certificate {}: {}, issued by {}, valid until {}")), i + 1,
                                 printable(c.subject), printable(c.issuer), c.not_after));
    }
    if (!tls.names.empty())
        report_.more(fmt::format(fmt::runtime(base::tr("valid for: {}")), printable(join(tls.names))));
    if (tls.active && tls.verified) {
        report_.more(base::tr("certificate verified"));
    } else if (!tls.verify_error.empty() && tls.active && flags_.connection.insecure) {
        report_.warning(fmt::format(fmt::runtime(base::tr("certificate problem, going on because of --insecure: {}")),
                                    tls.verify_error));
    } else if (!tls.verify_error.empty() && tls.active) {
        report_.more(fmt::format(fmt::runtime(base::tr("certificate refused: {}")), tls.verify_error));
    }
}

// The step that failed without a reply of its own (a timeout, a lost
// connection, a missing extension): one ✗ line saying so.
void Check::print_failure_step(diagnose::Layer layer, const std::string& reason) {
    static constexpr std::array<const char*, 9> labels{"DNS", "connect", "TLS", "greeting", "EHLO", "AUTH",
                                                       "MAIL FROM", "RCPT TO", "DATA"};
    report_.step(false, step_label(labels[static_cast<std::size_t>(layer)]), printable(reason));
}

// One line per step of the dialogue from `from` on; the AUTH exchange (334
// challenges) and QUIT are folded away. A step fails when its reply is 4xx/5xx,
// or when it is the connection or TLS step and `failed` names it.
void Check::print_steps(const delivery::Dialogue& dialogue, const delivery::TlsReport& tls, std::size_t from,
                        const std::optional<std::string>& failed) {
    const auto& steps = dialogue.steps;
    for (std::size_t i = from; i < steps.size(); ++i) {
        const auto& s = steps[i];
        if (s.what == "QUIT") continue;
        if (s.what == "AUTH" && i + 1 < steps.size() && steps[i + 1].what == "AUTH") continue;
        if (s.what == "connect") {
            report_.step(failed != s.what, step_label(s.what),
                         fmt::format(fmt::runtime(base::tr("{} port {}")), flags_.connection.server,
                                     flags_.connection.effective_port()),
                         s.took);
        } else if (s.what == "TLS") {
            print_tls(tls, s.took, failed != s.what);
        } else if (s.reply && s.what == "EHLO" && s.reply->code == 250) {
            report_.step(true, "EHLO", capabilities(*s.reply), s.took);
        } else if (s.reply) {
            report_.step(s.reply->code < 400, step_label(s.what), one_line(*s.reply), s.took);
        }
    }
}

void Check::print_transcript(const delivery::Dialogue& dialogue) {
    if (!flags_.transcript) return;
    std::cout << "\n" << base::tr("Transcript (passwords hidden):") << "\n";
    for (const auto& l : dialogue.transcript) {
        const char* arrow = l.line.source == smtp::TranscriptSource::client   ? " -> "
                            : l.line.source == smtp::TranscriptSource::server ? " <- "
                                                                              : " == ";
        std::cout << fmt::format("{:>6} ms{}{}\n", l.at.count(), arrow, printable(l.line.text));
    }
}

int Check::opened_failed(delivery::OpenResult& opened, const delivery::Peer& peer) {
    using F = delivery::OpenFailure;
    const auto& steps = opened.dialogue.steps;
    const bool has_tls_step = std::any_of(steps.begin(), steps.end(), [](const auto& s) { return s.what == "TLS"; });
    const auto& session_failure = opened.session_failure;
    const bool tls_failed =
        opened.failed_at == F::tls || (session_failure && session_failure->kind == smtp::ClientFailureKind::tls_failed);
    const bool connect_failed = opened.failed_at != F::tls && opened.failed_at != F::dialogue;
    print_steps(opened.dialogue, opened.tls, 0,
                connect_failed ? std::optional<std::string>("connect")
                : tls_failed   ? std::optional<std::string>("TLS")
                               : std::nullopt);
    if (tls_failed && !has_tls_step) print_tls(opened.tls, std::nullopt, false);
    if (connect_failed || tls_failed) report_.more(printable(opened.failure.detail));
    else if (session_failure && !session_failure->reply) print_failure_step(layer_of(*session_failure), session_failure->reason);
    print_transcript(opened.dialogue);

    diagnose::Facts f;
    switch (opened.failed_at) {
        case F::connect_timed_out:
        case F::connect_refused:
        case F::unreachable:
        case F::connect_other:
            f = facts(diagnose::Layer::connect);
            f.connect = opened.failed_at == F::connect_timed_out ? diagnose::ConnectError::timed_out
                        : opened.failed_at == F::connect_refused ? diagnose::ConnectError::refused
                        : opened.failed_at == F::unreachable     ? diagnose::ConnectError::unreachable
                                                                 : diagnose::ConnectError::other;
            f.error = opened.failure.detail;
            if (f.connect == diagnose::ConnectError::timed_out || f.connect == diagnose::ConnectError::refused)
                f.other_ports = probe_ports(flags_, peer);
            return fail(f);
        case F::tls:
            f = facts(diagnose::Layer::tls);
            break;
        default:
            f = facts(opened.session_failure ? layer_of(*opened.session_failure) : diagnose::Layer::greeting);
            f.failure = opened.session_failure ? std::optional(opened.session_failure->kind) : std::nullopt;
            if (opened.session_failure) f.reply = opened.session_failure->reply;
            break;
    }
    f.error = opened.session_failure ? opened.session_failure->reason : opened.failure.detail;
    for (const auto& s : steps) {
        if (s.what == "EHLO" && s.reply && s.reply->code == 250) f.auth_mechanisms = smtp::parse_extensions(*s.reply).auth;
    }
    add_tls_facts(f, opened.tls, flags_.connection.insecure);
    // TLS mode mismatches: try the port the other way round.
    if (f.layer == diagnose::Layer::tls && flags_.connection.tls == ClientTls::ssl && f.certificate_problems.empty())
        f.port_speaks_plaintext = answers(peer, probe_options(flags_, delivery::TlsMode::none));
    if (f.layer == diagnose::Layer::greeting && flags_.connection.tls != ClientTls::ssl && !f.reply)
        f.port_speaks_tls = answers(peer, probe_options(flags_, delivery::TlsMode::implicit));
    return fail(f);
}

int Check::run() {
    const auto& c = flags_.connection;
    sender_ = !flags_.from.empty() ? flags_.from : !flags_.address.empty() ? flags_.address
              : c.user.find('@') != std::string::npos ? c.user : std::string();
    recipient_ = !flags_.to.empty() ? flags_.to : sender_;
    std::cout << fmt::format(fmt::runtime(base::tr("Checking {} port {} ({}){}")), c.server, c.effective_port(),
                             to_string(c.tls),
                             c.user.empty() ? std::string(base::tr(", without login"))
                                            : fmt::format(fmt::runtime(base::tr(", user {}")), c.user))
              << "\n";

    std::optional<std::string> password;
    if (!c.user.empty()) {
        std::string error;
        password = read_password(c, error);
        if (!password) {
            std::cerr << "cartero: " << error << "\n";
            return EX_NOINPUT;
        }
    }
    delivery::Peer peer{c.server, {}, c.effective_port(), {}};
    if (!resolve(peer)) {
        auto f = facts(diagnose::Layer::dns);
        // Only a definite "no such name" is the person's typing; anything else is the network.
        auto resolver = client_resolver(c);
        const auto answer = resolver->addresses(c.server);
        f.host_not_found = answer.status == dns::Status::nxdomain || answer.status == dns::Status::nodata;
        if (f.host_not_found) f.similar_hosts = discovery::nearest_smtp_hosts(c.server);
        f.error = answer.error;
        return fail(f);
    }
    auto options = connection_options(c, password);
    options.keep_transcript = flags_.transcript;
    auto opened = delivery::SmtpConnection::open(peer, options);
    if (!opened.connection) return opened_failed(opened, peer);
    auto& connection = *opened.connection;
    const std::size_t before_transaction = connection.dialogue().steps.size();
    print_steps(connection.dialogue(), connection.tls(), 0, std::nullopt);
    if (!c.user.empty() && connection.dialogue().steps.back().what != "AUTH")
        report_.step(true, "AUTH", base::tr("not needed"));
    if (sender_.empty()) {
        report_.more(base::tr("MAIL FROM and RCPT TO not tested: give an address (ADDRESS, --from or a --user "
                              "that is an address)."));
        connection.quit();
        print_transcript(connection.dialogue());
        return EX_OK;
    }

    delivery::Transaction t;
    t.sender = sender_;
    t.recipients.push_back(smtp::ClientRecipient{recipient_, {}, {}});
    t.data = std::make_shared<const std::string>(test_message(flags_, sender_, recipient_, options.helo_name));
    t.envelope_only = !flags_.send_test;
    connection.send(t);
    const auto& results = connection.results();
    const auto failure = connection.failure();
    const bool accepted = !results.empty() && results.front().reply.code / 100 == 2 && !failure;
    std::optional<std::string> failing;
    if (!accepted) failing = connection.dialogue().steps.empty() ? "" : connection.dialogue().steps.back().what;
    if (accepted) connection.quit();
    print_steps(connection.dialogue(), connection.tls(), before_transaction, failing);
    if (accepted) {
        if (flags_.send_test) {
            const auto id = queue_id(results.front().reply);
            std::cout << "\n"
                      << fmt::format(fmt::runtime(base::tr("The test message to {} was accepted{}.")), recipient_,
                                     id ? fmt::format(fmt::runtime(base::tr(" (queue ID {})")), printable(*id)) : "")
                      << "\n";
        } else {
            std::cout << "\n"
                      << base::tr("Everything works up to the message itself. Add --send-test to send a test "
                                  "message to yourself.")
                      << "\n";
        }
        print_transcript(connection.dialogue());
        return EX_OK;
    }
    print_transcript(connection.dialogue());
    diagnose::Facts f;
    if (failure && (failure->kind == smtp::ClientFailureKind::connection_lost ||
                    failure->kind == smtp::ClientFailureKind::timed_out || !failure->reply)) {
        f = facts(layer_of(*failure));
        f.failure = failure->kind;
        f.error = failure->reason;
        f.reply = failure->reply;
        if (!failure->reply) print_failure_step(f.layer, failure->reason);
    } else {
        const auto& r = results.front();
        const auto& in = r.in_reply_to;
        f = facts(in == "MAIL FROM" ? diagnose::Layer::mail
                  : in == "RCPT TO" ? diagnose::Layer::rcpt
                  : in.empty()      ? diagnose::Layer::data
                                    : diagnose::Layer::data);
        f.reply = r.reply;
        f.reply_from_server = r.from_peer;
        if (!r.from_peer) report_.step(false, "MAIL FROM", one_line(r.reply));
    }
    f.authenticated = connection.dialogue().steps.end() !=
                      std::find_if(connection.dialogue().steps.begin(), connection.dialogue().steps.end(),
                                   [](const auto& s) { return s.what == "AUTH" && s.reply && s.reply->code == 235; });
    if (connection.extensions().size_limit != 0) f.size_limit = connection.extensions().size_limit;
    f.message_size = t.data->size();
    f.auth_mechanisms = connection.extensions().auth;
    return fail(f);
}

}  // namespace

void add_check_command(CLI::App& app, GlobalOptions&) {
    auto flags = std::make_shared<CheckFlags>();
    auto* command = app.add_subcommand(
        "check", "Test sending through a mail server step by step and explain what fails (docs/client.md)");
    command->add_option("address", flags->address,
                        "The account's address (default user, sender and recipient); discovery needs --server for now");
    add_client_connection_flags(*command, flags->connection);
    command->add_option("--from", flags->from, "Sender address for MAIL FROM (default: ADDRESS or --user)");
    command->add_option("--to", flags->to, "Recipient for RCPT TO (default: the sender, as in a test to yourself)");
    command->add_flag("--send-test", flags->send_test, "Send a test message to yourself (else stop before DATA)");
    command->add_flag("--transcript", flags->transcript, "Show the SMTP dialogue (passwords hidden)");
    command->add_option("--probe-timeout", flags->probe_timeout_seconds,
                        "Seconds each probe of another port may take")
        ->check(CLI::Range(1, 60))
        ->capture_default_str();
    command->add_option("--message-size", flags->message_size,
                        "Make the test message this many octets long (to test the server's size limit)");
    command->callback([flags] {
        if (flags->connection.server.empty()) {
            std::cerr << "cartero: "
                      << base::tr("give the outgoing server with --server (finding it from the address is not "
                                  "available yet)")
                      << "\n";
            throw CLI::RuntimeError(EX_USAGE);
        }
        if (flags->connection.user.empty() && !flags->address.empty()) flags->connection.user = flags->address;
        const int code = Check(*flags).run();
        if (code != EX_OK) throw CLI::RuntimeError(code);
    });
}

}  // namespace cartero::cli
