// The libunbound resolver against a real DNS server on loopback
// (tests/support/dns_server.py, started per test suite on a run-time port):
// MX, A/AAAA, TXT over TCP fallback, TLSA, SERVFAIL, NXDOMAIN, NODATA, the
// timeout on a silent server, DNSSEC failure, several threads at once, and no
// output from libunbound on stderr.
#include "dns/unbound_resolver.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "dns/mx_order.hpp"

extern char** environ;

namespace cartero::dns {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto server_start_limit = 20s;

const char* const zones_json = R"({
  "example.test": {"MX": ["10 mx1.example.test", "20 mx2.example.test", "20 mx3.example.test"]},
  "mx1.example.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
  "mx2.example.test": {"A": "127.0.0.2"},
  "mx3.example.test": {"CNAME": "mx2.example.test"},
  "null.test": {"MX": "0 ."},
  "implicit.test": {"A": "127.0.0.3"},
  "exists.test": {},
  "broken.test": "SERVFAIL",
  "refused.test": "REFUSED",
  "silent.test": "TIMEOUT",
  "sel._domainkey.example.test": {"TXT": "v=DKIM1; k=rsa; p=KEY_PLACEHOLDER"},
  "_mta-sts.example.test": {"TXT": ["v=STSv1; id=20240101", "unrelated"]},
  "_25._tcp.mx1.example.test": {"TLSA": ["3 1 1 0123456789abcdef", [2, 0, 2, "ff"]]},
  "_submissions._tcp.example.test": {"SRV": ["0 1 465 mail.example.test", [5, 0, 465, "backup.example.test"]]},
  "_submission._tcp.example.test": {"SRV": "0 0 0 ."}
})";

// A 1,500-octet DKIM key: more than one UDP answer holds, so unbound must
// retry over TCP (RFC 7766), and more than 255 octets, so it is split into
// several character-strings.
std::string long_key() {
    std::string key;
    for (int i = 0; key.size() < 1500; ++i) key += static_cast<char>('A' + i % 26);
    return key;
}

// Spawns the Python server with a zone file; stops it on destruction. Closing
// its stdin also stops it (--until-stdin-closes), so a crashed test leaves
// nothing behind.
class PythonDnsServer {
public:
    PythonDnsServer() {
        zone_file_ = testing::TempDir() + "dns_zones_" + std::to_string(::getpid()) + ".json";
        std::string zones = zones_json;
        zones.replace(zones.find("KEY_PLACEHOLDER"), 15, long_key());
        std::ofstream(zone_file_) << zones;
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        std::string script = CARTERO_DNS_SERVER;
        const char* argv[] = {CARTERO_PYTHON, script.c_str(), zone_file_.c_str(), "--until-stdin-closes", nullptr};
        if (posix_spawn(&pid_, CARTERO_PYTHON, &actions, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        port_ = read_port(out[0]);
        ::close(out[0]);
    }

    ~PythonDnsServer() {
        if (stdin_ >= 0) ::close(stdin_);
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        std::remove(zone_file_.c_str());
    }

    int port() const { return port_; }

private:
    // The first line is "port N"; wait for it at most server_start_limit.
    static int read_port(int fd) {
        std::string line;
        const auto deadline = Clock::now() + server_start_limit;
        while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buffer[64];
            const auto n = ::read(fd, buffer, sizeof buffer);
            if (n <= 0) break;
            line.append(buffer, static_cast<std::size_t>(n));
        }
        if (!line.starts_with("port ")) return 0;
        return std::atoi(line.c_str() + 5);
    }

    std::string zone_file_;
    pid_t pid_ = -1;
    int stdin_ = -1;
    int port_ = 0;
};

class UnboundResolverTest : public testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new PythonDnsServer(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override { ASSERT_GT(server_->port(), 0) << "the test DNS server did not start"; }

    static std::unique_ptr<Resolver> resolver(std::chrono::milliseconds timeout = 5000ms) {
        return make_unbound_resolver({"127.0.0.1:" + std::to_string(server_->port()), "", timeout});
    }

    static PythonDnsServer* server_;
};
PythonDnsServer* UnboundResolverTest::server_ = nullptr;

TEST_F(UnboundResolverTest, MxStatuses) {
    auto dns = resolver();
    struct Case { std::string domain; Status want; bool null_mx; std::string error_part; };
    const Case cases[] = {
        {"example.test", Status::ok, false, ""},
        {"EXAMPLE.test.", Status::ok, false, ""},
        {"null.test", Status::ok, true, ""},
        {"implicit.test", Status::nodata, false, "no MX records"},
        {"exists.test", Status::nodata, false, "no MX records"},
        {"_domainkey.example.test", Status::nodata, false, "no MX records"},
        {"nowhere.test", Status::nxdomain, false, "does not exist"},
        {"broken.test", Status::temporary, false, "SERVFAIL"},
        {"refused.test", Status::temporary, false, ""},
        {"bad name.test", Status::nxdomain, false, "not a valid domain name"},
    };
    for (const auto& c : cases) {
        const auto got = dns->mx(c.domain);
        EXPECT_EQ(got.status, c.want) << c.domain << ": got " << to_string(got.status) << " (" << got.error
                                      << "), want " << to_string(c.want);
        EXPECT_EQ(got.null_mx, c.null_mx) << c.domain;
        EXPECT_FALSE(got.secure) << c.domain << ": no trust anchor, nothing is secure";
        EXPECT_NE(got.error.find(c.error_part), std::string::npos) << c.domain << ": error \"" << got.error << "\"";
    }
}

TEST_F(UnboundResolverTest, MxRecordsInDeliveryOrder) {
    auto dns = resolver();
    const auto answer = dns->mx("example.test");
    ASSERT_EQ(answer.status, Status::ok) << answer.error;
    auto records = answer.records;
    std::sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.host < b.host; });
    EXPECT_EQ(records, (std::vector<MxRecord>{{10, "mx1.example.test"}, {20, "mx2.example.test"}, {20, "mx3.example.test"}}));
    const auto hosts = order_mx("example.test", answer, [](std::size_t bound) { return bound - 1; });
    ASSERT_EQ(hosts.verdict, MxVerdict::ok);
    EXPECT_EQ(hosts.hosts.front().host, "mx1.example.test");
}

