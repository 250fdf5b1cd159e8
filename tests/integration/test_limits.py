"""Every [limits] value crossed by a test (issue 2, section 4; STYLE.md rule 6):
line length, message size (SIZE= and data), recipients, messages per session, NUL bytes,
bad commands, command/data/session timeouts, connections per IP; a slow but legal client."""
import os
import socket
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

BOB = "bob@example.test"
USERS = {BOB: "bob-pw-1234", "carol@example.test": "carol-pw-1234", "dave@example.test": "dave-pw-1234",
         "erin@example.test": "erin-pw-1234"}


def tok() -> str:
    return "tok" + os.urandom(8).hex()


def mx_session(srv: h.Server) -> h.RawClient:
    c = srv.raw("mx")
    r = c.reply()
    assert r.code == 220, r
    c.ehlo()
    return c


def send_data(c: h.RawClient, msg: bytes, rcpts=(BOB,), sender="x@remote.test") -> h.Reply:
    assert c.cmd(f"MAIL FROM:<{sender}>").code == 250
    for r in rcpts:
        rr = c.cmd(f"RCPT TO:<{r}>")
        assert rr.code == 250, rr
    r = c.cmd("DATA")
    assert r.code == 354, r
    c.send(msg + b".\r\n")
    return c.reply(30)


class ReceivingMemoryTest(unittest.TestCase):
    """limits.receiving_memory: messages in flight are bounded in total; a message that
    outgrows the budget is read to its end and refused 452 4.3.1, and the budget is
    given back, so the next (small) message on the same session is accepted."""

    def test_message_past_the_budget_is_refused_then_budget_returns(self):
        with h.Server(config={"limits": {"receiving_memory": 65536}}, users=USERS, name="budget") as srv:
            t = tok()
            big = h.make_message(token=t, body=(b"m" * 998 + b"\r\n") * 80)
            self.assertGreater(len(big), 65536)
            with mx_session(srv) as c:
                r = send_data(c, big)
                self.assertEqual((r.code, r.enhanced), (452, "4.3.1"), r)
                t2 = tok()
                r = send_data(c, h.make_message(token=t2))
                self.assertEqual(r.code, 250, r)
                r = send_data(c, h.make_message(token=tok()))
                self.assertEqual(r.code, 250, "the budget was not given back after a commit")
            h.wait_for_token(srv, BOB, t2)
            self.assertEqual(h.find_by_token(srv, BOB, t), [], "refused message was delivered")


