// SmtpConnection against real peers on loopback: Postfix's smtp-sink (replies
// 4xx/5xx to chosen commands, drops the connection, speaks LMTP on a Unix
// socket), a listener that never greets (timeouts) and a closed port. STARTTLS,
// certificate checks, AUTH and delivery into a Maildir are tested against a
// cartero server in tests/integration/test_smtp_client.py.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "delivery/remote/smtp_connection.hpp"

extern char** environ;

namespace cartero::delivery {
namespace {

using namespace std::chrono_literals;

constexpr const char* smtp_sink = "/usr/sbin/smtp-sink";

int listening_socket(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 8) != 0) return -1;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return fd;
}

std::uint16_t unused_port() {
    std::uint16_t port = 0;
    const int fd = listening_socket(port);
    ::close(fd);
    return port;
}

bool tcp_reachable(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// One smtp-sink process for one test, on a port (or Unix socket) picked now.
class SmtpSink {
public:
    explicit SmtpSink(std::vector<std::string> options, std::filesystem::path unix_socket = {}) {
        for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) start(options, unix_socket);
    }
    ~SmtpSink() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    bool running() const { return pid_ > 0; }
    std::uint16_t port() const { return port_; }

private:
    void start(const std::vector<std::string>& options, const std::filesystem::path& unix_socket) {
        port_ = unix_socket.empty() ? unused_port() : 0;
        std::vector<std::string> args{smtp_sink, "-h", "sink.test"};
        if (::geteuid() == 0) args.insert(args.end(), {"-u", "nobody"});  // smtp-sink refuses to run as root
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(unix_socket.empty() ? "127.0.0.1:" + std::to_string(port_) : "unix:" + unix_socket.string());
        args.push_back("10");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, smtp_sink, nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = 0;
            return;
        }
        for (int i = 0; i < 100; ++i) {  // up to 5 s
            if (unix_socket.empty() ? tcp_reachable(port_) : std::filesystem::exists(unix_socket)) return;
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;  // the port was taken: try another
            std::this_thread::sleep_for(50ms);
        }
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = 0;
    }

    pid_t pid_ = 0;
    std::uint16_t port_ = 0;
};

Peer local_peer(std::uint16_t port) { return Peer{"localhost", "127.0.0.1", port, {}}; }

ConnectionOptions plain_options() {
    ConnectionOptions o;
    o.helo_name = "client.test";
    o.tls = TlsMode::opportunistic;  // smtp-sink offers no STARTTLS: goes on in plaintext
    o.timeouts.greeting = 5s;
    return o;
}

Transaction message(std::vector<std::string> recipients) {
    Transaction t;
    t.sender = "alice@example.org";
    for (auto& r : recipients) t.recipients.push_back(smtp::ClientRecipient{std::move(r), {}, {}});
    t.data = std::make_shared<const std::string>("Subject: hi\r\n\r\nhello\r\n.leading dot\r\n");
    return t;
}

std::string statuses(const std::vector<DeliveryOutcome>& outcomes) {
    std::string out;
    for (const auto& o : outcomes) out += std::string(to_string(o.status)) + " " + std::to_string(o.reply.code) + "; ";
    return out;
}

TEST(SmtpConnection, DeliversAndReusesTheConnection) {
    SmtpSink sink({});
    ASSERT_TRUE(sink.running());
    OpenResult opened = SmtpConnection::open(local_peer(sink.port()), plain_options());
    ASSERT_TRUE(opened.connection) << opened.failure.detail;
    SmtpConnection& c = *opened.connection;
    EXPECT_TRUE(c.extensions().pipelining);
    EXPECT_FALSE(c.tls().active);
    EXPECT_EQ(describe(c.tls()), "no TLS");
    const auto first = c.send(message({"a@example.net", "b@example.net"}));
    EXPECT_EQ(statuses(first), "delivered 250; delivered 250; ") << "got " << statuses(first);
    const std::string want = "host localhost[127.0.0.1]:" + std::to_string(sink.port()) + " said: 250 2.0.0 Ok";
    EXPECT_EQ(first[0].detail.substr(0, want.size()), want) << "got " << first[0].detail;
    EXPECT_NE(first[0].detail.find("(in reply to end of DATA)"), std::string::npos) << first[0].detail;
    ASSERT_TRUE(c.reusable());
    const auto second = c.send(message({"c@example.net"}));
    EXPECT_EQ(statuses(second), "delivered 250; ") << "got " << statuses(second);
    c.quit();
    EXPECT_FALSE(c.reusable());
}

