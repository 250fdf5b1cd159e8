"""Per-account sending quotas (issue 11, sections 1 and 5; docs/limits.md "Sending quotas").

Each quota is crossed by a real client (smtplib over 587 STARTTLS and 465 implicit TLS):
reply code, enhanced status, the text naming the limit and the time of the next
acceptance, and the `security: event=sending_limit` log line. Also: the precedence
account > [[domain_limits]] > [limits], `cartero user limits` / `user show --json`, 20
concurrent sessions of one account never overshooting, counters surviving kill -9, the
hold mode, and trusted networks counted per client address."""
import datetime
import json
import os
import re
import smtplib
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"
PW = "alice-pw-12345"
USERS = {ALICE: PW, BOB: "bob-pw-123456"}

LIMIT_RE = re.compile(r"sending limit reached: (\d+) (messages per hour|messages per day|recipients per day); "
                      r"next (message|recipient) accepted after (?:(\d{4}-\d{2}-\d{2}) )?(\d{2}):(\d{2}) UTC")


def send_one(srv, role="submission", rcpts=(BOB,), login=(ALICE, PW)):
    """MAIL/RCPT/DATA over smtplib; returns ("mail"|"rcpt"|"data", code, text) of the first non-2xx/3xx
    reply, or ("data", 250, text) when accepted."""
    with srv.smtp(role, login=login) as s:
        code, text = s.mail(login[0] if login else ALICE)
        if code != 250:
            return "mail", code, text.decode()
        for r in rcpts:
            code, text = s.rcpt(r)
            if code != 250:
                return "rcpt", code, text.decode()
        code, text = s.data(h.make_message(sender=login[0] if login else ALICE, rcpt=rcpts[0]))
        return "data", code, text.decode()


def expected_clock(offset: datetime.timedelta) -> datetime.datetime:
    """now + offset rounded up to the minute, as the reply names it."""
    t = datetime.datetime.now(datetime.timezone.utc) + offset
    return (t + datetime.timedelta(minutes=1)).replace(second=0, microsecond=0)


