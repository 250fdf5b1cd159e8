"""Relay control (issue 2, section 4): never an open relay, classic tricks included;
trusted networks may relay and the message stays queued."""
import os
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

BOB = "bob@example.test"

# Addresses that try to make a local domain forward elsewhere (Postfix's open-relay test list).
TRICKS = [
    "bob%evil.test@example.test",
    "@example.test:bob@evil.test",
    "bob!evil.test@example.test",        # not UUCP: a local part that names no user
    "evil.test!bob@example.test",
    '"bob@evil.test"@example.test',
    '"bob%evil.test"@example.test',
    "bob@evil.test@example.test",
    "bob@evil.test",
    "bob@evil.test.",
    "bob@[192.0.2.1]",
    "bob%evil.test@[127.0.0.1]",
    "bob@example.test.evil.test",
    "bob@evil.test:25",
]


def rcpt_reply(c: h.RawClient, rcpt: str) -> h.Reply:
    c.send(f"RSET\r\nMAIL FROM:<spammer@remote.test>\r\nRCPT TO:<{rcpt}>\r\n".encode())
    rset, mail, rcpt_r = c.replies(3)
    assert rset.code == 250 and mail.code == 250, (rset, mail)
    return rcpt_r


class OpenRelayTest(unittest.TestCase):
    def test_relay_battery_on_mx_unauthenticated(self):
        with h.Server(users={BOB: "pw-bob-123"}, name="relay") as srv:
            with srv.raw("mx") as c:
                c.reply()
                c.ehlo()
                for addr in TRICKS:
                    with self.subTest(rcpt=addr):
                        r = rcpt_reply(c, addr)
                        self.assertNotEqual(r.code // 100, 2, f"RCPT TO:<{addr}> accepted: open relay? {r}")
                        self.assertEqual(r.code // 100, 5, f"want a permanent refusal: {r}")
                        self.assertTrue(r.enhanced.startswith("5.1.") or r.enhanced in ("5.7.1", "5.5.4"),
                                        f"unexpected enhanced code: {r}")
                # a plain remote recipient: exactly the reply users search the web for
                r = rcpt_reply(c, "friend@elsewhere.test")
                self.assertEqual((r.code, r.enhanced), (554, "5.7.1"), r)
                self.assertIn("Relay access denied", r.last)
                self.assertIn("friend@elsewhere.test", r.last)
                # an unknown local user
                r = rcpt_reply(c, "nobody@example.test")
                self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
                # the real user still works in the same session
                r = rcpt_reply(c, BOB)
                self.assertEqual((r.code, r.enhanced), (250, "2.1.5"), r)
                c.cmd("QUIT")
            time.sleep(0.5)
            self.assertEqual(srv.all_delivered_files(), [])

    def test_relay_tricks_never_leave_even_if_accepted_in_a_transaction(self):
        """Send a full message to every trick plus one valid local recipient; only bob gets it
        and nothing remote is queued."""
        with h.Server(users={BOB: "pw-bob-123"}, name="relay2") as srv:
            token = "tok" + os.urandom(6).hex()
            with srv.raw("mx") as c:
                c.reply()
                c.ehlo()
                self.assertEqual(c.cmd("MAIL FROM:<spammer@remote.test>").code, 250)
                accepted = []
                for addr in TRICKS:
                    if c.cmd(f"RCPT TO:<{addr}>").code == 250:
                        accepted.append(addr)
                self.assertEqual(accepted, [])
                self.assertEqual(c.cmd(f"RCPT TO:<{BOB}>").code, 250)
                self.assertEqual(c.cmd("DATA").code, 354)
                msg = h.make_message(rcpt=BOB, token=token)
                c.send(msg + b".\r\n")
                r = c.reply(15)
                self.assertEqual(r.code, 250, r)
            h.wait_for_token(srv, BOB, token)
            time.sleep(1.0)
            self.assertEqual(len(srv.all_delivered_files()), 1, srv.all_delivered_files())

    def test_submission_without_auth_cannot_relay(self):
        with h.Server(name="relay3") as srv:
            with srv.raw("submission") as c:
                c.reply()
                c.ehlo()
                self.assertEqual(c.cmd("STARTTLS").code, 220)
                c.starttls(srv.client_context())
                c.ehlo()
                r = c.cmd("MAIL FROM:<someone@example.test>")
                self.assertEqual((r.code, r.enhanced), (530, "5.7.0"), r)
                r = c.cmd("RCPT TO:<friend@elsewhere.test>")
                self.assertEqual(r.code // 100, 5, r)


class TrustedNetworkTest(unittest.TestCase):
    def test_trusted_network_may_relay_and_message_stays_queued(self):
        cfg = {"trusted_networks": ["127.0.0.0/8"]}
        with h.Server(config=cfg, users={BOB: "pw-bob-123"}, name="trusted") as srv:
            token = "tok" + os.urandom(6).hex()
            with srv.raw("mx") as c:
                c.reply()
                c.ehlo()
                self.assertEqual(c.cmd("MAIL FROM:<app@example.test>").code, 250)
                r = c.cmd("RCPT TO:<friend@remote.test>")
                self.assertEqual((r.code, r.enhanced), (250, "2.1.5"), r)
                self.assertEqual(c.cmd("DATA").code, 354)
                c.send(h.make_message(rcpt="friend@remote.test", token=token) + b".\r\n")
                r = c.reply(15)
                self.assertEqual((r.code, r.enhanced), (250, "2.0.0"), r)
                c.cmd("QUIT")
            time.sleep(1.5)
            self.assertEqual(srv.all_delivered_files(), [])
            self.assertTrue(h.data_dir_contains(srv, token.encode()), "relayed message not in the spool")
            # still queued after a restart (never silently dropped)
            srv.restart()
            time.sleep(1.0)
            self.assertTrue(h.data_dir_contains(srv, token.encode()), "queued message lost across restart")

    def test_untrusted_network_is_not_trusted(self):
        cfg = {"trusted_networks": ["192.0.2.0/24", "::1/128"]}
        with h.Server(config=cfg, name="untrusted") as srv:
            with srv.raw("mx") as c:
                c.reply()
                c.ehlo()
                self.assertEqual(c.cmd("MAIL FROM:<app@example.test>").code, 250)
                r = c.cmd("RCPT TO:<friend@remote.test>")
                self.assertEqual((r.code, r.enhanced), (554, "5.7.1"), r)


if __name__ == "__main__":
    unittest.main()