TEST(SmtpConnection, MapsRefusalsToOutcomes) {
    struct Case {
        std::vector<std::string> sink_options;
        std::string want_statuses;
        std::string want_in_detail;
    };
    const std::vector<Case> cases{
        {{"-r", "RCPT"}, "temporary 450; temporary 450; ", "(in reply to RCPT TO)"},
        // smtp-sink answers its hard errors with 500.
        {{"-f", "RCPT"}, "permanent 500; permanent 500; ", "(in reply to RCPT TO)"},
        {{"-f", "MAIL"}, "permanent 500; permanent 500; ", "(in reply to MAIL FROM)"},
        {{"-f", "DATA"}, "permanent 500; permanent 500; ", "(in reply to DATA)"},
        {{"-r", "."}, "temporary 450; temporary 450; ", "(in reply to end of DATA)"},
        {{"-q", "DATA"}, "temporary 451; temporary 451; ", "the connection was lost (waiting for the reply to DATA)"},
        {{"-Q", "RCPT"}, "temporary 421; temporary 421; ", "said: 421"},
        {{"-p", "-E", "-N"}, "delivered 250; delivered 250; ", "said: 250"},  // no PIPELINING: one by one
    };
    for (const auto& c : cases) {
        SmtpSink sink(c.sink_options);
        ASSERT_TRUE(sink.running());
        OpenResult opened = SmtpConnection::open(local_peer(sink.port()), plain_options());
        ASSERT_TRUE(opened.connection) << opened.failure.detail;
        const auto outcomes = opened.connection->send(message({"a@example.net", "b@example.net"}));
        EXPECT_EQ(statuses(outcomes), c.want_statuses)
            << c.sink_options[1] << ": got " << statuses(outcomes) << ", want " << c.want_statuses;
        ASSERT_EQ(outcomes.size(), 2u);
        EXPECT_NE(outcomes[0].detail.find(c.want_in_detail), std::string::npos)
            << c.sink_options[1] << ": got \"" << outcomes[0].detail << "\", want it to contain \"" << c.want_in_detail
            << "\"";
        opened.connection->quit();
    }
}

TEST(SmtpConnection, OpenFailuresSayWhy) {
    {  // nothing listens
        const OpenResult r = SmtpConnection::open(local_peer(unused_port()), plain_options());
        EXPECT_FALSE(r.connection);
        EXPECT_EQ(r.failure.status, DeliveryStatus::temporary);
        EXPECT_NE(r.failure.detail.find("Connection refused"), std::string::npos) << "got " << r.failure.detail;
    }
    {  // accepted by the kernel, never greeted
        std::uint16_t port = 0;
        const int fd = listening_socket(port);
        ASSERT_GE(fd, 0);
        ConnectionOptions o = plain_options();
        o.timeouts.greeting = 300ms;
        const auto start = std::chrono::steady_clock::now();
        const OpenResult r = SmtpConnection::open(local_peer(port), o);
        const auto took = std::chrono::steady_clock::now() - start;
        ::close(fd);
        EXPECT_FALSE(r.connection);
        EXPECT_EQ(r.failure.status, DeliveryStatus::temporary);
        EXPECT_NE(r.failure.detail.find("timed out (waiting for the greeting)"), std::string::npos)
            << "got " << r.failure.detail;
        EXPECT_LT(took, 5s);
    }
    {  // STARTTLS required, smtp-sink has none
        SmtpSink sink({});
        ASSERT_TRUE(sink.running());
        ConnectionOptions o = plain_options();
        o.tls = TlsMode::required;
        const OpenResult r = SmtpConnection::open(local_peer(sink.port()), o);
        EXPECT_FALSE(r.connection);
        EXPECT_EQ(r.failure.status, DeliveryStatus::temporary);
        EXPECT_NE(r.failure.detail.find("the server does not offer STARTTLS"), std::string::npos)
            << "got " << r.failure.detail;
    }
    {  // a 5xx greeting: said about the server, not the message, so the delivery waits (issue 12)
        SmtpSink sink({"-f", "CONNECT"});
        ASSERT_TRUE(sink.running());
        const OpenResult r = SmtpConnection::open(local_peer(sink.port()), plain_options());
        EXPECT_FALSE(r.connection);
        EXPECT_EQ(r.failure.status, DeliveryStatus::temporary) << r.failure.detail;
        EXPECT_NE(r.failure.detail.find("refused to talk to me: 5"), std::string::npos) << "got " << r.failure.detail;
    }
    {  // credentials over plaintext are refused by the client, not sent
        SmtpSink sink({});
        ASSERT_TRUE(sink.running());
        ConnectionOptions o = plain_options();
        o.credentials = smtp::ClientCredentials{"alice", "secret"};
        const OpenResult r = SmtpConnection::open(local_peer(sink.port()), o);
        EXPECT_FALSE(r.connection);
        EXPECT_NE(r.failure.detail.find("refusing to send the password over a connection without TLS"),
                  std::string::npos)
            << "got " << r.failure.detail;
    }
}

