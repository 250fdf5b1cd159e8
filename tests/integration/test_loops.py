"""Mail loops (issue 8.3): two cartero instances whose aliases forward to each other
(a@one.test -> b@two.test, b@two.test -> a@one.test), each the other's MX through the
test DNS server on loopback. The Delivered-To line that one.test puts on the copy it
forwards for a@one.test comes back on the second arrival: one.test bounces it there
with 5.4.6 ("mail forwarding loop"), and the sender gets a DSN. Without the check the
two would pass the message back and forth until the hop count (limits.received_headers)
stopped it, a hundred deliveries later. The hop count itself is shown by
tests/dialogs/hop_limit.dialog (DATA and BDAT).
"""
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402
from test_remote_delivery import dsn_parts  # noqa: E402

SENDER = ("sender@one.test", "sender-password")
A, B = "a@one.test", "b@two.test"
ZONES = {"one.test": {"MX": ["10 mx.one.test"]}, "mx.one.test": {"A": "127.0.0.1"},
         "two.test": {"MX": ["10 mx.two.test"]}, "mx.two.test": {"A": "127.0.0.1"}}


def instance(domain: str, users: dict[str, str], aliases: dict[str, str]) -> h.Server:
    return h.Server(config={"local_domains": [domain], "hostname": f"mx.{domain}"}, users=users,
                    aliases=aliases, start=False, name=domain.split(".")[0])


def point_at(srv: h.Server, dns: DnsServer, peer: h.Server) -> None:
    """Remote mail from `srv` goes to `peer`'s mx port (all test hosts are 127.0.0.1)."""
    srv.config = h.deep_merge(srv.config, {
        "dns": {"resolver": dns.address, "timeout": "5s"},
        "delivery": {"remote_port": peer.port("mx"), "retry_initial": "1s", "retry_max": "2s"}})
    srv.write_config()


def count(srv: h.Server, pattern: str) -> int:
    import re
    return len(re.findall(pattern, srv.log_text()))


class ForwardingLoopTest(unittest.TestCase):
    def test_aliases_forwarding_to_each_other_stop_on_the_second_arrival_with_a_dsn(self):
        with DnsServer(ZONES) as dns, \
                instance("one.test", {SENDER[0]: SENDER[1]}, {A: B}) as one, \
                instance("two.test", {}, {B: A}) as two:
            point_at(one, dns, two)
            point_at(two, dns, one)
            one.start()
            two.start()
            msg = h.make_message(subject="ping-pong", sender=SENDER[0], rcpt=A)
            qid = one.submit(SENDER, [A], msg)

            dsn = one.wait_for_delivery(SENDER[0], 1, timeout=30)[0]
            head, groups, original = dsn_parts(dsn.body)
            self.assertEqual(len(groups), 1, groups)
            self.assertEqual(groups[0]["final-recipient"], f"rfc822; {A}")
            self.assertEqual(groups[0]["action"], "failed")
            self.assertEqual(groups[0]["status"], "5.4.6")
            self.assertIn(f"mail forwarding loop for {A}", dsn.body.decode(errors="replace"))
            self.assertIsNotNone(original)
            self.assertIn(msg, dsn.body, "the original message is returned")

            # Each server forwarded the message once, with its Delivered-To line on top.
            time.sleep(3)  # a loop would go on meanwhile (retries are 1-2 s)
            self.assertEqual(count(one, rf"to=<{A}>, relay=mx\.two\.test\[127\.0\.0\.1\]:\d+, .*status=sent"), 1,
                             one.log_tail())
            self.assertEqual(count(two, rf"to=<{B}>, relay=mx\.one\.test\[127\.0\.0\.1\]:\d+, .*status=sent"), 1,
                             two.log_tail())
            self.assertEqual(count(one, rf"to=<{A}>, relay=local, .*status=bounced \(mail forwarding loop for {A}\)"),
                             1, one.log_tail())
            self.assertEqual(count(one, rf"{qid}: to=<{A}>, relay=mx\.two\.test"), 1, "the first pass")
            self.assertEqual(len(one.maildir_messages(SENDER[0])), 1, "one DSN, no more")
            self.assertEqual(one.all_delivered_files(), [dsn.path], "nothing else delivered on one.test")
            self.assertEqual(two.all_delivered_files(), [], "nothing delivered on two.test")

    def test_forwarded_copy_carries_the_alias_in_delivered_to(self):
        """What the next hop sees: one Delivered-To line naming the alias, above the message."""
        with DnsServer(ZONES) as dns, \
                instance("one.test", {SENDER[0]: SENDER[1]}, {A: B}) as one, \
                instance("two.test", {"b@two.test": "b-password"}, {}) as two:
            point_at(one, dns, two)
            one.start()
            two.start()
            msg = h.make_message(subject="forwarded once", sender=SENDER[0], rcpt=A)
            one.submit(SENDER, [A], msg)
            got = two.wait_for_delivery(B, 1, timeout=30)[0]
            # two.test's Maildir adds its own Delivered-To (for b); below its Received
            # line is one.test's copy: Delivered-To: a@one.test, one.test's Received, the message.
            rest = got.body
            self.assertTrue(rest.startswith(b"Delivered-To: a@one.test\r\nReceived: "), rest[:200])
            self.assertTrue(rest.endswith(msg))


if __name__ == "__main__":
    unittest.main()
