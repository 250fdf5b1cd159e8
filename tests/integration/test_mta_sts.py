"""MTA-STS (RFC 8461) end to end: the policy is served over HTTPS by tests/support/https_server.py
(Python's http.server + ssl) on 127.0.0.1 with a certificate for mta-sts.remote.test from the receiver's test
CA; the test DNS server publishes _mta-sts.remote.test TXT and maps mta-sts.remote.test
and the MX hosts to 127.0.0.1; the MX is a second cartero. The sender trusts that CA
(delivery.ca_file) and fetches from the policy server's port (delivery.mta_sts_port).

DANE cannot be tested here (the test DNS server does not sign its zones): see
tests/unit/delivery/dane_test.cpp and docs/mta-sts-dane.md.
"""
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402
from https_server import HttpsServer  # noqa: E402

ALICE = ("alice@example.test", "alice-password")
BOB = "bob@remote.test"
POLICY_PATH = "/.well-known/mta-sts.txt"


def policy(mode: str, *mx: str, max_age: int = 86400) -> bytes:
    lines = ["version: STSv1", f"mode: {mode}", *[f"mx: {m}" for m in mx], f"max_age: {max_age}"]
    return ("\r\n".join(lines) + "\r\n").encode()


class PolicyServer(HttpsServer):
    """HTTPS on 127.0.0.1:PORT serving POLICY_PATH with `body`, `status`, `content_type`."""

    def __init__(self, cert: Path, key: Path, body: bytes, status: int = 200, content_type: str = "text/plain"):
        self.body, self.status, self.content_type = body, status, content_type
        super().__init__(cert, key, lambda host, path: (
            self.status if path == POLICY_PATH else 404, self.content_type, self.body))


def receiver(mx_name: str = "mx.remote.test", cert_name: str | None = None) -> h.Server:
    """A cartero that is the MX of remote.test, its certificate (from its own test CA)
    naming `cert_name` (default: `mx_name`)."""
    srv = h.Server(config={"local_domains": ["remote.test"], "hostname": mx_name}, roles=("mx",),
                   users={BOB: "bob-password"}, start=False, name="receiver")
    cert, key = srv.pki.issue("mx", sans=f"DNS:{cert_name or mx_name}")
    srv.config["tls"] = {"cert": str(cert), "key": str(key)}
    srv.write_config()
    srv.start()
    return srv


def policy_server(rx: h.Server, body: bytes, **kw) -> PolicyServer:
    cert, key = rx.pki.issue("mta-sts", sans="DNS:mta-sts.remote.test")
    return PolicyServer(cert, key, body, **kw)


def zones(mx_host: str = "mx.remote.test", sts_id: str = "1") -> dict:
    return {"remote.test": {"MX": [f"10 {mx_host}"]}, mx_host: {"A": "127.0.0.1"},
            "_mta-sts.remote.test": {"TXT": f"v=STSv1; id={sts_id}"},
            "mta-sts.remote.test": {"A": "127.0.0.1"}}


def sender(dns: DnsServer, rx: h.Server, https_port: int) -> h.Server:
    config = {"dns": {"resolver": dns.address, "timeout": "5s"},
              "delivery": {"remote_port": rx.port("mx"), "retry_initial": "1s", "retry_max": "2s",
                           "ca_file": str(rx.pki.ca_cert), "mta_sts_port": https_port,
                           "mta_sts_timeout": "5s"}}
    return h.Server(config=config, users={ALICE[0]: ALICE[1]}, name="sender")


def submit(srv: h.Server) -> str:
    return srv.submit(ALICE, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))



