// LmtpCourier against Postfix's smtp-sink in LMTP mode (-L) on a Unix socket
// and on loopback TCP: the outcome per RFC 2033 (reply after the final dot,
// 2xx/4xx/5xx), refusals at RCPT, an absent server, the message sent as queued
// (no Return-Path/Delivered-To added: the mail store adds its own), and kept
// connections (reuse, a server that went away while one was idle). Delivery to
// a real Dovecot is tested in tests/integration/test_lmtp.py.
#include <gtest/gtest.h>

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
#include <sstream>
#include <thread>

#include "config/listen_address.hpp"
#include "delivery/local/lmtp.hpp"

extern char** environ;

namespace cartero::delivery {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSmtpSink = "/usr/sbin/smtp-sink";

// A directory for sockets and dumps; smtp-sink runs as nobody when we are root.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "cartero-lmtp-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
        std::filesystem::permissions(path_, std::filesystem::perms::all);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::uint16_t unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
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

bool unix_reachable(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// smtp-sink -L: one process per test, on `endpoint` ("unix:/path" or
// "127.0.0.1:port"), dumping each transaction into dump_dir.
class LmtpSink {
public:
    LmtpSink(std::string endpoint, std::filesystem::path dump_dir, std::vector<std::string> options = {})
        : endpoint_(std::move(endpoint)) {
        std::vector<std::string> args{kSmtpSink, "-L", "-h", "sink.test", "-d", (dump_dir / "dump").string()};
        if (::geteuid() == 0) args.insert(args.end(), {"-u", "nobody"});  // smtp-sink refuses to run as root
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(endpoint_);
        args.push_back("10");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, kSmtpSink, nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = 0;
            return;
        }
        for (int i = 0; i < 100 && !ready(); ++i) std::this_thread::sleep_for(50ms);  // up to 5 s
    }
    ~LmtpSink() { stop(); }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = 0;
        if (endpoint_.starts_with("unix:")) std::filesystem::remove(endpoint_.substr(5));
    }
    bool ready() const {
        if (pid_ <= 0) return false;
        // The socket file appears at bind(), before listen(): only a connect says it is ready.
        if (endpoint_.starts_with("unix:")) return unix_reachable(endpoint_.substr(5));
        return tcp_reachable(static_cast<std::uint16_t>(std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1))));
    }

private:
    std::string endpoint_;
    pid_t pid_ = 0;
};

// Every transaction smtp-sink dumped, concatenated.
std::string dumps(const std::filesystem::path& dir) {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.path().filename().string().starts_with("dump")) continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        all += text.str();
    }
    return all;
}

const std::string kData = "Subject: hi\r\n\r\nhello\r\n.leading dot\r\n";

spool::QueuedMessage queued(std::string sender = "alice@example.org") {
    spool::QueuedMessage message;
    message.id = "Q1";
    message.envelope.sender = std::move(sender);
    message.envelope.recipients = {"bob@example.test"};
    message.done = {false};
    message.data = std::make_shared<const std::string>(kData);
    return message;
}

LmtpOptions fast_options() {
    LmtpOptions o;
    o.lhlo_name = "mx.example.test";
    o.timeouts.connect = o.timeouts.greeting = o.timeouts.hello = o.timeouts.mail = o.timeouts.rcpt = 5s;
    o.timeouts.data_initiation = o.timeouts.data = 5s;
    o.timeouts.rset = o.timeouts.quit = 2s;
    return o;
}

Peer unix_peer(const std::filesystem::path& socket) {
    return lmtp_peer(config::parse_lmtp_address("unix:" + socket.string()));
}