// Certificate checks with implicit TLS against `openssl s_server` and a
// self-signed certificate: refused with the reason when verification is on;
// accepted with that certificate as the CA file (the dialogue then waits for a
// greeting s_server never sends, which proves the handshake passed).
class TlsServer {
public:
    explicit TlsServer(const std::filesystem::path& dir) {
        cert_ = dir / "cert.pem";
        key_ = dir / "key.pem";
        const std::string make = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                                 "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                                 key_.string() + " -out " + cert_.string() + " >/dev/null 2>&1";
        if (std::system(make.c_str()) != 0) return;
        for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) start();
    }
    ~TlsServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    bool running() const { return pid_ > 0; }
    std::uint16_t port() const { return port_; }
    const std::filesystem::path& cert() const { return cert_; }

private:
    void start() {
        port_ = unused_port();
        std::vector<std::string> args{"openssl", "s_server", "-quiet", "-accept", "127.0.0.1:" + std::to_string(port_),
                                      "-cert", cert_.string(), "-key", key_.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        const int rc = ::posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = 0;
            return;
        }
        for (int i = 0; i < 100; ++i) {
            if (tcp_reachable(port_)) return;
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
            std::this_thread::sleep_for(50ms);
        }
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = 0;
    }

    std::filesystem::path cert_, key_;
    pid_t pid_ = 0;
    std::uint16_t port_ = 0;
};

TEST(SmtpConnection, CertificateVerification) {
    const auto dir = std::filesystem::temp_directory_path() / ("cartero-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    struct Case {
        std::string name;
        std::string host;
        bool use_ca_file;
        std::string want_in_detail;
    };
    const std::vector<Case> cases{
        {"self-signed, system store", "localhost", false, "certificate verify failed: self-signed certificate"},
        {"wrong host name", "mx.other.example", true, "certificate verify failed: hostname mismatch"},
        // s_server then sends nothing (a timeout) or closes: either way past the handshake.
        {"the certificate as CA file", "localhost", true, "(waiting for the greeting)"},
    };
    for (const auto& c : cases) {
        TlsServer server(dir);  // s_server serves one client at a time: one per case
        ASSERT_TRUE(server.running());
        ConnectionOptions o = plain_options();
        o.tls = TlsMode::implicit;
        o.verify_certificate = true;
        if (c.use_ca_file) o.ca_file = server.cert();
        o.timeouts.greeting = 500ms;
        o.timeouts.tls_handshake = 5s;
        const OpenResult r = SmtpConnection::open(Peer{c.host, "127.0.0.1", server.port(), {}}, o);
        EXPECT_FALSE(r.connection) << c.name;
        EXPECT_EQ(r.failure.status, DeliveryStatus::temporary) << c.name;
        EXPECT_NE(r.failure.detail.find(c.want_in_detail), std::string::npos)
            << c.name << ": got \"" << r.failure.detail << "\", want it to contain \"" << c.want_in_detail << "\"";
    }
    std::filesystem::remove_all(dir);
}

TEST(SmtpConnection, LmtpOverAUnixSocket) {
    const auto dir = std::filesystem::temp_directory_path() / ("cartero-lmtp-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto socket_path = dir / "lmtp.sock";
    {
        SmtpSink sink({"-L"}, socket_path);
        ASSERT_TRUE(sink.running());
        ConnectionOptions o = plain_options();
        o.lmtp = true;
        o.tls = TlsMode::none;
        Peer peer;
        peer.unix_socket = socket_path;
        OpenResult opened = SmtpConnection::open(peer, o);
        ASSERT_TRUE(opened.connection) << opened.failure.detail;
        const auto outcomes = opened.connection->send(message({"a@example.org", "b@example.org", "c@example.org"}));
        EXPECT_EQ(statuses(outcomes), "delivered 250; delivered 250; delivered 250; ") << "got " << statuses(outcomes);
        EXPECT_EQ(opened.connection->peer_name(), socket_path.string());
        opened.connection->quit();
    }
    std::filesystem::remove_all(dir);
}

// tests/support/trickle_peer.py in one mode, on a port it picks; killed at the end.
class TricklePeer {
public:
    TricklePeer(const std::string& mode, const std::string& interval = "0.5") {
        const auto port_file = std::filesystem::temp_directory_path() /
                               ("cartero-trickle-" + std::to_string(::getpid()) + "-" + std::to_string(++serial_));
        std::filesystem::remove(port_file);
        std::vector<std::string> args{"/usr/bin/python3", CARTERO_TRICKLE_PEER, port_file.string(), mode, interval};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = 0;
        for (int i = 0; pid_ > 0 && i < 200 && port_ == 0; ++i) {  // up to 10 s
            std::ifstream in(port_file);
            int port = 0;
            if (in >> port) port_ = static_cast<std::uint16_t>(port);
            else std::this_thread::sleep_for(50ms);
        }
        std::filesystem::remove(port_file);
    }
    ~TricklePeer() { kill(); }
    // Ends every connection (a client still waiting sees the connection close).
    void kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = 0;
    }
    bool running() const { return pid_ > 0 && port_ != 0; }
    std::uint16_t port() const { return port_; }

private:
    static inline int serial_ = 0;
    pid_t pid_ = 0;
    std::uint16_t port_ = 0;
};