class SendingQuotaTest(unittest.TestCase):
    def assert_limit_reply(self, code, text, limit, what, unit, offset):
        self.assertEqual(code, 451, text)
        self.assertTrue(text.startswith("4.7.1 "), text)
        m = LIMIT_RE.search(text)
        self.assertIsNotNone(m, f"reply text does not name the limit and the time: {text!r}")
        self.assertEqual((int(m.group(1)), m.group(2), m.group(3)), (limit, what, unit), text)
        named = datetime.datetime.now(datetime.timezone.utc).replace(hour=int(m.group(5)), minute=int(m.group(6)),
                                                                     second=0, microsecond=0)
        if m.group(4):
            named = named.replace(**dict(zip(("year", "month", "day"), map(int, m.group(4).split("-")))))
        want = expected_clock(offset)
        self.assertLessEqual(abs((named - want).total_seconds()), 120, f"{text!r}: want about {want:%Y-%m-%d %H:%M}")

    def test_per_hour_from_user_limits_over_587(self):
        with h.Server(users=USERS, name="quota-hour") as srv:
            srv.cli("user", "limits", ALICE, "--per-hour", "3")
            for _ in range(3):
                self.assertEqual(send_one(srv)[:2], ("data", 250))
            phase, code, text = send_one(srv)
            self.assertEqual(phase, "mail")
            self.assert_limit_reply(code, text, 3, "messages per hour", "message", datetime.timedelta(hours=1))
            srv.wait_log(r"warning: \S+: security: event=sending_limit client=127\.0\.0\.1 account=alice@example\.test "
                         r"limit=\"3 messages per hour\" action=defer")
            # Another account is not affected; `--clear` gives alice the default (100) back.
            self.assertEqual(send_one(srv, login=(BOB, USERS[BOB]), rcpts=(ALICE,))[:2], ("data", 250))
            srv.cli("user", "limits", ALICE, "--clear")
            self.assertEqual(send_one(srv)[:2], ("data", 250))

    def test_per_day_from_config_over_465(self):
        config = {"limits": {"messages_per_hour": 2, "messages_per_day": 2}}
        with h.Server(config=config, users=USERS, name="quota-day") as srv:
            for _ in range(2):
                self.assertEqual(send_one(srv, "submissions")[:2], ("data", 250))
            phase, code, text = send_one(srv, "submissions")
            self.assertEqual(phase, "mail")
            # messages_per_hour (2) is reached first: the hour is the earlier window to free.
            self.assert_limit_reply(code, text, 2, "messages per hour", "message", datetime.timedelta(hours=1))
        with h.Server(users=USERS, name="quota-day") as srv:
            srv.cli("user", "limits", ALICE, "--per-day", "2")  # the hour keeps its default, 100
            for _ in range(2):
                self.assertEqual(send_one(srv, "submissions")[:2], ("data", 250))
            phase, code, text = send_one(srv, "submissions")
            self.assertEqual(phase, "mail")
            self.assert_limit_reply(code, text, 2, "messages per day", "message", datetime.timedelta(days=1))
            srv.wait_log(r"security: event=sending_limit client=127\.0\.0\.1 account=alice@example\.test "
                         r"limit=\"2 messages per day\"")

    def test_recipients_per_day_from_domain_limits_at_the_crossing_rcpt(self):
        config = {"domain_limits": [{"domain": "example.test", "recipients_per_day": 3}]}
        others = [f"r{i}@example.test" for i in range(4)]
        users = dict(USERS, **{a: "pw-recipient-1" for a in others})
        with h.Server(config=config, users=users, name="quota-rcpt") as srv:
            self.assertEqual(send_one(srv, rcpts=others[:2])[:2], ("data", 250))
            with srv.smtp("submission", login=(ALICE, PW)) as s:
                self.assertEqual(s.mail(ALICE)[0], 250)
                self.assertEqual(s.rcpt(others[2])[0], 250)
                code, text = s.rcpt(others[3])
                self.assert_limit_reply(code, text.decode(), 3, "recipients per day", "recipient",
                                        datetime.timedelta(days=1))
                code, text = s.data(h.make_message(sender=ALICE, rcpt=others[2]))
                self.assertEqual(code, 250, "the recipients accepted before the cap are sent")
            phase, code, text = send_one(srv, rcpts=others[:1])
            self.assertEqual(phase, "mail", "no recipient left today: MAIL itself is refused")
            self.assert_limit_reply(code, text, 3, "recipients per day", "message", datetime.timedelta(days=1))
            shown = json.loads(srv.cli("user", "show", ALICE, "--json").stdout)
            self.assertEqual(shown["limits"]["recipients_per_day"]["used"], 3)
            self.assertEqual(shown["limits"]["recipients_per_day"]["limit"], 3)
            self.assertEqual(shown["limits"]["recipients_per_day"]["source"], "domain")
            self.assertEqual(shown["limits"]["messages_per_hour"]["used"], 2)
            self.assertEqual(shown["limits"]["messages_per_hour"]["limit"], 100)
            self.assertEqual(shown["limits"]["messages_per_hour"]["source"], "default")

    def test_user_show_text_and_json(self):
        with h.Server(users=USERS, name="quota-show") as srv:
            srv.cli("user", "limits", ALICE, "--per-hour", "7", "--per-day", "9", "--recipients-per-day", "11")
            self.assertEqual(send_one(srv, rcpts=(BOB, ALICE))[:2], ("data", 250))
            out = srv.cli("user", "show", ALICE).stdout
            self.assertIn("messages_per_hour: 1 of 7 (account), next frees at ", out)
            self.assertIn("messages_per_day: 1 of 9 (account)", out)
            self.assertIn("recipients_per_day: 2 of 11 (account)", out)
            shown = json.loads(srv.cli("user", "show", ALICE, "--json").stdout)
            hour = shown["limits"]["messages_per_hour"]
            self.assertEqual((hour["used"], hour["limit"], hour["remaining"]), (1, 7, 6))
            frees = datetime.datetime.strptime(hour["next_frees_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
            delta = frees - datetime.datetime.now(datetime.timezone.utc)
            self.assertTrue(datetime.timedelta(minutes=58) < delta <= datetime.timedelta(hours=1), delta)
            r = srv.cli("user", "limits", "nobody@example.test", "--per-hour", "1", check=False)
            self.assertEqual(r.returncode, 67, r.stderr)
            r = srv.cli("user", "limits", ALICE, check=False)
            self.assertNotEqual(r.returncode, 0)

    def test_twenty_concurrent_sessions_never_overshoot(self):
        limit = 5
        with h.Server(users=USERS, name="quota-race") as srv:
            srv.cli("user", "limits", ALICE, "--per-hour", str(limit))
            sessions = []
            for _ in range(20):
                s = srv.smtp("submission", login=(ALICE, PW))
                sessions.append(s)
            barrier = threading.Barrier(len(sessions))
            results = []
            lock = threading.Lock()

            def run(s):
                barrier.wait()
                code, text = s.mail(ALICE)
                if code == 250:
                    s.rcpt(BOB)
                    code, text = s.data(h.make_message(sender=ALICE))
                with lock:
                    results.append((code, text.decode()))

            threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            for s in sessions:
                s.close()
            accepted = [r for r in results if r[0] == 250]
            refused = [r for r in results if r[0] == 451]
            self.assertEqual(len(results), 20, results)
            self.assertEqual(len(accepted), limit, results)
            self.assertEqual(len(refused), 20 - limit, results)
            self.assertTrue(all(t.startswith("4.7.1 sending limit reached: 5 messages per hour") for _, t in refused))
            shown = json.loads(srv.cli("user", "show", ALICE, "--json").stdout)
            self.assertEqual(shown["limits"]["messages_per_hour"]["used"], limit)

    def test_reservation_released_when_the_transaction_does_not_end_in_250(self):
        """A message that is reserved but never accepted (RSET, dropped connection) does not count."""
        with h.Server(users=USERS, name="quota-release") as srv:
            srv.cli("user", "limits", ALICE, "--per-hour", "1")
            with srv.smtp("submission", login=(ALICE, PW)) as s:
                self.assertEqual(s.mail(ALICE)[0], 250)
                self.assertEqual(s.rcpt(BOB)[0], 250)
                self.assertEqual(s.rset()[0], 250)
            s = srv.smtp("submission", login=(ALICE, PW))
            self.assertEqual(s.mail(ALICE)[0], 250)
            s.close()  # connection lost mid-transaction: no QUIT, no RSET
            time.sleep(0.5)
            self.assertEqual(send_one(srv)[:2], ("data", 250))
            phase, code, _ = send_one(srv)
            self.assertEqual((phase, code), ("mail", 451))

    def test_counters_survive_kill9(self):
        with h.Server(users=USERS, name="quota-kill9") as srv:
            srv.cli("user", "limits", ALICE, "--per-hour", "3")
            for _ in range(3):
                self.assertEqual(send_one(srv)[:2], ("data", 250))
            srv.kill9()
            srv.start()
            phase, code, text = send_one(srv)
            self.assertEqual(phase, "mail")
            self.assert_limit_reply(code, text, 3, "messages per hour", "message", datetime.timedelta(hours=1))
            shown = json.loads(srv.cli("user", "show", ALICE, "--json").stdout)
            self.assertEqual(shown["limits"]["messages_per_hour"]["used"], 3)

    def test_trusted_network_counts_per_client_address(self):
        config = {"trusted_networks": ["127.0.0.1/32"], "limits": {"messages_per_hour": 2}}
        with h.Server(config=config, users=USERS, name="quota-trusted") as srv:
            for _ in range(2):
                self.assertEqual(send_one(srv, "mx", rcpts=("someone@remote.test",), login=None)[:2], ("data", 250))
            phase, code, text = send_one(srv, "mx", rcpts=("someone@remote.test",), login=None)
            self.assertEqual(phase, "mail")
            self.assert_limit_reply(code, text, 2, "messages per hour", "message", datetime.timedelta(hours=1))
            srv.wait_log(r"security: event=sending_limit client=127\.0\.0\.1 account=\[127\.0\.0\.1\]")


class HoldModeTest(unittest.TestCase):
    def test_over_limit_mail_is_held_postmaster_told_once_and_release_sends_it(self):
        config = {"limits": {"on_exceed": "hold"}}
        users = dict(USERS, **{"admin@example.test": "admin-pw-1234"})
        with h.Server(config=config, users=users, aliases={"postmaster@example.test": "admin@example.test"},
                      name="quota-hold") as srv:
            srv.cli("user", "limits", ALICE, "--per-hour", "1")
            self.assertEqual(send_one(srv)[:2], ("data", 250))
            srv.wait_for_delivery(BOB, 1)
            held = []
            for _ in range(2):
                phase, code, text = send_one(srv)
                self.assertEqual((phase, code), ("data", 250), "hold accepts the message")
                held.append(h.queue_id(text))
            srv.wait_log(r"warning: \S+: account alice@example\.test is over its sending limit")
            for qid in held:
                srv.wait_log(re.escape(qid) + r": held by limits\.on_exceed")
            listing = srv.cli("queue", "list").stdout
            for qid in held:
                self.assertRegex(listing, re.escape(qid) + r"!", listing)
            time.sleep(1.5)
            self.assertEqual(len(srv.maildir_messages(BOB)), 1, "held mail must not be delivered")
            notices = srv.wait_for_delivery("admin@example.test", 1)
            time.sleep(1)
            notices = srv.maildir_messages("admin@example.test")
            self.assertEqual(len(notices), 1, "postmaster is told once")
            self.assertIn(b"Subject: Mail of alice@example.test held: sending limit reached", notices[0].raw)
            self.assertIn(b"cartero queue release", notices[0].raw)
            # A restart keeps them held.
            srv.stop()
            srv.start()
            time.sleep(1.5)
            self.assertEqual(len(srv.maildir_messages(BOB)), 1)
            srv.cli("queue", "release", held[0])
            srv.wait_for_delivery(BOB, 2)


if __name__ == "__main__":
    unittest.main()