TEST_F(UnboundResolverTest, AddressesBothFamiliesAndCname) {
    auto dns = resolver();
    struct Case { std::string host; Status want; std::vector<std::string> v6, v4; };
    const Case cases[] = {
        {"mx1.example.test", Status::ok, {"::1"}, {"127.0.0.1"}},
        {"mx2.example.test", Status::ok, {}, {"127.0.0.2"}},
        {"mx3.example.test", Status::ok, {}, {"127.0.0.2"}},
        {"implicit.test", Status::ok, {}, {"127.0.0.3"}},
        {"exists.test", Status::nodata, {}, {}},
        {"nowhere.test", Status::nxdomain, {}, {}},
        {"broken.test", Status::temporary, {}, {}},
        {"127.0.0.9", Status::ok, {}, {"127.0.0.9"}},
    };
    for (const auto& c : cases) {
        const auto got = dns->addresses(c.host);
        EXPECT_EQ(got.status, c.want) << c.host << ": got " << to_string(got.status) << " (" << got.error << ")";
        std::vector<std::string> v6, v4;
        for (const auto& a : got.ipv6) v6.push_back(a.to_string());
        for (const auto& a : got.ipv4) v4.push_back(a.to_string());
        EXPECT_EQ(v6, c.v6) << c.host;
        EXPECT_EQ(v4, c.v4) << c.host;
    }
}

TEST_F(UnboundResolverTest, TxtLongRecordOverTcpAndSeveralRecords) {
    auto dns = resolver();
    const auto key = dns->txt("sel._domainkey.example.test");
    ASSERT_EQ(key.status, Status::ok) << key.error;
    ASSERT_EQ(key.records.size(), 1u);
    EXPECT_EQ(key.records[0], "v=DKIM1; k=rsa; p=" + long_key());
    auto sts = dns->txt("_mta-sts.example.test").records;
    std::sort(sts.begin(), sts.end());
    EXPECT_EQ(sts, (std::vector<std::string>{"unrelated", "v=STSv1; id=20240101"}));
    EXPECT_EQ(dns->txt("nowhere.test").status, Status::nxdomain);
}

TEST_F(UnboundResolverTest, Tlsa) {
    auto dns = resolver();
    const auto got = dns->tlsa("_25._tcp.mx1.example.test");
    ASSERT_EQ(got.status, Status::ok) << got.error;
    auto records = got.records;
    std::sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.usage < b.usage; });
    EXPECT_EQ(records, (std::vector<TlsaRecord>{{2, 0, 2, "\xff"}, {3, 1, 1, "\x01\x23\x45\x67\x89\xab\xcd\xef"}}));
    EXPECT_FALSE(got.secure);
    EXPECT_EQ(dns->tlsa("_25._tcp.mx2.example.test").status, Status::nxdomain);
}

TEST_F(UnboundResolverTest, Srv) {
    auto dns = resolver();
    const auto got = dns->srv("_submissions._tcp.example.test");
    ASSERT_EQ(got.status, Status::ok) << got.error;
    auto records = got.records;
    std::sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.priority < b.priority; });
    EXPECT_EQ(records, (std::vector<SrvRecord>{{0, 1, 465, "mail.example.test"}, {5, 0, 465, "backup.example.test"}}));
    EXPECT_EQ(dns->srv("_submission._tcp.example.test").records, (std::vector<SrvRecord>{{0, 0, 0, "."}}));
    EXPECT_EQ(dns->srv("_imaps._tcp.example.test").status, Status::nxdomain);
}

