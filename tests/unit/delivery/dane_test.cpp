// DANE (RFC 7672): the TLSA decision (dane.hpp) and the certificate check in
// the connection driver, through SmtpCourier with the zone resolver's answers
// marked DNSSEC-secure (set_secure) against a real SMTP server with STARTTLS
// (a few lines of Python's ssl, below): a pass is a delivered message, a
// refusal names the check. A full DNSSEC chain cannot be tested here (the test
// DNS server does not sign); see docs/mta-sts-dane.md.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "delivery/remote/dane.hpp"
#include "delivery/remote/smtp_courier.hpp"
#include "dns/zone_resolver.hpp"

extern char** environ;

namespace cartero::delivery {
namespace {

using namespace std::chrono_literals;

bool run(const std::string& command) { return std::system(("(" + command + ") >/dev/null 2>&1").c_str()) == 0; }

// A test CA, a leaf it issued for mx1.dane.test, and a self-signed certificate
// for "localhost" (a name no MX has).
struct Certificates {
    std::filesystem::path dir, ca, ca_key, leaf, leaf_key, leaf_chain, self, self_key;
    bool ok = false;

    explicit Certificates(const std::filesystem::path& d) : dir(d) {
        std::filesystem::create_directories(dir);
        ca = dir / "ca.pem", ca_key = dir / "ca.key", leaf = dir / "leaf.pem", leaf_key = dir / "leaf.key";
        leaf_chain = dir / "leaf-chain.pem";
        self = dir / "self.pem", self_key = dir / "self.key";
        const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
        const auto ext = dir / "leaf.ext";
        ok = run("openssl req -x509 " + ec + "-days 2 -subj /CN=dane-test-ca -addext basicConstraints=critical,CA:TRUE "
                 "-addext keyUsage=critical,keyCertSign -keyout " + ca_key.string() + " -out " + ca.string()) &&
             run("openssl req -x509 " + ec + "-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout " +
                 self_key.string() + " -out " + self.string()) &&
             run("openssl req " + ec + "-subj /CN=mx1.dane.test -keyout " + leaf_key.string() + " -out " +
                 (dir / "leaf.csr").string()) &&
             run("printf 'subjectAltName=DNS:mx1.dane.test\\n' > " + ext.string()) &&
             run("openssl x509 -req -days 2 -set_serial 7 -in " + (dir / "leaf.csr").string() + " -CA " + ca.string() +
                 " -CAkey " + ca_key.string() + " -extfile " + ext.string() + " -out " + leaf.string()) &&
             run("cat " + leaf.string() + " " + ca.string() + " > " + leaf_chain.string());
    }
};

// DER of the certificate (selector 0) or of its SubjectPublicKeyInfo (selector 1).
std::string der_of(const std::filesystem::path& pem, int selector) {
    std::FILE* f = std::fopen(pem.c_str(), "r");
    if (f == nullptr) return {};
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (cert == nullptr) return {};
    unsigned char* out = nullptr;
    const int n = selector == 0 ? i2d_X509(cert, &out) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &out);
    std::string der(reinterpret_cast<char*>(out), n > 0 ? static_cast<std::size_t>(n) : 0);
    OPENSSL_free(out);
    X509_free(cert);
    return der;
}

std::string sha256(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(md), len);
}

// A minimal SMTP server with STARTTLS (Python's ssl, /usr/bin/python3): the
// courier speaks STARTTLS to MX hosts, so the certificate is checked in a real
// SMTP dialogue; every message is accepted with 250. Serves connections one
// after another (the next MX may be the same server) until killed.
constexpr const char* smtp_server_script = R"PY(
import socket, ssl, sys
port_file, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
ls.settimeout(120)
with open(port_file + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)

def serve(sock):
    sock.sendall(b"220 dane-test ESMTP\r\n")
    tls, buf, data = False, b"", False
    while True:
        while b"\n" not in buf:
            d = sock.recv(4096)
            if not d:
                return
            buf += d
        line, buf = buf.split(b"\n", 1)
        line = line.rstrip(b"\r")
        if data:
            if line == b".":
                data = False
                sock.sendall(b"250 2.0.0 queued\r\n")
            continue
        cmd = line[:4].upper()
        if cmd == b"EHLO":
            sock.sendall(b"250 dane-test\r\n" if tls else b"250-dane-test\r\n250 STARTTLS\r\n")
        elif cmd == b"STAR":
            sock.sendall(b"220 2.0.0 go ahead\r\n")
            sock = ctx.wrap_socket(sock, server_side=True)
            tls, buf = True, b""
        elif cmd == b"DATA":
            data = True
            sock.sendall(b"354 go ahead\r\n")
        elif cmd == b"QUIT":
            sock.sendall(b"221 2.0.0 bye\r\n")
            return
        else:
            sock.sendall(b"250 2.0.0 ok\r\n")

for _ in range(100):
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        break
    conn.settimeout(10)
    try:
        serve(conn)
    except Exception:
        pass
    finally:
        conn.close()
)PY";

