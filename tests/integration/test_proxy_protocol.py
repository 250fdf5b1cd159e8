"""PROXY protocol (issue 12, section 1): cartero behind a real HAProxy (Debian's) sees,
limits and logs the real client address — v1 on the MX port, v2 on the implicit-TLS
port — and refuses a PROXY header from an address not in listener.proxy_from, a missing
header, and one that never arrives."""
import shutil
import smtplib
import socket
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

HAPROXY = shutil.which("haproxy")
ALICE, ALICE_PW = "alice@example.test", "alice-Secret-1"
BOB = "bob@example.test"


def haproxy_config(frontends: dict[int, tuple[int, str]]) -> str:
    """frontend port -> (cartero port, "send-proxy" or "send-proxy-v2")."""
    text = ("defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n")
    for index, (front, (back, option)) in enumerate(frontends.items()):
        text += (f"frontend f{index}\n  bind 127.0.0.1:{front}\n  default_backend b{index}\n"
                 f"backend b{index}\n  server cartero 127.0.0.1:{back} {option}\n")
    return text


def answer(s: socket.socket) -> bytes:
    """What the server says before it closes; b"" for a close or a reset (closing with
    the client's unread octets in the buffer makes the kernel send a reset)."""
    try:
        return s.recv(100)
    except ConnectionResetError:
        return b""


@unittest.skipUnless(HAPROXY, "haproxy is not installed (scripts/install-deps test)")
class ProxyProtocolTest(unittest.TestCase):
    srv: h.Server
    haproxy: subprocess.Popen

    @classmethod
    def setUpClass(cls):
        cfg = {"limits": {"connections_per_ip": 1, "proxy_header_timeout": "1s"}}
        cls.srv = h.Server(config=cfg, users={ALICE: ALICE_PW, BOB: "bob-pw-1234"}, start=False, name="proxy")
        for listener in cls.srv.config["listener"]:
            if listener["role"] in ("mx", "submissions"):
                listener["proxy_protocol"] = True
                listener["proxy_from"] = ["127.0.0.1/32"]
        cls.srv.write_config()
        cls.srv.start()
        cls.front_mx, cls.front_smtps = h.free_port(), h.free_port()
        config = cls.srv.tmp / "haproxy.cfg"
        config.write_text(haproxy_config({cls.front_mx: (cls.srv.port("mx"), "send-proxy"),
                                          cls.front_smtps: (cls.srv.port("submissions"), "send-proxy-v2")}))
        cls.haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
        for port in (cls.front_mx, cls.front_smtps):
            if not h.wait_port(port, time.monotonic() + 10):
                cls.tearDownClass()
                raise RuntimeError("haproxy did not start")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "haproxy", None) is not None:
            cls.haproxy.terminate()
            cls.haproxy.wait(10)
        cls.srv.__exit__(None, None, None)

    def through_haproxy(self, source: str) -> h.RawClient:
        return h.RawClient(self.front_mx, source=source, timeout=10)

    def test_v1_on_mx_logs_and_stamps_the_real_client(self):
        token = "proxied-mx-token"
        with self.through_haproxy("127.0.0.2") as c:
            self.assertEqual(c.reply().code, 220)
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<someone@remote.test>").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{BOB}>").code, 250)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(h.make_message(subject=token, sender="someone@remote.test", rcpt=BOB, token=token) + b".\r\n")
            self.assertEqual(c.reply().code, 250)
        self.srv.wait_log(r"connect from \[127\.0\.0\.2\]:\d+ to mx via proxy \[127\.0\.0\.1\]")
        delivered = h.wait_for_token(self.srv, BOB, token)
        self.assertIn("[127.0.0.2]", delivered.received)
        self.assertNotIn("[127.0.0.1]", delivered.received)

    def test_v2_on_implicit_tls_keeps_the_client_hello(self):
        token = "proxied-465-token"
        ctx = self.srv.client_context()
        with smtplib.SMTP_SSL("127.0.0.1", self.front_smtps, context=ctx, timeout=20,
                              source_address=("127.0.0.3", 0)) as s:
            s.login(ALICE, ALICE_PW)
            s.sendmail(ALICE, [BOB], h.make_message(subject=token, sender=ALICE, rcpt=BOB, token=token))
        self.srv.wait_log(r"connect from \[127\.0\.0\.3\]:\d+ to submissions via proxy \[127\.0\.0\.1\]")
        self.assertIn("[127.0.0.3]", h.wait_for_token(self.srv, BOB, token).received)

    def test_per_ip_limit_counts_the_real_client_not_the_proxy(self):
        # limits.connections_per_ip = 1: a second connection from 127.0.0.4 is refused,
        # one from 127.0.0.5 is not, though all come from HAProxy's 127.0.0.1.
        with self.through_haproxy("127.0.0.4") as first:
            self.assertEqual(first.reply().code, 220)
            with self.through_haproxy("127.0.0.4") as second:
                r = second.reply()
                self.assertEqual((r.code, r.enhanced), (421, "4.7.0"), r)
                self.assertIn("too many connections from 127.0.0.4", r.text)
            with self.through_haproxy("127.0.0.5") as other:
                self.assertEqual(other.reply().code, 220)

    def test_header_from_an_address_not_allowed_is_refused(self):
        port = self.srv.port("mx")
        with socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.6", 0), timeout=5) as s:
            s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 5555 25\r\n")
            self.assertEqual(answer(s), b"", "a peer outside proxy_from got an answer")
        self.srv.wait_log(r"refused connection from \[127\.0\.0\.6\] to mx: not a proxy allowed to send a PROXY "
                          r"header \(listener\.proxy_from\)")
        self.assertNotIn("connect from [192.0.2.1]", self.srv.log_text())

    def test_missing_or_late_header_is_refused(self):
        port = self.srv.port("mx")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"EHLO client.test\r\n")  # a client that bypassed the balancer
            self.assertEqual(answer(s), b"")
        self.srv.wait_log(r"refused connection from proxy \[127\.0\.0\.1\] to mx: no PROXY header")
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            self.assertEqual(answer(s), b"")  # nothing sent: closed after proxy_header_timeout
        self.assertLess(time.monotonic() - started, 4)
        self.srv.wait_log(r"no PROXY header within limits\.proxy_header_timeout")

    def test_listeners_without_proxy_protocol_are_unchanged(self):
        # From an address of its own: connections_per_ip is 1 here.
        with smtplib.SMTP("127.0.0.1", self.srv.port("submission"), timeout=20,
                          source_address=("127.0.0.7", 0)) as s:
            s.starttls(context=self.srv.client_context())
            s.login(ALICE, ALICE_PW)
            self.assertEqual(s.noop()[0], 250)
        self.srv.wait_log(r"connect from \[127\.0\.0\.7\]:\d+ to submission\n")


class ProxyConfigTest(unittest.TestCase):
    def test_proxy_protocol_without_proxy_from_is_refused(self):
        with h.Server(start=False, name="proxycfg") as srv:
            srv.config["listener"][0]["proxy_protocol"] = True
            srv.write_config()
            result = srv.cli("serve", check=False, timeout=30)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("listener.proxy_from: proxy_protocol = true needs the addresses of the proxies allowed "
                          "to send the header", result.stderr)


if __name__ == "__main__":
    unittest.main()
