"""SMTP smuggling (CVE-2023-51764/5/6, CVE-2023-52354) and bare CR/LF in DATA/BDAT.

A DATA body ends only at <CRLF>.<CRLF>. Each lenient end-of-data variant is embedded
before a smuggled MAIL/RCPT/DATA; cartero must not end DATA early, must reject the
message (550 5.6.x) and must never run the smuggled commands."""
import os
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

BOB = "bob@example.test"
CAROL = "carol@example.test"

VARIANTS = {
    "lf_dot_lf": b"\n.\n",
    "lf_dot_crlf": b"\n.\r\n",
    "cr_dot_cr": b"\r.\r",
    "crlf_dot_lf": b"\r\n.\n",
    "crlf_dot_cr": b"\r\n.\r",
    "cr_dot_crlf": b"\r.\r\n",
    "lf_dot_cr": b"\n.\r",
}


class SmugglingTest(unittest.TestCase):
    srv: h.Server

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(users={BOB: "bob-pw-1234", CAROL: "carol-pw-1234"}, name="smuggle")
        cls.srv.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def _smuggle(self, c: h.RawClient, variant: bytes, outer: str, inner: str):
        c.send(f"MAIL FROM:<outer@remote.test>\r\nRCPT TO:<{BOB}>\r\nDATA\r\n".encode())
        rs = c.replies(3)
        self.assertEqual([r.code for r in rs], [250, 250, 354], rs)
        payload = (f"From: outer@remote.test\r\nSubject: {outer}\r\n\r\nouter body".encode() + variant +
                   f"MAIL FROM:<admin@example.test>\r\nRCPT TO:<{CAROL}>\r\nDATA\r\n"
                   f"From: admin@example.test\r\nSubject: {inner}\r\n\r\nsmuggled\r\n".encode() +
                   b"\r\n.\r\n")
        c.send(payload)
        return c.reply(10)

    def test_every_variant_rejected_and_never_executed(self):
        for name, variant in VARIANTS.items():
            with self.subTest(variant=name):
                outer, inner = "outer" + os.urandom(6).hex(), "inner" + os.urandom(6).hex()
                with self.srv.raw("mx") as c:
                    c.reply()
                    c.ehlo()
                    r = self._smuggle(c, variant, outer, inner)
                    self.assertEqual(r.code, 550, f"{name}: {r}")
                    self.assertTrue(r.enhanced.startswith("5.6."), r)
                    # nothing else was answered: no 250 for the smuggled MAIL/RCPT, no 354
                    try:
                        extra = c.nothing_pending(0.5)
                    except Exception:  # noqa: BLE001
                        extra = b""
                    self.assertEqual(extra, b"", f"{name}: extra replies {extra!r}")
                    # still in a sane state (or closed, as chasquid does)
                    try:
                        r2 = c.cmd("NOOP", timeout=3)
                        self.assertEqual(r2.code, 250, r2)
                    except h.ConnectionClosed:
                        pass
        time.sleep(1.0)
        for addr in (BOB, CAROL):
            for d in self.srv.maildir_messages(addr):
                self.assertNotIn(b"inner", d.body, f"smuggled message delivered to {addr}")
                self.assertNotIn(b"outer", d.body, f"smuggling carrier delivered to {addr}")

    def test_bare_lf_and_bare_cr_in_body(self):
        for name, body in {"bare_lf": b"line one\nline two\r\n", "bare_cr": b"line one\rline two\r\n",
                           "lf_at_end": b"x\r\nlast\n"}.items():
            with self.subTest(kind=name):
                t = "tok" + os.urandom(6).hex()
                with self.srv.raw("mx") as c:
                    c.reply()
                    c.ehlo()
                    c.send(f"MAIL FROM:<o@remote.test>\r\nRCPT TO:<{BOB}>\r\nDATA\r\n".encode())
                    c.replies(3)
                    c.send(f"Subject: {t}\r\n\r\n".encode() + body + b"\r\n.\r\n")
                    r = c.reply(10)
                    self.assertEqual((r.code, r.enhanced), (550, "5.6.0"), r)
                    self.assertIn("bare", r.last.lower())
                time.sleep(0.3)
                self.assertEqual(h.find_by_token(self.srv, BOB, t), [])

    def test_bdat_with_bare_lf_rejected(self):
        t = "tok" + os.urandom(6).hex()
        with self.srv.raw("mx") as c:
            c.reply()
            c.ehlo()
            c.send(f"MAIL FROM:<o@remote.test>\r\nRCPT TO:<{BOB}>\r\n".encode())
            c.replies(2)
            chunk = f"Subject: {t}\r\n\r\nx\n.\nMAIL FROM:<a@b.test>\r\n".encode()
            c.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk)
            r = c.reply(10)
            self.assertEqual(r.code, 550, r)
            self.assertTrue(r.enhanced.startswith("5.6."), r)
            self.assertEqual(c.nothing_pending(0.5), b"")
        time.sleep(0.3)
        self.assertEqual(h.find_by_token(self.srv, BOB, t), [])

    def test_proper_crlf_dot_crlf_inside_line_is_data(self):
        """Control: '.' inside a line, and '..' stuffed lines, are normal data and delivered."""
        t = "tok" + os.urandom(6).hex()
        with self.srv.raw("mx") as c:
            c.reply()
            c.ehlo()
            c.send(f"MAIL FROM:<o@remote.test>\r\nRCPT TO:<{BOB}>\r\nDATA\r\n".encode())
            c.replies(3)
            c.send(f"Subject: {t}\r\n\r\na . b\r\n..stuffed\r\n .\r\n".encode() + b".\r\n")
            r = c.reply(10)
            self.assertEqual(r.code, 250, r)
        d = h.wait_for_token(self.srv, BOB, t)
        self.assertEqual(d.body, f"Subject: {t}\r\n\r\na . b\r\n.stuffed\r\n .\r\n".encode())


if __name__ == "__main__":
    unittest.main()
