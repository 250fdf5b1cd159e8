"""The outbound path against misbehaving peers (issue 12, section 3): a 5xx greeting
from every MX defers instead of bouncing, a 250 reply to DATA is a protocol error and
never a delivery, and at most delivery.max_mx_addresses addresses are tried per attempt.
Peers are tests/support/scripted_smtp.py servers on 127.0.0.x, found through the test
DNS server."""
import re
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402
from scripted_smtp import ScriptedSmtp  # noqa: E402

ALICE = ("alice@example.test", "alice-password")
BOB = "bob@remote.test"


def sender(dns: DnsServer, remote_port: int, extra: dict | None = None) -> h.Server:
    config = {"dns": {"resolver": dns.address, "timeout": "5s"},
              "delivery": {"remote_port": remote_port, "retry_initial": "1h", "retry_max": "1h"}}
    return h.Server(config=h.deep_merge(config, extra or {}), users={ALICE[0]: ALICE[1]}, name="outbound")


def two_mx_zone() -> dict:
    return {"remote.test": {"MX": ["10 mx1.remote.test", "20 mx2.remote.test"]},
            "mx1.remote.test": {"A": "127.0.0.2"}, "mx2.remote.test": {"A": "127.0.0.3"}}


class OutboundPeersTest(unittest.TestCase):
    def test_5xx_greeting_from_every_mx_defers_and_bounces_nothing(self):
        port = h.free_port()
        with ScriptedSmtp("127.0.0.2", port, greeting="554 5.7.1 mx1 no SMTP service here") as mx1, \
                ScriptedSmtp("127.0.0.3", port, greeting="554 5.3.2 mx2 not accepting mail") as mx2, \
                DnsServer(two_mx_zone()) as dns, sender(dns, port) as tx:
            qid = tx.submit(ALICE, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
            tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(host mx2\.remote\.test\[127\.0\.0\.3\]"
                        rf":{port} refused to talk to me: 554 5\.3\.2 mx2 not accepting mail")
            self.assertIn("mx1.remote.test[127.0.0.2]", tx.log_text(), "the first MX was not tried")
            self.assertGreaterEqual(mx1.connections, 1)
            self.assertGreaterEqual(mx2.connections, 1)
            time.sleep(1)
            self.assertNotIn("status=bounced", tx.log_text())
            self.assertEqual(tx.maildir_messages(ALICE[0]), [], "a DSN went to the sender")
            listing = tx.cli("queue", "list").stdout
            self.assertIn(qid, listing)

    def test_250_to_data_is_never_taken_as_delivered(self):
        port = h.free_port()
        zone = {"remote.test": {"MX": ["10 mx1.remote.test"]}, "mx1.remote.test": {"A": "127.0.0.2"}}
        with ScriptedSmtp("127.0.0.2", port, replies={"DATA": "250 2.0.0 sure, got it"}) as mx, \
                DnsServer(zone) as dns, sender(dns, port) as tx:
            qid = tx.submit(ALICE, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
            tx.wait_log(rf"{qid}: to=<{BOB}>, relay=.*status=deferred \(.*answered DATA with 250 instead of 354")
            self.assertNotIn("status=sent", tx.log_text())
            self.assertEqual(mx.messages, [], "message text was sent without a 354")
            self.assertIn("DATA", mx.commands)

    def test_at_most_max_mx_addresses_are_tried(self):
        # Five MX hosts where nothing listens (connection refused): only two are tried.
        zone = {"remote.test": {"MX": [f"{10 * i} mx{i}.remote.test" for i in range(1, 6)]}}
        for i in range(1, 6):
            zone[f"mx{i}.remote.test"] = {"A": f"127.0.0.{10 + i}"}
        with DnsServer(zone) as dns, sender(dns, h.free_port(), {"delivery": {"max_mx_addresses": 2}}) as tx:
            qid = tx.submit(ALICE, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
            tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred")
            tx.wait_log(rf"{qid}: 5 server addresses for remote\.test; trying the first 2 \(delivery\.max_mx_addresses\)")
            tried = re.findall(rf"{qid}: (mx\d\.remote\.test)\[[^]]*\]:\d+ not used", tx.log_text())
            self.assertEqual(tried, ["mx1.remote.test", "mx2.remote.test"])


if __name__ == "__main__":
    unittest.main()
