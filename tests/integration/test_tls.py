"""TLS (issue 2, section 3): STARTTLS injection (CVE-2011-0411), TLS 1.2 minimum,
no 220 in plaintext on the implicit-TLS port, no AUTH before TLS or on mx."""
import socket
import ssl
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ALICE, ALICE_PW = "alice@example.test", "alice-Secret-1"
BOB = "bob@example.test"


class TlsTest(unittest.TestCase):
    srv: h.Server

    @classmethod
    def setUpClass(cls):
        cfg = {"limits": {"auth_failures_before_delay": 100, "auth_failures_before_disconnect": 200}}
        cls.srv = h.Server(config=cfg, users={ALICE: ALICE_PW, BOB: "bob-pw-1234"}, name="tls")
        cls.srv.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    # ------------------------------------------------------------ STARTTLS injection
    def test_starttls_injection_mx(self):
        with self.srv.raw("mx") as c:
            c.reply()
            c.ehlo()
            c.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@remote.test>\r\n")
            r = c.reply()
            self.assertEqual((r.code, r.enhanced), (220, "2.0.0"), r)
            extra = c.nothing_pending(0.3)
            self.assertEqual(extra, b"", "server answered injected plaintext commands")
            c.starttls(self.srv.client_context())
            extra = c.nothing_pending(0.7)
            self.assertEqual(extra, b"", f"injected commands answered inside TLS: {extra!r}")
            # the session is back before EHLO: the injected MAIL did not run
            r = c.cmd(f"RCPT TO:<{BOB}>")
            self.assertEqual((r.code, r.enhanced), (503, "5.5.1"), r)
            r = c.ehlo()
            self.assertTrue(r.lines[0].startswith("250-"), r)

    def test_starttls_injection_cannot_authenticate(self):
        with self.srv.raw("submission") as c:
            c.reply()
            c.ehlo()
            c.send(b"STARTTLS\r\nAUTH PLAIN " + h.plain_blob(ALICE, ALICE_PW).encode() + b"\r\n")
            r = c.reply()
            self.assertEqual(r.code, 220, r)
            c.starttls(self.srv.client_context())
            self.assertEqual(c.nothing_pending(0.7), b"")
            r = c.ehlo()
            self.assertIn("AUTH PLAIN LOGIN", r.keywords(), "injected AUTH must not have authenticated")
            r = c.cmd(f"MAIL FROM:<{ALICE}>")
            self.assertEqual((r.code, r.enhanced), (530, "5.7.0"), r)

    def test_starttls_with_trailing_bytes_after_the_220_still_safe(self):
        """Bytes sent after the 220 but before the ClientHello corrupt the handshake; the
        server must fail the handshake, never treat them as a command."""
        with self.srv.raw("mx") as c:
            c.reply()
            c.ehlo()
            r = c.cmd("STARTTLS")
            self.assertEqual(r.code, 220)
            c.send(b"RSET\r\n")
            data = c.expect_closed(10)
            self.assertNotIn(b"250", data)

    # ------------------------------------------------------------ protocol versions
    def _handshake(self, role: str, ctx: ssl.SSLContext) -> str:
        if role == "submissions":
            with h.RawClient(self.srv.port(role), tls_context=ctx, timeout=10) as c:
                return c.sock.version()
        with self.srv.raw(role) as c:
            c.reply()
            c.ehlo()
            self.assertEqual(c.cmd("STARTTLS").code, 220)
            c.starttls(ctx)
            return c.sock.version()

    def test_tls_10_and_11_refused(self):
        ok, why = h.tls_versions_available()
        if not ok:
            self.skipTest(why)
        for role in ("submissions", "submission", "mx"):
            for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
                with self.subTest(role=role, version=version.name):
                    ctx = h.old_tls_client_context(self.srv.pki.ca_cert)
                    ctx.minimum_version = version
                    ctx.maximum_version = version
                    with self.assertRaises((ssl.SSLError, ConnectionError, h.ConnectionClosed, OSError),
                                           msg=f"{version.name} accepted on {role}"):
                        v = self._handshake(role, ctx)
                        print(f"negotiated {v}")

    def test_tls_12_and_13_accepted(self):
        for role in ("submissions", "submission", "mx"):
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                with self.subTest(role=role, version=version.name):
                    ctx = self.srv.client_context()
                    ctx.minimum_version = version
                    ctx.maximum_version = version
                    self.assertEqual(self._handshake(role, ctx), {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name])

    def test_plaintext_to_implicit_tls_port_gets_no_220(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port("submissions")), timeout=5)
        try:
            s.settimeout(1.0)
            try:
                early = s.recv(1024)
            except (socket.timeout, TimeoutError):
                early = b""
            self.assertFalse(early.startswith(b"220"), f"greeting in plaintext: {early!r}")
            s.sendall(b"EHLO client.test\r\n")
            got = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    chunk = s.recv(4096)
                except (socket.timeout, TimeoutError):
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                got += chunk
            self.assertNotIn(b"220", got)
            self.assertNotIn(b"250", got)
        finally:
            s.close()

    def test_presented_certificate_is_the_configured_one(self):
        with h.RawClient(self.srv.port("submissions"), tls_context=self.srv.client_context()) as c:
            self.assertEqual(c.sock.getpeercert(binary_form=True), h.leaf_der(self.srv.cert))
            self.assertEqual(c.reply().code, 220)

    # ------------------------------------------------------------ AUTH and TLS
    def test_auth_before_tls_refused_and_not_advertised(self):
        with self.srv.raw("submission") as c:
            c.reply()
            r = c.ehlo()
            self.assertIn("STARTTLS", r.keywords())
            self.assertFalse([k for k in r.keywords() if k.startswith("AUTH")], r)
            for cmd in ("AUTH PLAIN " + h.plain_blob(ALICE, ALICE_PW), "AUTH LOGIN", "AUTH PLAIN"):
                r = c.cmd(cmd)
                self.assertEqual((r.code, r.enhanced), (538, "5.7.11"), f"{cmd}: {r}")
            r = c.cmd(f"MAIL FROM:<{ALICE}>")
            self.assertEqual((r.code, r.enhanced), (530, "5.7.0"), r)

    def test_auth_on_mx_refused_even_with_tls(self):
        with self.srv.raw("mx") as c:
            c.reply()
            self.assertFalse([k for k in c.ehlo().keywords() if k.startswith("AUTH")])
            r = c.cmd("AUTH PLAIN " + h.plain_blob(ALICE, ALICE_PW))
            self.assertEqual((r.code, r.enhanced), (503, "5.5.1"), r)
            self.assertEqual(c.cmd("STARTTLS").code, 220)
            c.starttls(self.srv.client_context())
            self.assertFalse([k for k in c.ehlo().keywords() if k.startswith("AUTH")])
            r = c.cmd("AUTH PLAIN " + h.plain_blob(ALICE, ALICE_PW))
            self.assertEqual((r.code, r.enhanced), (503, "5.5.1"), r)

    def test_starttls_refused_on_submissions_and_twice(self):
        with self.srv.raw("submissions") as c:
            c.reply()
            self.assertNotIn("STARTTLS", c.ehlo().keywords())
            r = c.cmd("STARTTLS")
            self.assertIn((r.code, r.enhanced), {(503, "5.5.1"), (454, "4.7.0")}, r)


if __name__ == "__main__":
    unittest.main()
