"""No message may crash the server (issue 8, section 1).

`cartero user add sales/eu@example.test` used to be accepted; the Maildir courier then
refused that local part by throwing on a delivery thread, nothing caught it, the process
ended, and as the message was spooled every restart recovered it and died again.

Now the CLI refuses such names when they are created (the courier's own rule), and a
mailbox the courier cannot use anyway (an account written into the store behind the CLI's
back) is bounced with 5.1.3 while the server keeps running and delivering, also after a
kill -9 and restart that recovers the message from the spool.
"""
import os
import sqlite3
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ALICE, ALICE_PW = "alice@example.test", "alice-Secret-1"
BOB = "bob@example.test"
SALES = "sales/eu@example.test"


def tok() -> str:
    return "tok" + os.urandom(8).hex()


class RefusedAtCreationTest(unittest.TestCase):
    """What a new operator types first."""

    def test_user_and_alias_with_a_slash_are_refused_with_the_problem_and_the_fix(self):
        with h.Server(start=False, name="names") as srv:
            for args in (("user", "add", SALES, "--password-stdin"), ("alias", "add", SALES, ALICE)):
                with self.subTest(args=args[:2]):
                    r = srv.cli(*args, input="sales-Secret-1\n", check=False)
                    self.assertNotEqual(r.returncode, 0, f"{args} accepted:\n{r.stdout}{r.stderr}")
                    self.assertIn(SALES, r.stderr)
                    self.assertIn("contains '/'", r.stderr, "the problem is named")
                    self.assertIn("mailbox", r.stderr)
                    self.assertIn("sales-eu@example.test", r.stderr, "the fix is suggested")
            r = srv.cli("user", "add", ".hidden@example.test", "--password-stdin", input="hidden-Secret-1\n",
                        check=False)
            self.assertNotEqual(r.returncode, 0, "a leading '.' names a hidden directory, or '..'")
            self.assertIn("starts with '.'", r.stderr)
            self.assertNotIn(SALES, srv.cli("user", "list").stdout)
            self.assertNotIn(SALES, srv.cli("alias", "list").stdout)
            srv.cli("user", "add", "sales-eu@example.test", "--password-stdin", input="sales-Secret-1\n")


class UnusableMailboxTest(unittest.TestCase):
    """An account the courier cannot deliver to (made behind the CLI's back) bounces;
    the delivery worker survives it, before and after a restart."""

    def deliver_to_bob(self, srv: h.Server, token: str) -> None:
        msg = h.make_message(subject=f"still alive {token}", token=token, sender=ALICE, rcpt=BOB)
        srv.submit((ALICE, ALICE_PW), [BOB], msg)
        h.wait_for_token(srv, BOB, token)  # exactly one copy

    def bounces_for_sales(self, srv: h.Server) -> list:
        return [m for m in srv.maildir_messages(ALICE) if b"Status: 5.1.3" in m.raw and SALES.encode() in m.raw]

    def test_message_to_an_unusable_mailbox_bounces_and_the_server_keeps_delivering(self):
        with h.Server(users={ALICE: ALICE_PW, BOB: "bob-Secret-2"}, start=False, name="unusable") as srv:
            # What an older cartero accepted, or a script writing the store directly.
            with sqlite3.connect(srv.data_dir / "accounts.db") as db:
                db.execute("INSERT INTO users (address, password_hash) VALUES (?, ?)",
                           (SALES, db.execute("SELECT password_hash FROM users").fetchone()[0]))
            srv.start()
            token = tok()
            msg = h.make_message(subject=f"to sales {token}", token=token, sender=ALICE, rcpt=SALES)
            qid = srv.submit((ALICE, ALICE_PW), [SALES, BOB], msg)
            # The other recipient of the same message still gets it.
            h.wait_for_token(srv, BOB, token)
            srv.wait_log(rf"{qid}: to=<{SALES}>, relay=local, .*status=bounced \(.*contains '/'")
            deadline = time.monotonic() + 15
            while not self.bounces_for_sales(srv) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(len(self.bounces_for_sales(srv)), 1, f"no DSN with 5.1.3\n{srv.log_tail(30)}")
            self.assertTrue(srv.running(), f"the server died:\n{srv.log_tail(30)}")
            self.deliver_to_bob(srv, tok())

            # kill -9 right after the 250: the done marks are lazily durable, so the
            # restart may recover the message and deliver (bounce) it again; either way the
            # server must come up and stay up.
            token = tok()
            msg = h.make_message(subject=f"to sales again {token}", token=token, sender=ALICE, rcpt=SALES)
            srv.submit((ALICE, ALICE_PW), [SALES], msg)
            srv.kill9()
            srv.start()
            self.deliver_to_bob(srv, tok())
            time.sleep(1.0)  # a recovered message is retried at once: give it time to be handled
            self.assertTrue(srv.running(), f"the server died after the restart:\n{srv.log_tail(30)}")
            srv.stop()
            srv.start()  # nothing left that kills it at start
            self.deliver_to_bob(srv, tok())
            self.assertTrue(srv.running())
            self.assertNotIn("terminate called", srv.log_text())


if __name__ == "__main__":
    unittest.main()