TEST(LmtpCourier, DeliversTheMessageAsQueuedToOneMailbox) {
    TempDir dir;
    const auto socket = dir.path() / "lmtp";
    LmtpSink sink("unix:" + socket.string(), dir.path());
    ASSERT_TRUE(sink.ready());
    LmtpCourier courier(unix_peer(socket), fast_options());
    const DeliveryOutcome got = courier.deliver(queued(), "bob@example.test");
    EXPECT_EQ(got.status, DeliveryStatus::delivered) << got.detail;
    EXPECT_EQ(got.reply.code, 250);
    EXPECT_NE(got.detail.find(socket.string()), std::string::npos) << "got detail " << got.detail;
    sink.stop();
    const std::string dump = dumps(dir.path());
    EXPECT_NE(dump.find("X-Client-Proto: LMTP\n"), std::string::npos) << dump;
    EXPECT_NE(dump.find("X-Helo-Args: mx.example.test\n"), std::string::npos) << dump;
    EXPECT_NE(dump.find("X-Mail-Args: <alice@example.org>"), std::string::npos) << dump;
    EXPECT_NE(dump.find("X-Rcpt-Args: <bob@example.test>\n"), std::string::npos) << dump;
    EXPECT_NE(dump.find("\nSubject: hi\n\nhello\n.leading dot\n"), std::string::npos) << "dot-stuffing undone: " << dump;
    EXPECT_EQ(dump.find("Return-Path:"), std::string::npos) << "the mail store adds Return-Path itself: " << dump;
    EXPECT_EQ(dump.find("Delivered-To:"), std::string::npos) << "the mail store adds Delivered-To itself: " << dump;
}

TEST(LmtpCourier, NullSenderIsSentAsEmptyReversePath) {
    TempDir dir;
    const auto socket = dir.path() / "lmtp";
    LmtpSink sink("unix:" + socket.string(), dir.path());
    ASSERT_TRUE(sink.ready());
    LmtpCourier courier(unix_peer(socket), fast_options());
    EXPECT_EQ(courier.deliver(queued(""), "bob@example.test").status, DeliveryStatus::delivered);
    sink.stop();
    EXPECT_NE(dumps(dir.path()).find("X-Mail-Args: <>"), std::string::npos) << dumps(dir.path());
}

// RFC 2033 4.2: the verdict for a recipient is the reply after the final dot
// (or its RCPT reply when refused there).
TEST(LmtpCourier, OutcomeFollowsTheServersReply) {
    const struct {
        std::string name;
        std::vector<std::string> sink_options;
        DeliveryStatus want;
        int want_code;
    } cases[] = {
        {"4xx after the dot (quota)", {"-r", ".", "-b", "452 4.2.2 Mailbox full"}, DeliveryStatus::temporary, 452},
        {"5xx after the dot", {"-f", ".", "-B", "552 5.2.2 Mailbox full for good"}, DeliveryStatus::permanent, 552},
        {"4xx at RCPT", {"-r", "RCPT", "-b", "451 4.3.0 Temporary internal error"}, DeliveryStatus::temporary, 451},
        {"5xx at RCPT (no such user)", {"-f", "RCPT", "-B", "550 5.1.1 User doesn't exist"}, DeliveryStatus::permanent,
         550},
        {"5xx at MAIL", {"-f", "MAIL", "-B", "553 5.1.8 Sender refused"}, DeliveryStatus::permanent, 553},
    };
    for (const auto& c : cases) {
        TempDir dir;
        const auto socket = dir.path() / "lmtp";
        LmtpSink sink("unix:" + socket.string(), dir.path(), c.sink_options);
        ASSERT_TRUE(sink.ready()) << c.name;
        LmtpCourier courier(unix_peer(socket), fast_options());
        const DeliveryOutcome got = courier.deliver(queued(), "bob@example.test");
        EXPECT_EQ(got.status, c.want) << c.name << ": got " << to_string(got.status) << " (" << got.detail << ")";
        EXPECT_EQ(got.reply.code, c.want_code) << c.name << ": " << got.detail;
    }
}

TEST(LmtpCourier, UnreachableOrRefusingServerIsTemporary) {
    TempDir dir;
    {
        LmtpCourier courier(unix_peer(dir.path() / "absent"), fast_options());
        const DeliveryOutcome got = courier.deliver(queued(), "bob@example.test");
        EXPECT_EQ(got.status, DeliveryStatus::temporary) << got.detail;
        EXPECT_NE(got.detail.find((dir.path() / "absent").string()), std::string::npos) << got.detail;
    }
    {
        // A 5xx to LHLO is the operator's configuration, not the recipient's fault: keep the mail.
        const auto socket = dir.path() / "lmtp";
        LmtpSink sink("unix:" + socket.string(), dir.path(), {"-f", "LHLO"});
        ASSERT_TRUE(sink.ready());
        LmtpCourier courier(unix_peer(socket), fast_options());
        const DeliveryOutcome got = courier.deliver(queued(), "bob@example.test");
        EXPECT_EQ(got.status, DeliveryStatus::temporary) << got.detail;
    }
}