class SizeAndCountLimitsTest(unittest.TestCase):
    srv: h.Server

    @classmethod
    def setUpClass(cls):
        cfg = {"limits": {"message_size": 100000, "recipients_per_message": 3, "command_line_length": 512,
                          "messages_per_session": 3}}
        cls.srv = h.Server(config=cfg, users=USERS, name="limits")
        cls.srv.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def test_ehlo_advertises_size(self):
        with mx_session(self.srv) as c:
            self.assertIn("SIZE 100000", c.ehlo().keywords())

    def test_command_line_too_long(self):
        with mx_session(self.srv) as c:
            r = c.cmd("NOOP " + "x" * 600)
            self.assertEqual((r.code, r.enhanced), (500, "5.5.2"), r)
            # the rest of that line was discarded, the session goes on
            self.assertEqual(c.cmd("NOOP").code, 250)
            r = c.cmd(f"MAIL FROM:<{'a' * 600}@remote.test>")
            self.assertEqual((r.code, r.enhanced), (500, "5.5.2"), r)
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250, "the long MAIL changed state")

    def test_huge_line_without_newline_is_bounded(self):
        """chasquid 1.2 DoS class: a multi-megabyte line must not be buffered without bound."""
        with mx_session(self.srv) as c:
            sent = 0
            chunk = b"A" * 65536
            try:
                while sent < 8 * 1024 * 1024:
                    c.sock.settimeout(10)
                    c.sock.sendall(chunk)
                    sent += len(chunk)
                c.send(b"\r\n")
                r = c.reply(15)
                self.assertEqual((r.code, r.enhanced), (500, "5.5.2"), r)
                self.assertEqual(c.cmd("NOOP").code, 250)
            except (h.ConnectionClosed, ConnectionResetError, BrokenPipeError):
                pass   # closing the connection is also a bounded answer
        self.assertTrue(self.srv.running())
        with mx_session(self.srv) as c:
            self.assertEqual(c.cmd("NOOP").code, 250)

    def test_size_parameter_over_limit(self):
        with mx_session(self.srv) as c:
            r = c.cmd("MAIL FROM:<x@remote.test> SIZE=100001")
            self.assertEqual((r.code, r.enhanced), (552, "5.3.4"), r)
            r = c.cmd("MAIL FROM:<x@remote.test> SIZE=99999999999999999999999")
            self.assertEqual(r.code // 100, 5, r)
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test> SIZE=1000").code, 250)

    def test_message_over_limit_by_data(self):
        t = tok()
        big = h.make_message(token=t, body=(b"y" * 998 + b"\r\n") * 120)
        self.assertGreater(len(big), 100000)
        with mx_session(self.srv) as c:
            r = send_data(c, big)
            self.assertEqual((r.code, r.enhanced), (552, "5.3.4"), r)
            # session still usable, a small message goes through
            t2 = tok()
            small = h.make_message(token=t2)
            r = send_data(c, small)
            self.assertEqual(r.code, 250, r)
        h.wait_for_token(self.srv, BOB, t2)
        self.assertEqual(h.find_by_token(self.srv, BOB, t), [], "oversized message was delivered")

    def test_message_over_limit_by_bdat(self):
        t = tok()
        with mx_session(self.srv) as c:
            c.send(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<bob@example.test>\r\n")
            c.replies(2)
            chunk = b"z" * 60000
            c.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
            r1 = c.reply()
            self.assertEqual(r1.code, 250, r1)
            c.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk[:-len(t)] + t.encode())
            r2 = c.reply()
            self.assertEqual((r2.code, r2.enhanced), (552, "5.3.4"), r2)
            self.assertEqual(c.cmd("RSET").code, 250)
        time.sleep(0.5)
        self.assertEqual(h.find_by_token(self.srv, BOB, t), [])

    def test_too_many_recipients(self):
        t = tok()
        with mx_session(self.srv) as c:
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250)
            rcpts = ["bob@example.test", "carol@example.test", "dave@example.test"]
            for r in rcpts:
                self.assertEqual(c.cmd(f"RCPT TO:<{r}>").code, 250)
            r = c.cmd("RCPT TO:<erin@example.test>")
            self.assertEqual((r.code, r.enhanced), (452, "4.5.3"), r)
            self.assertEqual(c.cmd("DATA").code, 354)
            msg = h.make_message(token=t)
            c.send(msg + b".\r\n")
            self.assertEqual(c.reply().code, 250)
        for r in rcpts:
            h.check_delivered(self, self.srv, r, msg, t)
        time.sleep(0.3)
        self.assertEqual(h.find_by_token(self.srv, "erin@example.test", t), [])

    def test_messages_per_session(self):
        with mx_session(self.srv) as c:
            for _ in range(3):
                r = send_data(c, h.make_message(token=tok()))
                self.assertEqual(r.code, 250, r)
            r = c.cmd("MAIL FROM:<x@remote.test>")
            self.assertEqual((r.code, r.enhanced), (452, "4.5.3"), r)

    def test_nul_in_command(self):
        with mx_session(self.srv) as c:
            r = c.cmd(b"MAIL FROM:<x\x00y@remote.test>")
            self.assertEqual((r.code, r.enhanced), (500, "5.5.2"), r)
            r = c.cmd(b"NO\x00OP")
            self.assertEqual((r.code, r.enhanced), (500, "5.5.2"), r)
            self.assertEqual(c.cmd("NOOP").code, 250)

    def test_nul_in_data(self):
        t = tok()
        with mx_session(self.srv) as c:
            r = send_data(c, h.make_message(token=t, body=b"before\x00after\r\n"))
            self.assertEqual((r.code, r.enhanced), (550, "5.6.0"), r)
            self.assertEqual(c.cmd("NOOP").code, 250)
        time.sleep(0.5)
        self.assertEqual(h.find_by_token(self.srv, BOB, t), [])


class BadCommandsTest(unittest.TestCase):
    def test_bad_commands_limit(self):
        with h.Server(config={"limits": {"bad_commands": 3}}, name="badcmd") as srv:
            with mx_session(srv) as c:
                replies = []
                for i in range(6):
                    try:
                        replies.append(c.cmd(f"JUNK{i}"))
                    except h.ConnectionClosed:
                        break
                    if replies[-1].code == 421:
                        break
                summary = [(r.code, r.enhanced) for r in replies]
                self.assertEqual(replies[0].code, 502, summary)
                self.assertEqual((replies[-1].code, replies[-1].enhanced), (421, "4.7.0"), summary)
                self.assertIn(len(replies), (3, 4), summary)
                c.expect_closed(5)


