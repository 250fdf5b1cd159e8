"""Self-checks of the harness pieces that do not need cartero: PKI, ports, TOML,
Maildir trace parsing, the raw reply reader, app-password parsing."""
import socket
import ssl
import subprocess
import tempfile
import threading
import tomllib
import unittest
from pathlib import Path

import cartero_harness as h


class PKITest(unittest.TestCase):
    def test_issued_cert_verifies_and_serves_tls(self):
        with tempfile.TemporaryDirectory() as d:
            pki = h.TestPKI(Path(d))
            crt, key = pki.issue("a")
            r = subprocess.run(["openssl", "verify", "-CAfile", str(pki.ca_cert), str(crt)],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            crt2, _ = pki.issue("b")
            self.assertNotEqual(h.leaf_der(crt), h.leaf_der(crt2))
            # a real handshake with hostname check against 127.0.0.1 (IP SAN)
            sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            sctx.load_cert_chain(crt, key)
            ls = socket.socket()
            ls.bind(("127.0.0.1", 0))
            ls.listen(1)

            def serve():
                c, _ = ls.accept()
                with sctx.wrap_socket(c, server_side=True) as s:
                    s.sendall(b"220 hi\r\n")
                    s.recv(10)
            t = threading.Thread(target=serve)
            t.start()
            c = h.RawClient(ls.getsockname()[1], tls_context=pki.client_context())
            self.assertEqual(c.reply().code, 220)
            self.assertEqual(c.sock.getpeercert(binary_form=True), h.leaf_der(crt))
            c.send(b"x")
            c.close()
            t.join(5)
            ls.close()


class PortsTest(unittest.TestCase):
    def test_free_ports_distinct_and_bindable(self):
        ports = {h.free_port() for _ in range(20)}
        self.assertEqual(len(ports), 20)
        for p in ports:
            self.assertTrue(h.port_is_free(p))


class TomlTest(unittest.TestCase):
    def test_roundtrip(self):
        cfg = {"hostname": "mx.example.test", "data_dir": "/tmp/x \"q\"", "local_domains": ["a", "b"],
               "trusted_networks": [], "tls": {"cert": "/c", "key": "/k"},
               "limits": {"message_size": 100, "command_timeout": "1s"},
               "listener": [{"role": "mx", "address": "127.0.0.1:25"},
                            {"role": "submission", "address": "127.0.0.1:587"}]}
        parsed = tomllib.loads(h.to_toml(cfg))
        self.assertEqual(parsed, cfg)

    def test_deep_merge(self):
        m = h.deep_merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}, "b": None, "c": 4})
        self.assertEqual(m, {"a": {"x": 1, "y": 3}, "c": 4})


class TraceTest(unittest.TestCase):
    def test_split_trace(self):
        body = b"Received: from inner\r\nSubject: x\r\n\r\nhello\r\n"
        raw = (b"Return-Path: <a@b>\r\nDelivered-To: c@d\r\nReceived: from client.test (127.0.0.1)\r\n"
               b"\tby mx.example.test with ESMTPS id ABC123;\r\n\tThu, 26 Nov 2026 10:00:00 +0000\r\n") + body
        trace, rest = h.split_trace(raw)
        self.assertEqual(rest, body)
        self.assertEqual(trace["return-path"], "<a@b>")
        self.assertIn("ESMTPS id ABC123", trace["received"])

    def test_make_message_crlf(self):
        m = h.make_message(body="a\r\nb")
        self.assertTrue(m.endswith(b"\r\n"))
        self.assertNotIn(b"\n", m.replace(b"\r\n", b""))

    def test_queue_id(self):
        self.assertEqual(h.queue_id("2.0.0 Ok: queued as 4XyZ.01"), "4XyZ.01")


class RawReplyTest(unittest.TestCase):
    def _server(self, payload: bytes):
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)

        def serve():
            c, _ = ls.accept()
            for i in range(0, len(payload), 3):   # dribble to exercise reassembly
                c.sendall(payload[i:i + 3])
            c.close()
            ls.close()
        threading.Thread(target=serve, daemon=True).start()
        return ls.getsockname()[1]

    def test_multiline_and_close(self):
        port = self._server(b"220 hi ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n421 4.4.2 bye\r\n")
        c = h.RawClient(port)
        self.assertEqual(c.reply().code, 220)
        r = c.reply()
        self.assertEqual(r.keywords(), ["PIPELINING", "CHUNKING"])
        r = c.reply()
        self.assertEqual((r.code, r.enhanced), (421, "4.4.2"))
        c.expect_closed(2)
        c.close()

    def test_timeout(self):
        port = self._server(b"220 partial")
        c = h.RawClient(port)
        with self.assertRaises((h.ReplyTimeout, h.ConnectionClosed)):
            c.reply(0.5)
        c.close()


class AppPasswordTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(h.parse_app_password("App password for phone (shown once):\n  abcd efgh ijkl mnop\n"),
                         "abcdefghijklmnop")
        self.assertEqual(h.parse_app_password("password: abcd-efgh-ijkl-mnop"), "abcdefghijklmnop")
        self.assertEqual(h.parse_app_password("this will only show once\nabcdefghijklmnop\n"),
                         "abcdefghijklmnop")


if __name__ == "__main__":
    unittest.main()