TEST_F(UnboundResolverTest, SilentServerAnswersTemporaryWithinTheTimeout) {
    auto dns = resolver(700ms);
    const auto start = Clock::now();
    const auto got = dns->mx("silent.test");
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(got.status, Status::temporary) << got.error;
    EXPECT_NE(got.error.find("within 700 ms"), std::string::npos) << got.error;
    EXPECT_LT(elapsed, 1500ms);
    // The resolver stays usable after a cancelled question.
    EXPECT_EQ(dns->mx("example.test").status, Status::ok);
}

TEST(UnboundResolver, UnreachableServerIsTemporaryWithinTheTimeoutAndQuiet) {
    // A UDP socket that never answers (and no TCP listener on its port).
    const int hole = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(hole, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(::getsockname(hole, reinterpret_cast<sockaddr*>(&address), &length), 0);
    testing::internal::CaptureStderr();
    {
        auto dns = make_unbound_resolver({"127.0.0.1:" + std::to_string(ntohs(address.sin_port)), "", 500ms});
        const auto start = Clock::now();
        const auto got = dns->addresses("example.test");  // AAAA and A, one deadline
        const auto elapsed = Clock::now() - start;
        EXPECT_EQ(got.status, Status::temporary) << got.error;
        EXPECT_GE(elapsed, 450ms) << "nothing answered, so the whole timeout passed";
        EXPECT_LT(elapsed, 900ms);
    }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << "libunbound must not write to stderr";
    ::close(hole);
}

TEST_F(UnboundResolverTest, BogusDnssecIsTemporary) {
    // A trust anchor for example.test that the (unsigned) test zone cannot
    // satisfy: every answer below it is bogus (RFC 4035 5.5), never ok.
    const auto anchor = testing::TempDir() + "dns_anchor_" + std::to_string(::getpid());
    std::ofstream(anchor) << "example.test. IN DS 12345 13 2 "
                             "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n";
    testing::internal::CaptureStderr();
    {
        auto dns = make_unbound_resolver({"127.0.0.1:" + std::to_string(server_->port()), anchor, 5000ms});
        const auto got = dns->mx("example.test");
        EXPECT_EQ(got.status, Status::temporary) << to_string(got.status) << " " << got.error;
        EXPECT_NE(got.error.find("DNSSEC"), std::string::npos) << got.error;
        EXPECT_FALSE(got.secure);
        // Outside the anchored zone nothing is secure, and nothing is bogus.
        EXPECT_EQ(dns->mx("null.test").status, Status::ok);
    }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    std::remove(anchor.c_str());
}

TEST_F(UnboundResolverTest, SeveralThreadsAtOnce) {
    auto dns = resolver();
    constexpr int threads = 6;
    constexpr int rounds = 15;
    std::atomic<int> wrong{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < rounds; ++i) {
                const bool mx = (t + i) % 2 == 0;
                if (mx ? dns->mx("example.test").records.size() != 3
                       : dns->addresses("mx2.example.test").ipv4.size() != 1) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(ParseForwarders, Forms) {
    struct Case { std::string in; std::vector<std::string> want; };
    const Case cases[] = {
        {"127.0.0.1", {"127.0.0.1"}},
        {"127.0.0.1:5353", {"127.0.0.1@5353"}},
        {"::1", {"::1"}},
        {"[::1]:5353", {"::1@5353"}},
        {"[2001:db8::53]", {"2001:db8::53"}},
        {"192.0.2.1, 192.0.2.2:53", {"192.0.2.1", "192.0.2.2@53"}},
    };
    for (const auto& c : cases) EXPECT_EQ(parse_forwarders(c.in), c.want) << c.in;
    for (const std::string bad : {"", " , ", "dns.example", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x",
                                  "[::1", "[::1]x", "1.2.3.4:53:53", "fe80::1%lo"}) {
        EXPECT_THROW(parse_forwarders(bad), std::invalid_argument) << "\"" << bad << "\"";
    }
}

TEST(MakeUnboundResolver, RefusesBadOptions) {
    EXPECT_THROW(make_unbound_resolver({"127.0.0.1", "", 0ms}), std::invalid_argument);
    EXPECT_THROW(make_unbound_resolver({"127.0.0.1", "/nonexistent/root.key", 1000ms}), std::invalid_argument);
    EXPECT_THROW(make_unbound_resolver({"not an address", "", 1000ms}), std::invalid_argument);
    EXPECT_NO_THROW(make_unbound_resolver({"recursive", "", 1000ms}));
}

}  // namespace
}  // namespace cartero::dns