class SmtpTlsServer {
public:
    SmtpTlsServer(const std::filesystem::path& dir, const std::filesystem::path& cert, const std::filesystem::path& key) {
        const auto script = dir / "smtp_server.py";
        const auto port_file = dir / ("port-" + std::to_string(++serial_));
        std::filesystem::remove(port_file);
        std::ofstream(script, std::ios::trunc) << smtp_server_script;
        std::vector<std::string> args{"/usr/bin/python3", script.string(), port_file.string(), cert.string(), key.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = 0;
            return;
        }
        for (int i = 0; i < 200 && port_ == 0; ++i) {  // up to 10 s
            std::ifstream in(port_file);
            int port = 0;
            if (in >> port) port_ = static_cast<std::uint16_t>(port);
            else std::this_thread::sleep_for(50ms);
        }
    }
    ~SmtpTlsServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    bool running() const { return pid_ > 0 && port_ != 0; }
    std::uint16_t port() const { return port_; }

private:
    static inline int serial_ = 0;
    pid_t pid_ = 0;
    std::uint16_t port_ = 0;
};

dns::TlsaRecord tlsa(std::uint8_t usage, std::uint8_t selector, std::uint8_t matching, std::string data) {
    return dns::TlsaRecord{usage, selector, matching, std::move(data)};
}

// The courier's verdict for one message to bob@dane.test, whose MX hosts
// mx1 (10) and mx2 (20) both point at `port` on 127.0.0.1.
DeliveryOutcome deliver(dns::ZoneResolver& zone, std::uint16_t port, const std::filesystem::path& data_dir,
                    const std::vector<dns::TlsaRecord>& mx1, const std::vector<dns::TlsaRecord>& mx2 = {},
                    const std::string& first_mx = "mx1.dane.test") {
    zone.add_mx("dane.test", 10, first_mx).add_address(first_mx, "127.0.0.1");
    for (const auto& r : mx1) zone.add_tlsa(dane::tlsa_name(first_mx, port), r);
    if (!mx2.empty()) {
        zone.add_mx("dane.test", 20, "mx2.dane.test").add_address("mx2.dane.test", "127.0.0.1");
        for (const auto& r : mx2) zone.add_tlsa(dane::tlsa_name("mx2.dane.test", port), r);
    }
    config::Config config;
    config.hostname = "client.test";
    config.data_dir = data_dir;
    config.delivery.remote_port = port;
    config.delivery.command_timeout = 10s;
    config.delivery.connect_timeout = 5s;
    SmtpCourier courier(config, zone);
    spool::QueuedMessage message;
    message.id = "DANETEST";
    message.envelope.sender = "alice@example.org";
    message.envelope.recipients = {"bob@dane.test"};
    message.data = std::make_shared<const std::string>("Subject: hi\r\n\r\nhello\r\n");
    const auto outcomes = courier.deliver(message, "dane.test", {RemoteRecipient{0, "bob@dane.test"}});
    return outcomes.empty() ? DeliveryOutcome{DeliveryStatus::permanent, {}, "(no outcome)"} : outcomes[0];
}

class Dane : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("cartero-dane-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        certs_ = std::make_unique<Certificates>(dir_ / "pki");
        ASSERT_TRUE(certs_->ok) << "openssl could not make the test certificates";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
    std::unique_ptr<Certificates> certs_;
};

const std::string passed = "(delivered)";
constexpr const char* no_match = "DANE: no TLSA record matches the certificate";

TEST_F(Dane, CertificateCheckedAgainstSecureTlsaRecords) {
    const std::string self_spki = sha256(der_of(certs_->self, 1));
    const std::string self_cert = der_of(certs_->self, 0);
    const std::string ca_cert_digest = sha256(der_of(certs_->ca, 0));
    const std::string wrong(32, '\x42');
    struct Case {
        std::string name;
        bool leaf_from_ca;  // serve the CA-issued leaf for mx1.dane.test (with the CA in the chain)
        bool secure;
        std::vector<dns::TlsaRecord> mx1, mx2;
        std::string want;
    };
    const std::vector<Case> cases{
        {"DANE-EE SPKI SHA-256 matches (the name is not checked)", false, true, {tlsa(3, 1, 1, self_spki)}, {}, passed},
        {"DANE-EE full certificate matches", false, true, {tlsa(3, 0, 0, self_cert)}, {}, passed},
        {"DANE-EE mismatch", false, true, {tlsa(3, 1, 1, wrong)}, {}, no_match},
        {"one of several records matches", false, true, {tlsa(3, 1, 1, wrong), tlsa(3, 1, 1, self_spki)}, {}, passed},
        {"DANE-TA: the CA matches, the leaf names the MX host", true, true, {tlsa(2, 0, 1, ca_cert_digest)}, {}, passed},
        {"DANE-TA: the CA does not match", true, true, {tlsa(2, 0, 1, wrong)}, {}, no_match},
        {"mismatch on mx1: mx2 is tried (RFC 7672 2.2)", false, true, {tlsa(3, 1, 1, wrong)}, {tlsa(3, 1, 1, self_spki)},
         passed},
        {"insecure answers: TLSA ignored, opportunistic TLS", false, false, {tlsa(3, 1, 1, wrong)}, {}, passed},
        {"only unusable records (PKIX-EE): TLS without authentication", false, true, {tlsa(1, 1, 1, wrong)}, {}, passed},
    };
    for (const auto& c : cases) {
        SmtpTlsServer server(dir_, c.leaf_from_ca ? certs_->leaf_chain : certs_->self,
                             c.leaf_from_ca ? certs_->leaf_key : certs_->self_key);
        ASSERT_TRUE(server.running()) << c.name;
        dns::ZoneResolver zone;
        zone.set_secure(c.secure);
        const DeliveryOutcome got = deliver(zone, server.port(), dir_ / "data", c.mx1, c.mx2);
        if (c.want == passed) {
            EXPECT_EQ(got.status, DeliveryStatus::delivered) << c.name << ": got \"" << got.detail << "\", want delivered";
        } else {
            EXPECT_EQ(got.status, DeliveryStatus::temporary) << c.name;
            EXPECT_NE(got.detail.find(c.want), std::string::npos)
                << c.name << ": got \"" << got.detail << "\", want \"" << c.want << "\"";
        }
    }
}

