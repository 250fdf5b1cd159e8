"""[[route]] domains (issue 3 section 1, the first case of issue 4's per-domain routing).

A `discard` route makes cartero accept mail for one domain from anyone, durably (250 only
after the spool sync, with a queue ID), then throw it away: the log says
`relay=discard, status=sent (discarded by route for DOMAIN)`, no Maildir is written and
the spool lets the message go. Only that exact domain is opened: no open relay.
"""
import os
import re
import signal
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ROUTED = "bench.test"
ALICE, ALICE_PW = "alice@example.test", "alice-Secret-1"
DISCARD_ROUTE = {"route": [{"domain": ROUTED, "transport": "discard"}]}
RELAY_DENIED = (554, b"5.7.1")


def token() -> str:
    return "tok" + os.urandom(8).hex()


def wait_for_log(srv: h.Server, pattern: str, timeout: float = 15.0) -> re.Match:
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, srv.log_text())
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line matching {pattern!r} within {timeout}s\n"
                                 f"log tail:\n{srv.log_tail(30)}")
        time.sleep(0.05)


def discarded_line(qid: str, rcpt: str) -> str:
    # The log shows the recipient as the client wrote it; the route matched it case-insensitively.
    return (rf"{qid}: to=<(?i:{re.escape(rcpt)})>, relay=discard, delay=[0-9.]+, "
            rf"status=sent \(discarded by route for {re.escape(ROUTED)}\)")


def send_over_mx(srv: h.Server, rcpts: list[str], msg: bytes) -> str:
    """Unauthenticated, from an untrusted loopback client (trusted_networks is empty)."""
    s = srv.smtp("mx")
    try:
        code, text = h.send_with_smtplib(s, "sender@elsewhere.test", rcpts, msg)
    finally:
        s.quit()
    if code != 250:
        raise AssertionError(f"end of data: {code} {text}")
    qid = h.queue_id(text)
    if not qid:
        raise AssertionError(f"no queue ID in {text!r}")
    return qid


class DiscardRouteTest(unittest.TestCase):
    def test_accepted_on_mx_then_discarded_and_gone_from_the_spool(self):
        with h.Server(config=DISCARD_ROUTE, name="route-discard") as srv:
            t = token()
            rcpt = f"load@{ROUTED}"
            qid = send_over_mx(srv, [rcpt], h.make_message(sender="sender@elsewhere.test", rcpt=rcpt, token=t))

            wait_for_log(srv, discarded_line(qid, rcpt))
            wait_for_log(srv, rf"{qid}: removed")
            self.assertFalse((srv.mail_root / ROUTED).exists(), "a discarded message reached a Maildir")

            # A clean restart recovers the spool: nothing left to deliver, and the
            # segment that held the message is deleted with it.
            srv.restart()
            second_start = srv.log_text().rsplit("===== start #2 =====", 1)[1]
            recovered = re.findall(r"recovered (\d+) queued messages", second_start)
            self.assertEqual(set(recovered) - {"0"}, set(), "the discarded message was still queued")
            self.assertEqual(h.data_dir_contains(srv, t.encode()), [], "the message is still in the spool")
            self.assertEqual(len(re.findall(rf"{qid}: to=<", srv.log_text())), 1, "delivered twice")

    def test_local_and_routed_recipients_of_one_message(self):
        with h.Server(config=DISCARD_ROUTE, users={ALICE: ALICE_PW}, name="route-mixed") as srv:
            t = token()
            rcpts = [ALICE, f"Someone@{ROUTED.upper()}"]
            msg = h.make_message(sender="sender@elsewhere.test", rcpt=ALICE, token=t)
            qid = send_over_mx(srv, rcpts, msg)
            h.check_delivered(self, srv, ALICE, msg, t, sender="sender@elsewhere.test", qid=qid)
            wait_for_log(srv, discarded_line(qid, f"Someone@{ROUTED.upper()}"))
            wait_for_log(srv, rf"{qid}: removed")
            self.assertFalse((srv.mail_root / ROUTED).exists())

    def test_only_the_exact_domain_is_open(self):
        with h.Server(config=DISCARD_ROUTE, name="route-relay") as srv:
            s = srv.smtp("mx")
            try:
                self.assertEqual(s.mail("sender@elsewhere.test")[0], 250)
                self.assertEqual(s.rcpt(f"anyone@{ROUTED}")[0], 250)
                for rcpt in (f"x@sub.{ROUTED}", f"x@{ROUTED}.example", "x@test", "x@elsewhere.test"):
                    with self.subTest(rcpt=rcpt):
                        code, text = s.rcpt(rcpt)
                        self.assertEqual((code, text[:5]), RELAY_DENIED, text)
            finally:
                s.quit()

    def test_sighup_adds_a_route(self):
        with h.Server(name="route-hup") as srv:
            rcpt = f"load@{ROUTED}"
            s = srv.smtp("mx")
            try:
                s.mail("sender@elsewhere.test")
                self.assertEqual(s.rcpt(rcpt)[0], 554, "routed before the route exists")
            finally:
                s.quit()
            srv.config.update(DISCARD_ROUTE)
            srv.write_config()
            srv.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while True:
                s = srv.smtp("mx")
                try:
                    s.mail("sender@elsewhere.test")
                    code = s.rcpt(rcpt)[0]
                finally:
                    s.quit()
                if code == 250 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(code, 250, "SIGHUP did not add the route")


if __name__ == "__main__":
    unittest.main()