class TimeoutsTest(unittest.TestCase):
    def test_idle_client_timed_out(self):
        with h.Server(config={"limits": {"command_timeout": "1s"}}, name="idle") as srv:
            with mx_session(srv) as c:
                t0 = time.monotonic()
                r = c.reply(8)
                took = time.monotonic() - t0
                self.assertEqual((r.code, r.enhanced), (421, "4.4.2"), r)
                self.assertGreater(took, 0.7)
                self.assertLess(took, 4.0)
                c.expect_closed(5)
            # idle before EHLO too
            with srv.raw("mx") as c:
                c.reply()
                r = c.reply(8)
                self.assertEqual((r.code, r.enhanced), (421, "4.4.2"), r)

    def test_idle_in_tls_and_mid_line(self):
        with h.Server(config={"limits": {"command_timeout": "1s"}}, name="idle2") as srv:
            with srv.raw("submissions") as c:
                c.reply()
                c.send(b"EHLO half-a-line")   # no CRLF, then silence
                r = c.reply(8)
                self.assertEqual((r.code, r.enhanced), (421, "4.4.2"), r)

    def test_data_timeout(self):
        """limits.data_timeout bounds the whole DATA phase (config.hpp), so a client trickling
        a line every 0.3 s cannot hold a session open until session_timeout."""
        cfg = {"limits": {"command_timeout": "10s", "data_timeout": "2s"}}
        with h.Server(config=cfg, users={BOB: "bob-pw-1234"}, name="datato") as srv:
            with mx_session(srv) as c:
                c.cmd("MAIL FROM:<x@remote.test>")
                c.cmd(f"RCPT TO:<{BOB}>")
                self.assertEqual(c.cmd("DATA").code, 354)
                t0 = time.monotonic()
                got = None
                while time.monotonic() - t0 < 8:
                    try:
                        c.send(b"still sending\r\n")
                    except OSError:
                        break
                    pending = c.nothing_pending(0.3)
                    if pending:
                        got = pending
                        break
                self.assertIsNotNone(got, "DATA phase never timed out")
                self.assertTrue(got.startswith(b"421 4.4.2"), got)
                self.assertLess(time.monotonic() - t0, 6)

    def test_data_timeout_holds_while_an_aborted_message_is_discarded(self):
        """Issue 8: after a message is aborted (a bare LF, a BDAT past message_size) the rest is
        read and dropped; limits.data_timeout must still bound that, not session_timeout."""
        cfg = {"limits": {"command_timeout": "10s", "data_timeout": "2s", "session_timeout": "1h",
                          "message_size": 2048}}

        def trickle_until_reply(c: h.RawClient, octets: bytes) -> tuple[bytes | None, float]:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 9:
                try:
                    c.send(octets)
                except OSError:
                    break
                pending = c.nothing_pending(0.3)
                if pending:
                    return pending, time.monotonic() - t0
            return None, time.monotonic() - t0

        with h.Server(config=cfg, users={BOB: "bob-pw-1234"}, name="abortto") as srv:
            with mx_session(srv) as c:  # DATA aborted by a bare LF (RFC 5321 2.3.8)
                c.cmd("MAIL FROM:<x@remote.test>")
                c.cmd(f"RCPT TO:<{BOB}>")
                self.assertEqual(c.cmd("DATA").code, 354)
                c.send(b"Subject: bare\nLF\r\n")
                got, took = trickle_until_reply(c, b"still sending\r\n")
                self.assertIsNotNone(got, "the rest of an aborted DATA was never timed out")
                self.assertTrue(got.startswith(b"421 4.4.2"), got)
                self.assertLess(took, 6)
            with mx_session(srv) as c:  # BDAT past message_size
                c.send(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<" + BOB.encode() + b">\r\n")
                c.replies(2)
                c.send(b"BDAT 100000 LAST\r\n" + b"z" * 4096)
                got, took = trickle_until_reply(c, b"z")
                self.assertIsNotNone(got, "the rest of an aborted BDAT chunk was never timed out")
                self.assertTrue(got.startswith(b"421 4.4.2"), got)
                self.assertLess(took, 6)

    def test_data_idle_timeout(self):
        cfg = {"limits": {"command_timeout": "10s", "data_timeout": "2s"}}
        with h.Server(config=cfg, users={BOB: "bob-pw-1234"}, name="dataidle") as srv:
            with mx_session(srv) as c:
                c.cmd("MAIL FROM:<x@remote.test>")
                c.cmd(f"RCPT TO:<{BOB}>")
                self.assertEqual(c.cmd("DATA").code, 354)
                c.send(b"Subject: half a message\r\n")
                t0 = time.monotonic()
                r = c.reply(8)
                self.assertEqual((r.code, r.enhanced), (421, "4.4.2"), r)
                self.assertGreater(time.monotonic() - t0, 1.5)
                c.expect_closed(5)
            time.sleep(0.3)
            self.assertEqual(srv.maildir_messages(BOB), [], "a timed-out DATA was delivered")

    def test_session_timeout(self):
        cfg = {"limits": {"command_timeout": "2s", "data_timeout": "2s", "session_timeout": "3s"}}
        with h.Server(config=cfg, name="sessto") as srv:
            with mx_session(srv) as c:
                t0 = time.monotonic()
                r = None
                while time.monotonic() - t0 < 8:
                    try:
                        r = c.cmd("NOOP")
                    except h.ConnectionClosed:
                        break
                    if r.code != 250:
                        break
                    time.sleep(0.2)
                self.assertIsNotNone(r)
                self.assertEqual((r.code, r.enhanced), (421, "4.4.2"), r)
                self.assertGreater(time.monotonic() - t0, 2.0, "session ended before session_timeout")
                self.assertLess(time.monotonic() - t0, 6)

    def test_slow_client_within_limits_works(self):
        cfg = {"limits": {"command_timeout": "5s"}}
        with h.Server(config=cfg, users={BOB: "bob-pw-1234"}, name="slow") as srv:
            t = tok()
            with srv.raw("mx", timeout=20) as c:
                self.assertEqual(c.reply().code, 220)

                def dribble(data: bytes):
                    for b in data:
                        c.send(bytes([b]))
                        time.sleep(0.1)
                dribble(b"EHLO slow.test\r\n")
                self.assertEqual(c.reply().code, 250)
                dribble(b"MAIL FROM:<s@r.test>\r\n")
                self.assertEqual(c.reply().code, 250)
                dribble(b"RCPT TO:<bob@example.test>\r\n")
                self.assertEqual(c.reply().code, 250)
                dribble(b"DATA\r\n")
                self.assertEqual(c.reply().code, 354)
                body = f"Subject: slow {t}\r\n\r\nok\r\n".encode()
                dribble(body + b".\r\n")
                r = c.reply()
                self.assertEqual((r.code, r.enhanced), (250, "2.0.0"), r)
            d = h.wait_for_token(srv, BOB, t)
            self.assertEqual(d.body, body)


class ConnectionsPerIpTest(unittest.TestCase):
    def open_until_refused(self, srv: h.Server, slots: int, role: str, want: tuple[int, str],
                           held: list) -> h.Reply:
        """Fills `slots` connections (kept in `held`), then checks that one more on `role`
        gets `want` (code, enhanced) and is closed; returns that reply."""
        time.sleep(0.5)   # let the server see the harness's readiness probes close
        for _ in range(slots):
            c = srv.raw("mx")
            self.assertEqual(c.reply().code, 220)
            held.append(c)
        extra = srv.raw(role)
        try:
            r = extra.reply()
            self.assertEqual((r.code, r.enhanced), want, r)
            extra.expect_closed(5)
            return r
        finally:
            extra.close()

    def test_connections_per_ip(self):
        with h.Server(config={"limits": {"connections_per_ip": 3}}, name="conns") as srv:
            held = []
            try:
                r = self.open_until_refused(srv, 3, "mx", (421, "4.7.0"), held)
                self.assertIn("127.0.0.1", r.last)
                # the limit counts across roles
                extra = srv.raw("submission")
                try:
                    self.assertEqual(extra.reply().code, 421)
                finally:
                    extra.close()
                # freeing one slot lets a new client in
                held.pop().cmd("QUIT")
                deadline = time.monotonic() + 5
                while True:
                    c = srv.raw("mx")
                    r = c.reply()
                    if r.code == 220 or time.monotonic() > deadline:
                        break
                    c.close()
                    time.sleep(0.2)
                held.append(c)
                self.assertEqual(r.code, 220, "slot not released after QUIT")
            finally:
                for c in held:
                    c.close()

    def test_connections_total(self):
        """limits.connections_total bounds the server as a whole (421 4.3.2, then close)."""
        cfg = {"limits": {"connections_total": 2, "connections_per_ip": 50}}
        with h.Server(config=cfg, name="total") as srv:
            held = []
            try:
                self.open_until_refused(srv, 2, "submission", (421, "4.3.2"), held)
            finally:
                for c in held:
                    c.close()


if __name__ == "__main__":
    unittest.main()