// Runs `call` and says how long it took, at most `bound` plus the time the peer
// needs to die: past the bound the peer is killed, so a client that would wait
// for ever (the defect) ends and the test fails instead of hanging.
template <class Call>
std::chrono::steady_clock::duration time_bounded(TricklePeer& peer, std::chrono::seconds bound, Call call) {
    const auto start = std::chrono::steady_clock::now();
    auto running = std::async(std::launch::async, std::move(call));
    if (running.wait_for(bound) != std::future_status::ready) peer.kill();
    running.get();
    return std::chrono::steady_clock::now() - start;
}

// Issue 8: a deadline per reply that octets arriving one by one cannot extend.
TEST(SmtpConnection, AGreetingTrickledOneOctetAtATimeTimesOut) {
    for (const std::string mode : {"greeting", "lines"}) {
        SCOPED_TRACE(mode);
        TricklePeer peer(mode);
        ASSERT_TRUE(peer.running());
        ConnectionOptions o = plain_options();
        o.timeouts.greeting = 2s;
        OpenResult r;
        const auto took = time_bounded(peer, 8s, [&] { r = SmtpConnection::open(local_peer(peer.port()), o); });
        EXPECT_LT(took, 5s) << "the greeting timeout is 2 s";
        EXPECT_GE(took, 1900ms);
        EXPECT_FALSE(r.connection);
        EXPECT_EQ(r.failure.status, DeliveryStatus::temporary);
        EXPECT_NE(r.failure.detail.find("timed out (waiting for the greeting)"), std::string::npos)
            << "got " << r.failure.detail;
    }
}

// The DATA phase as a whole gets delivery.data_timeout, the reply to the final
// dot included, however slowly that reply arrives.
TEST(SmtpConnection, AReplyToTheDotTrickledForEverTimesOut) {
    TricklePeer peer("data");
    ASSERT_TRUE(peer.running());
    ConnectionOptions o = plain_options();
    o.timeouts.data = 2s;
    OpenResult opened = SmtpConnection::open(local_peer(peer.port()), o);
    ASSERT_TRUE(opened.connection) << opened.failure.detail;
    std::vector<DeliveryOutcome> outcomes;
    const auto took = time_bounded(peer, 8s, [&] { outcomes = opened.connection->send(message({"a@example.net"})); });
    EXPECT_LT(took, 5s) << "the DATA phase has 2 s";
    ASSERT_EQ(outcomes.size(), 1U);
    EXPECT_EQ(outcomes[0].status, DeliveryStatus::temporary);
    EXPECT_NE(outcomes[0].detail.find("timed out"), std::string::npos) << "got " << outcomes[0].detail;
}

// Shutdown: a connection waiting on a slow peer gives up soon after abandon is set.
TEST(SmtpConnection, AbandonEndsAWaitAtOnce) {
    TricklePeer peer("greeting");
    ASSERT_TRUE(peer.running());
    std::atomic<bool> abandon{false};
    ConnectionOptions o = plain_options();
    o.timeouts.greeting = 60s;
    o.abandon = &abandon;
    OpenResult r;
    std::thread stopper([&] {
        std::this_thread::sleep_for(500ms);
        abandon = true;
    });
    const auto took = time_bounded(peer, 8s, [&] { r = SmtpConnection::open(local_peer(peer.port()), o); });
    stopper.join();
    EXPECT_LT(took, 3s);
    EXPECT_FALSE(r.connection);
    EXPECT_EQ(r.failure.status, DeliveryStatus::temporary);
    EXPECT_NE(r.failure.detail.find("delivery abandoned because cartero is stopping"), std::string::npos)
        << "got " << r.failure.detail;
    // Once abandoned, nothing new is tried.
    const OpenResult again = SmtpConnection::open(local_peer(peer.port()), o);
    EXPECT_FALSE(again.connection);
    EXPECT_NE(again.failure.detail.find("abandoned"), std::string::npos) << "got " << again.failure.detail;
}

}  // namespace
}  // namespace cartero::delivery
