"""Per-client-address limits and the fail2ban filter (issue 11, sections 2, 4 and 5;
docs/limits.md "Client addresses" and "Log format").

Clients connect from two loopback addresses, 127.0.0.2 and 127.0.0.3, so one of them
crossing a limit shows the other unaffected. The harness sets these limits out of reach
for the rest of the suite; here each test sets the one it crosses."""
import configparser
import re
import smtplib
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FILTER = ROOT / "contrib" / "fail2ban" / "filter.d" / "cartero.conf"
JAIL = ROOT / "contrib" / "fail2ban" / "jail.d" / "cartero.conf"
BOB = "bob@example.test"
USERS = {BOB: "bob-pw-123456"}
FAR = 1000000


def greeted(srv, source, role="mx"):
    c = srv.raw(role, source=source)
    r = c.reply()
    return c, r


class ConnectionRateTest(unittest.TestCase):
    def test_connections_per_minute_per_address(self):
        config = {"limits": {"client_connections_per_minute": 3}}
        with h.Server(config=config, users=USERS, name="ip-conn") as srv:
            for _ in range(3):
                c, r = greeted(srv, "127.0.0.2")
                self.assertEqual(r.code, 220, r)
                c.close()
            c, r = greeted(srv, "127.0.0.2")
            self.assertEqual((r.code, r.enhanced), (421, "4.7.0"), r)
            self.assertEqual(r.text, "421 4.7.0 mx.example.test Error: too many connections from [127.0.0.2]: "
                                     "limit 3 per minute, try again later")
            c.expect_closed()
            # The other address has its own count.
            c, r = greeted(srv, "127.0.0.3")
            self.assertEqual(r.code, 220, r)
            c.close()
            srv.wait_log(r"warning: \S+: security: event=client_rate client=127\.0\.0\.2 "
                         r"limit=\"3 connections per minute\"")

    def test_trusted_networks_are_exempt(self):
        config = {"trusted_networks": ["127.0.0.3/32"], "limits": {"client_connections_per_minute": 2}}
        with h.Server(config=config, users=USERS, name="ip-trusted") as srv:
            for _ in range(5):
                c, r = greeted(srv, "127.0.0.3")
                self.assertEqual(r.code, 220, r)
                c.close()
            for expected in (220, 220, 421):
                c, r = greeted(srv, "127.0.0.2")
                self.assertEqual(r.code, expected, r)
                c.close()


class MessageRateTest(unittest.TestCase):
    def test_messages_per_minute_per_address(self):
        config = {"limits": {"client_messages_per_minute": 2}}
        with h.Server(config=config, users=USERS, name="ip-msg") as srv:
            c, r = greeted(srv, "127.0.0.2")
            c.ehlo()
            for _ in range(2):
                self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250)
                self.assertEqual(c.cmd(f"RCPT TO:<{BOB}>").code, 250)
                self.assertEqual(c.cmd("DATA").code, 354)
                c.send(h.make_message() + b".\r\n")
                self.assertEqual(c.reply(30).code, 250)
            r = c.cmd("MAIL FROM:<x@remote.test>")
            self.assertEqual((r.code, r.enhanced), (421, "4.7.0"), r)
            self.assertEqual(r.text, "421 4.7.0 mx.example.test Error: too many messages from [127.0.0.2]: "
                                     "limit 2 per minute, try again later")
            c.expect_closed()
            # A new connection from the same address is still over; the other address is not.
            c, r = greeted(srv, "127.0.0.2")
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 421)
            c, r = greeted(srv, "127.0.0.3")
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250)
            c.close()
            srv.wait_log(r"security: event=client_rate client=127\.0\.0\.2 limit=\"2 messages per minute\"")