TEST(LmtpCourier, TcpAddress) {
    TempDir dir;
    std::unique_ptr<LmtpSink> sink;
    std::uint16_t port = 0;
    for (int attempt = 0; attempt < 5 && !(sink && sink->ready()); ++attempt) {
        port = unused_port();
        sink = std::make_unique<LmtpSink>("127.0.0.1:" + std::to_string(port), dir.path());
    }
    ASSERT_TRUE(sink->ready());
    const Peer peer = lmtp_peer(config::parse_lmtp_address("127.0.0.1:" + std::to_string(port)));
    EXPECT_EQ(peer.address, "127.0.0.1");
    EXPECT_EQ(peer.port, port);
    EXPECT_TRUE(peer.unix_socket.empty());
    LmtpCourier courier(peer, fast_options());
    const DeliveryOutcome got = courier.deliver(queued(), "bob@example.test");
    EXPECT_EQ(got.status, DeliveryStatus::delivered) << got.detail;
}

TEST(LmtpCourier, KeepsAConnectionAndReplacesOneTheServerClosed) {
    TempDir dir;
    const auto socket = dir.path() / "lmtp";
    auto sink = std::make_unique<LmtpSink>("unix:" + socket.string(), dir.path());
    ASSERT_TRUE(sink->ready());
    LmtpCourier courier(unix_peer(socket), fast_options());
    const DeliveryOutcome first = courier.deliver(queued(), "bob@example.test");
    EXPECT_EQ(first.status, DeliveryStatus::delivered) << first.detail;
    EXPECT_EQ(courier.idle(), 1u) << "the connection is kept for the next copy";
    EXPECT_EQ(courier.deliver(queued(), "carol@example.test").status, DeliveryStatus::delivered);
    EXPECT_EQ(courier.idle(), 1u) << "and reused, not a second one opened";

    // The server restarts while the connection is idle: the next copy goes out
    // on a fresh connection instead of being deferred.
    sink.reset();
    sink = std::make_unique<LmtpSink>("unix:" + socket.string(), dir.path());
    ASSERT_TRUE(sink->ready());
    const DeliveryOutcome got = courier.deliver(queued(), "dave@example.test");
    EXPECT_EQ(got.status, DeliveryStatus::delivered) << got.detail;
    sink->stop();
    EXPECT_NE(dumps(dir.path()).find("X-Rcpt-Args: <dave@example.test>"), std::string::npos);
}

TEST(LmtpCourier, ReuseTimeZeroClosesAfterEachCopy) {
    TempDir dir;
    const auto socket = dir.path() / "lmtp";
    LmtpSink sink("unix:" + socket.string(), dir.path());
    ASSERT_TRUE(sink.ready());
    LmtpOptions options = fast_options();
    options.reuse_time = 0ms;
    LmtpCourier courier(unix_peer(socket), options);
    EXPECT_EQ(courier.deliver(queued(), "bob@example.test").status, DeliveryStatus::delivered);
    EXPECT_EQ(courier.idle(), 0u);
}

TEST(LmtpCourier, OptionsComeFromTheDeliveryKeys) {
    config::Config config;
    config.hostname = "mx.example.org";
    config.delivery.connect_timeout = 7s;
    config.delivery.command_timeout = 11s;
    config.delivery.data_timeout = 13s;
    config.delivery.connection_reuse_time = 3s;
    config.delivery.local_concurrency = 6;
    const LmtpOptions got = lmtp_options(config);
    EXPECT_EQ(got.lhlo_name, "mx.example.org");
    EXPECT_EQ(got.timeouts.connect, 7s);
    EXPECT_EQ(got.timeouts.rcpt, 11s);
    EXPECT_EQ(got.timeouts.data, 13s);
    EXPECT_EQ(got.reuse_time, 3s);
    EXPECT_EQ(got.idle_connections, 6u);
}

}  // namespace
}  // namespace cartero::delivery