TEST_F(Dane, DaneTaChecksTheMxHostName) {
    // The CA matches, but the leaf names mx1.dane.test and the MX host is
    // mx3.dane.test: DANE-TA checks the name (RFC 7672 3.1.2), DANE-EE does not.
    SmtpTlsServer server(dir_, certs_->leaf_chain, certs_->leaf_key);
    ASSERT_TRUE(server.running());
    dns::ZoneResolver zone;
    zone.set_secure(true);
    const DeliveryOutcome got = deliver(zone, server.port(), dir_ / "data", {tlsa(2, 0, 1, sha256(der_of(certs_->ca, 0)))},
                                        {}, "mx3.dane.test");
    EXPECT_EQ(got.status, DeliveryStatus::temporary);
    EXPECT_NE(got.detail.find("DANE: certificate verify failed: hostname mismatch"), std::string::npos) << got.detail;
    dns::ZoneResolver ee;
    ee.set_secure(true);
    const DeliveryOutcome ee_got =
        deliver(ee, server.port(), dir_ / "data", {tlsa(3, 1, 1, sha256(der_of(certs_->leaf, 1)))}, {}, "mx3.dane.test");
    EXPECT_EQ(ee_got.status, DeliveryStatus::delivered) << ee_got.detail;
}

TEST(DaneDecision, UsableRecordsAndLookups) {
    const std::string d32(32, 'a'), d64(64, 'b');
    const auto kept = dane::usable({tlsa(3, 1, 1, d32), tlsa(2, 0, 2, d64), tlsa(3, 0, 0, "cert"), tlsa(0, 1, 1, d32),
                                    tlsa(1, 1, 1, d32), tlsa(3, 2, 1, d32), tlsa(3, 1, 3, d32), tlsa(3, 1, 1, "short"),
                                    tlsa(3, 1, 2, d32), tlsa(3, 0, 0, "")});
    EXPECT_EQ(kept, (std::vector<dns::TlsaRecord>{tlsa(3, 1, 1, d32), tlsa(2, 0, 2, d64), tlsa(3, 0, 0, "cert")}));
    EXPECT_EQ(dane::tlsa_name("mx.example.com", 25), "_25._tcp.mx.example.com");

    dns::ZoneResolver zone;
    zone.add_tlsa("_25._tcp.mx.example.com", tlsa(3, 1, 1, d32));
    zone.add_tlsa("_25._tcp.pkix.example.com", tlsa(1, 1, 1, d32));
    zone.fail("_25._tcp.broken.example.com");
    EXPECT_EQ(dane::decide(zone, "mx.example.com", 25, true).kind, dane::Kind::none) << "insecure TLSA answer";
    const int before = zone.queries();
    EXPECT_EQ(dane::decide(zone, "mx.example.com", 25, false).kind, dane::Kind::none);
    EXPECT_EQ(zone.queries(), before) << "no TLSA question for a host found insecurely (RFC 7672 2.2.1)";
    zone.set_secure(true);
    const dane::Decision verify = dane::decide(zone, "mx.example.com", 25, true);
    EXPECT_EQ(verify.kind, dane::Kind::verify);
    EXPECT_EQ(verify.records.size(), 1u);
    EXPECT_EQ(dane::decide(zone, "pkix.example.com", 25, true).kind, dane::Kind::encrypt);
    EXPECT_EQ(dane::decide(zone, "none.example.com", 25, true).kind, dane::Kind::none);
    const dane::Decision failed = dane::decide(zone, "broken.example.com", 25, true);
    EXPECT_EQ(failed.kind, dane::Kind::unusable);
    EXPECT_NE(failed.reason.find("DANE: TLSA lookup of _25._tcp.broken.example.com failed"), std::string::npos)
        << failed.reason;
}

}  // namespace
}  // namespace cartero::delivery