class DictionaryAttackTest(unittest.TestCase):
    def test_unknown_recipients_are_slowed_then_disconnected_per_address(self):
        config = {"limits": {"client_errors_before_delay": 3, "client_error_delay": "700ms",
                             "client_errors_before_disconnect": 6}}
        with h.Server(config=config, users=USERS, name="ip-dict") as srv:
            c, r = greeted(srv, "127.0.0.2")
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250)
            timings = []
            for i in range(3):
                t0 = time.monotonic()
                r = c.cmd(f"RCPT TO:<guess{i}@example.test>")
                timings.append(time.monotonic() - t0)
                self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
            self.assertLess(max(timings), 0.5, f"the first errors are not delayed: {timings}")
            c.close()
            # A new connection does not start afresh: the count is per address.
            c, r = greeted(srv, "127.0.0.2")
            self.assertEqual(r.code, 220)
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250)
            for i in range(3, 5):
                t0 = time.monotonic()
                r = c.cmd(f"RCPT TO:<guess{i}@example.test>")
                self.assertEqual(r.code, 550, r)
                self.assertGreaterEqual(time.monotonic() - t0, 0.6, "errors past the threshold are slowed")
            r = c.cmd("RCPT TO:<guess5@example.test>")
            self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
            r = c.reply()
            self.assertEqual((r.code, r.enhanced), (421, "4.7.0"), r)
            self.assertEqual(r.text, "421 4.7.0 mx.example.test Error: too many errors from [127.0.0.2], try again later")
            c.expect_closed()
            c, r = greeted(srv, "127.0.0.2")
            self.assertEqual((r.code, r.enhanced), (421, "4.7.0"), r)
            c.expect_closed()
            c, r = greeted(srv, "127.0.0.3")
            self.assertEqual(r.code, 220)
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@remote.test>").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{BOB}>").code, 250)
            c.close()
            srv.wait_log(r"security: event=client_errors client=127\.0\.0\.2 errors=6 limit=6")

    def test_bad_commands_count_too(self):
        config = {"limits": {"client_errors_before_delay": 2, "client_error_delay": "0s",
                             "client_errors_before_disconnect": 4}}
        with h.Server(config=config, users=USERS, name="ip-junk") as srv:
            c, _ = greeted(srv, "127.0.0.2")
            for _ in range(3):
                self.assertEqual(c.cmd("GET / HTTP/1.0").code, 502)
            r = c.cmd("BOGUS")
            self.assertEqual((r.code, r.enhanced), (502, "5.5.2"), r)
            self.assertEqual(c.reply().code, 421)
            c.expect_closed()


class Fail2banTest(unittest.TestCase):
    """Log lines from real sessions, run through fail2ban-regex with the shipped filter;
    the addresses with at least the jail's maxretry matches are the bans it would make."""

    def test_filter_bans_guessers_and_floods_not_honest_users(self):
        jail = configparser.ConfigParser(inline_comment_prefixes=("#",))
        jail.read(JAIL)
        maxretry = int(jail["cartero"]["maxretry"])
        self.assertEqual(jail["cartero"]["filter"], "cartero")
        config = {"limits": {"client_connections_per_minute": 4, "auth_failures_before_delay": 100,
                             "auth_failures_before_disconnect": 200}}
        with h.Server(config=config, users=USERS, name="fail2ban") as srv:
            # 127.0.0.2 guesses passwords (AUTH over implicit TLS on 465).
            c = srv.raw("submissions", source="127.0.0.2")
            self.assertEqual(c.reply().code, 220)
            c.ehlo()
            for i in range(maxretry):
                r = c.cmd("AUTH PLAIN " + h.plain_blob(BOB, f"wrong-{i}"))
                self.assertEqual((r.code, r.enhanced), (535, "5.7.8"), r)
            c.close()
            # 127.0.0.3 floods connections: 4 pass, the rest get 421 and are logged.
            for _ in range(4 + maxretry):
                c, r = greeted(srv, "127.0.0.3")
                c.close()
            self.assertEqual(r.code, 421)
            # 127.0.0.4 mistypes once, then logs in and sends: never banned.
            c = srv.raw("submissions", source="127.0.0.4")
            c.reply()
            c.ehlo()
            self.assertEqual(c.cmd("AUTH PLAIN " + h.plain_blob(BOB, "typo")).code, 535)
            self.assertEqual(c.cmd("AUTH PLAIN " + h.plain_blob(BOB, USERS[BOB])).code, 235)
            c.close()
            srv.wait_log(r"event=client_rate client=127\.0\.0\.3")
            time.sleep(0.5)
            out = subprocess.run(["fail2ban-regex", "-o", "ip", str(srv.log_path), str(FILTER)],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
        hits: dict[str, int] = {}
        for line in out.stdout.split():
            hits[line] = hits.get(line, 0) + 1
        banned = {ip for ip, n in hits.items() if n >= maxretry}
        self.assertEqual(banned, {"127.0.0.2", "127.0.0.3"}, hits)
        self.assertEqual(hits.get("127.0.0.4", 0), 1, hits)
        self.assertNotIn("127.0.0.1", hits)


if __name__ == "__main__":
    unittest.main()