class MtaStsTest(unittest.TestCase):
    def test_enforce_with_a_matching_mx_and_a_valid_certificate_delivers(self):
        with receiver() as rx, policy_server(rx, policy("enforce", "mx.remote.test", "*.backup.test")) as web, \
                DnsServer(zones()) as dns, sender(dns, rx, web.port) as tx:
            qid = submit(tx)
            rx.wait_for_delivery(BOB, 1)
            tx.wait_log(rf"{qid}: MTA-STS policy of remote\.test: mode enforce, id 1, fetched")
            tx.wait_log(rf"{qid}: TLS to mx\.remote\.test\[127\.0\.0\.1\]:\d+: TLSv1\.[23] \S+, certificate verified, "
                         r"policy MTA-STS enforce")
            tx.wait_log(rf"{qid}: to=<{BOB}>, relay=mx\.remote\.test.*status=sent")
            self.assertEqual(web.requests[0], (POLICY_PATH, f"mta-sts.remote.test:{web.port}"))
            cached = tx.data_dir / "mta-sts" / "remote.test"
            self.assertTrue(cached.exists(), "the policy is cached in {data_dir}/mta-sts/")
            self.assertIn(b"mode: enforce", cached.read_bytes())
            # A second message uses the cached policy (same id): no new fetch.
            qid2 = submit(tx)
            rx.wait_for_delivery(BOB, 2)
            tx.wait_log(rf"{qid2}: MTA-STS policy of remote\.test: mode enforce, id 1, cached")
            self.assertEqual(len(web.requests), 1)

    def test_enforce_defers_when_the_mx_is_not_in_the_policy(self):
        with receiver() as rx, policy_server(rx, policy("enforce", "mx.elsewhere.test")) as web, \
                DnsServer(zones()) as dns, sender(dns, rx, web.port) as tx:
            qid = submit(tx)
            tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(MTA-STS policy of remote\.test "
                         r"\(enforce\): MX host mx\.remote\.test is not in the policy\)")
            time.sleep(0.5)
            self.assertEqual(rx.maildir_messages(BOB), [], "nothing is delivered to an MX outside the policy")

    def test_enforce_defers_when_the_certificate_does_not_name_the_mx(self):
        # The MX matches the policy, but its certificate is for another name.
        with receiver("mx2.remote.test", cert_name="wrong.remote.test") as rx, \
                policy_server(rx, policy("enforce", "*.remote.test")) as web, \
                DnsServer(zones("mx2.remote.test")) as dns, sender(dns, rx, web.port) as tx:
            qid = submit(tx)
            tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(MTA-STS policy of remote\.test "
                         r"\(enforce\): .*certificate verify failed: hostname mismatch")
            self.assertEqual(rx.maildir_messages(BOB), [])
            # The same MX without a policy: delivered with opportunistic TLS (the
            # certificate is then reported, not required).
            dns.remove("_mta-sts.remote.test")
            web.stop()
            (tx.data_dir / "mta-sts" / "remote.test").unlink()
            tx.restart()
            rx.wait_for_delivery(BOB, 1, timeout=20)
            tx.wait_log(rf"{qid}: TLS to mx2\.remote\.test\[127\.0\.0\.1\]:\d+: .*certificate not verified "
                         r"\(hostname mismatch\)")

    def test_testing_mode_delivers_and_logs_what_would_have_failed(self):
        with receiver() as rx, policy_server(rx, policy("testing", "mx.elsewhere.test")) as web, \
                DnsServer(zones()) as dns, sender(dns, rx, web.port) as tx:
            qid = submit(tx)
            rx.wait_for_delivery(BOB, 1)
            tx.wait_log(rf"{qid}: MTA-STS policy of remote\.test \(testing\): enforce would refuse "
                         r"mx\.remote\.test\[127\.0\.0\.1\]:\d+: MX host mx\.remote\.test is not in the policy; "
                         r"delivering anyway")
            tx.wait_log(rf"{qid}: TLS to mx\.remote\.test.*policy MTA-STS testing")
            tx.wait_log(rf"{qid}: to=<{BOB}>, .*status=sent")

    def test_redirects_and_wrong_content_type_are_not_policies(self):
        for kw, reason in (({"status": 301}, r"HTTP status 301 .*\(redirects are not followed\)"),
                           ({"content_type": "text/html"}, r'Content-Type "text/html" .* is not text/plain')):
            with self.subTest(**kw), receiver() as rx, \
                    policy_server(rx, policy("enforce", "mx.elsewhere.test"), **kw) as web, \
                    DnsServer(zones()) as dns, sender(dns, rx, web.port) as tx:
                qid = submit(tx)
                rx.wait_for_delivery(BOB, 1)  # no usable policy: delivered as usual (RFC 8461 3.3)
                tx.wait_log(rf"{qid}: MTA-STS for remote\.test: fetching the policy failed: {reason}; "
                             r"no policy applied")
                self.assertFalse((tx.data_dir / "mta-sts" / "remote.test").exists())

    def test_cached_policy_is_enforced_after_a_restart_when_the_policy_host_is_down(self):
        with receiver() as rx, DnsServer(zones()) as dns:
            web = policy_server(rx, policy("enforce", "mx.remote.test"))
            try:
                with sender(dns, rx, web.port) as tx:
                    submit(tx)
                    rx.wait_for_delivery(BOB, 1)
                    web.stop()  # the policy host goes down
                    # The domain moves its MX and announces a new policy id, which cannot be fetched.
                    dns.update(zones("mx9.remote.test", sts_id="2"))
                    dns.remove("mx.remote.test")
                    tx.restart()  # the memory cache is gone; the file remains
                    qid = submit(tx)
                    tx.wait_log(rf"{qid}: MTA-STS policy of remote\.test: mode enforce, id 1, refreshing the "
                                 r"policy failed \(.*\); the cached policy is still valid")
                    tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(MTA-STS policy of remote\.test "
                                 r"\(enforce\): MX host mx9\.remote\.test is not in the policy\)")
                    self.assertEqual(len(rx.maildir_messages(BOB)), 1, "the second message is not delivered")
            finally:
                web.stop()


if __name__ == "__main__":
    unittest.main()
