"""`cartero queue` against a running server (issue 4, sections 3 and 5), and retry state
that survives a restart and kill -9.

The server relays for an authenticated user to remote.test, whose MX (from the test DNS
server, tests/support/dns_server.py) is 127.0.0.1 on a port nobody listens on: every
attempt is deferred (with the transitional courier too: "remote delivery not yet
available"), so the message stays queued for the tools to act on.
"""
import json
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402

ALICE = "alice@example.test"
PASSWORD = "pw-alice-123"
REMOTE = "bob@remote.test"
ZONES = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": ["127.0.0.1"]}}


def queue(srv, *args, check=True):
    return srv.cli("queue", *args, check=check, timeout=30)


def listing(srv) -> list[dict]:
    return json.loads(queue(srv, "list", "--json").stdout)


def entry(srv, queue_id: str) -> dict | None:
    return next((m for m in listing(srv) if m["id"] == queue_id), None)


def wait_until(condition, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def submit(srv, subject: str) -> str:
    return srv.submit((ALICE, PASSWORD), [REMOTE], h.make_message(subject, sender=ALICE, rcpt=REMOTE))


def server(dns, **delivery):
    closed_port = h.free_port()  # picked and released: connections to it are refused
    config = {"delivery": {"remote_port": closed_port, **delivery}, "dns": {"resolver": dns.address}}
    return h.Server(config=config, users={ALICE: PASSWORD}, roles=("submission",), name="queue-tools")


class QueueToolsTest(unittest.TestCase):
    def setUp(self):
        self.dns = DnsServer(ZONES).start()
        self.addCleanup(self.dns.stop)

    def test_list_show_hold_release_flush_delete(self):
        with server(self.dns, retry_initial="1s", retry_max="2s") as srv:
            queue_id = submit(srv, "queue tools")
            first = wait_until(lambda: (m := entry(srv, queue_id)) and m["attempts"] >= 1 and m, "a failed attempt")
            rcpt = first["recipients"][0]
            self.assertEqual((first["sender"], rcpt["address"], rcpt["status"]), (ALICE, REMOTE, "pending"))
            self.assertTrue(rcpt["last_error"], first)
            self.assertGreater(first["size"], 0)
            for key in ("received_at", "next_attempt", "held", "delivering"):
                self.assertIn(key, first)

            human = queue(srv, "list").stdout
            self.assertIn(queue_id, human)
            self.assertIn(REMOTE, human)
            self.assertIn(f"({rcpt['last_error'][:30]}", human, human)
            self.assertIn("1 Request.", human)
            shown = queue(srv, "show", queue_id).stdout
            self.assertIn("last error:", shown)
            self.assertEqual(json.loads(queue(srv, "show", queue_id, "--json").stdout)["id"], queue_id)

            # hold: no more attempts (one already running may still end and count)
            self.assertEqual(queue(srv, "hold", queue_id).returncode, 0)
            time.sleep(1.0)
            held = entry(srv, queue_id)
            self.assertTrue(held["held"], held)
            self.assertEqual(held["next_attempt"], 0)
            time.sleep(3.5)  # retries are 1-2 s apart: several would have happened
            self.assertEqual(entry(srv, queue_id)["attempts"], held["attempts"], "a held message was tried")
            self.assertIn("!", queue(srv, "list").stdout.split(queue_id, 1)[1][:2])
            r = queue(srv, "flush", queue_id, check=False)
            self.assertEqual(r.returncode, 75, r)
            self.assertIn("held", r.stderr)

            queue(srv, "release", queue_id)
            wait_until(lambda: entry(srv, queue_id)["attempts"] > held["attempts"], "an attempt after release")
            self.assertIn("messages due now", queue(srv, "flush").stdout)

            r = queue(srv, "show", "0000000000000000", check=False)
            self.assertEqual(r.returncode, 66, r)
            self.assertIn("no queued message", r.stderr)

            queue(srv, "delete", queue_id)
            wait_until(lambda: entry(srv, queue_id) is None, "the deleted message to leave the list")
            self.assertIn("Mail queue is empty", queue(srv, "list").stdout)
            self.assertRegex(srv.log_text(), rf"{queue_id}: deleted by uid \d+")
            srv.restart()
            self.assertIsNone(entry(srv, queue_id), "a deleted message came back after a restart")

    def test_bounce_gives_up_now(self):
        with server(self.dns, retry_initial="1s", retry_max="2s") as srv:
            queue_id = submit(srv, "bounce me")
            wait_until(lambda: (m := entry(srv, queue_id)) and m["attempts"] >= 1, "a failed attempt")
            self.assertIn("bounced", queue(srv, "bounce", queue_id).stdout)
            wait_until(lambda: entry(srv, queue_id) is None, "the bounced message to leave the list")
            log = srv.log_text()
            self.assertIn(f"{queue_id}: bounced by uid", log)
            self.assertRegex(log, rf"{queue_id}: to=<{REMOTE}>.*status=bounced \(delivery cancelled")

    def test_retry_state_survives_kill_9(self):
        with server(self.dns, retry_initial="1h", retry_max="2h") as srv:
            queue_id = submit(srv, "survive")
            before = wait_until(lambda: (m := entry(srv, queue_id)) and m["attempts"] == 1 and
                                not m["delivering"] and m, "the first failed attempt")
            self.assertGreater(before["next_attempt"], time.time() + 3000, before)
            queue(srv, "hold", queue_id)
            time.sleep(0.5)  # the state is lazily durable, like DONE marks (100 ms)
            srv.kill9()
            srv.start()
            after = entry(srv, queue_id)
            self.assertIsNotNone(after, "the message was lost")
            self.assertEqual(after["attempts"], 1, after)
            self.assertTrue(after["held"], after)
            self.assertEqual(after["recipients"][0]["last_error"], before["recipients"][0]["last_error"])
            queue(srv, "release", queue_id)
            released = entry(srv, queue_id)
            self.assertLessEqual(abs(released["next_attempt"] - before["next_attempt"]), 2, (before, released))
            time.sleep(1.5)
            self.assertEqual(entry(srv, queue_id)["attempts"], 1, "retried at once after the restart")

            # a clean restart keeps it too
            srv.restart()
            again = entry(srv, queue_id)
            self.assertEqual(again["attempts"], 1, again)
            self.assertLessEqual(abs(again["next_attempt"] - before["next_attempt"]), 2, (before, again))

            srv.stop()
            r = queue(srv, "list", check=False)
            self.assertEqual(r.returncode, 69, r)
            self.assertIn("no cartero server is running with data_dir", r.stderr)
            self.assertIn("start it with cartero serve", r.stderr)


if __name__ == "__main__":
    unittest.main()
