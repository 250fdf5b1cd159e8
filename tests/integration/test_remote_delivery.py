"""Remote delivery (issue 4): MX lookup through a real DNS server on loopback, SMTP to
real peers — a second cartero as the remote MX, Postfix's smtp-sink — opportunistic
and required STARTTLS, retries, per-recipient results, and a smarthost with
STARTTLS + AUTH.

Every host of the test zones is a 127.0.0.x address; the remote MX port is the
receiving server's mx port (delivery.remote_port), so nothing leaves loopback.
"""
import email
import email.policy
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402

ALICE = ("alice@example.test", "alice-password")
BOB = "bob@remote.test"


def receiver(start: bool = True, **kw) -> h.Server:
    """A cartero that is the MX of remote.test, with a certificate for mx.remote.test
    issued by its own test CA."""
    srv = h.Server(config={"local_domains": ["remote.test"], "hostname": "mx.remote.test"},
                   roles=kw.pop("roles", ("mx",)), users={BOB: "bob-password"}, start=False, name="receiver", **kw)
    cert, key = srv.pki.issue("mx-remote", sans="DNS:mx.remote.test")
    srv.config["tls"] = {"cert": str(cert), "key": str(key)}
    srv.write_config()
    srv._start_requested = start
    return srv


def sender(dns: DnsServer, remote_port: int, extra: dict | None = None) -> h.Server:
    config = {"dns": {"resolver": dns.address, "timeout": "5s"},
              "delivery": {"remote_port": remote_port, "retry_initial": "1s", "retry_max": "2s"}}
    return h.Server(config=h.deep_merge(config, extra or {}), users={ALICE[0]: ALICE[1]}, name="sender")


def submit(srv: h.Server, rcpts: list[str], msg: bytes) -> str:
    return srv.submit(ALICE, rcpts, msg)



class MxDeliveryTest(unittest.TestCase):
    def test_delivered_to_the_mx_over_starttls_byte_for_byte(self):
        with receiver() as rx:
            zones = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns, sender(dns, rx.port("mx")) as tx:
                msg = h.make_message(subject="to the MX", sender=ALICE[0], rcpt=BOB,
                                     body=b"line one\r\n.leading dot\r\n\r\n" + b"x" * 3000 + b"\r\n")
                qid = submit(tx, [BOB], msg)
                got = rx.wait_for_delivery(BOB, 1)[0]
                self.assertTrue(got.body.endswith(msg), "the message arrives unchanged after our trace headers")
                self.assertIn("with ESMTPS", got.received, "opportunistic STARTTLS was used")
                tx.wait_log(rf"{qid}: to=<{BOB}>, relay=mx\.remote\.test\[127\.0\.0\.1\]:{rx.port('mx')}, .*status=sent")
                tx.wait_log(rf"{qid}: TLS to mx\.remote\.test\[127\.0\.0\.1\]")

    def test_lower_preference_mx_is_used_when_the_first_is_down(self):
        with receiver() as rx:
            zones = {"remote.test": {"MX": ["10 down.remote.test", "20 mx.remote.test"]},
                     "down.remote.test": {"A": "127.0.0.2"},   # nothing listens there
                     "mx.remote.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns, sender(dns, rx.port("mx")) as tx:
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                rx.wait_for_delivery(BOB, 1)
                tx.wait_log(rf"{qid}: down\.remote\.test\[127\.0\.0\.2\]:\d+ not used: .*refused")
                tx.wait_log(rf"{qid}: to=<{BOB}>, relay=mx\.remote\.test\[127\.0\.0\.1\].*status=sent")

    def test_domain_without_mx_gets_mail_at_its_address(self):
        with receiver(start=False) as rx:
            rx.config["local_domains"] = ["remote.test", "plain.test"]
            rx.write_config()
            rx.add_user("carol@plain.test", "carol-password")
            rx.start()
            with DnsServer({"plain.test": {"A": "127.0.0.1"}}) as dns, sender(dns, rx.port("mx")) as tx:
                submit(tx, ["carol@plain.test"], h.make_message(sender=ALICE[0], rcpt="carol@plain.test"))
                rx.wait_for_delivery("carol@plain.test", 1)

    def test_null_mx_and_missing_domain_bounce_at_once(self):
        zones = {"null.test": {"MX": ["0 ."]}}
        with DnsServer(zones) as dns, sender(dns, h.free_port()) as tx:
            qid = submit(tx, ["a@null.test", "b@missing.test"], h.make_message(sender=ALICE[0], rcpt="a@null.test"))
            tx.wait_log(rf"{qid}: to=<a@null\.test>, relay=none, .*status=bounced \(.*null MX")
            tx.wait_log(rf"{qid}: to=<b@missing\.test>, relay=none, .*status=bounced")
            self.assertNotRegex(tx.log_text(), rf"{qid}: to=<a@null\.test>.*status=deferred")

    def test_per_recipient_results_one_delivered_one_refused(self):
        with receiver() as rx:
            zones = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns, sender(dns, rx.port("mx")) as tx:
                qid = submit(tx, [BOB, "nobody@remote.test"], h.make_message(sender=ALICE[0], rcpt=BOB))
                rx.wait_for_delivery(BOB, 1)
                tx.wait_log(rf"{qid}: to=<nobody@remote\.test>, relay=mx\.remote\.test.*status=bounced \(.*550 5\.1\.1")
                tx.wait_log(rf"{qid}: to=<{BOB}>, .*status=sent")
                tx.wait_log(rf"{qid}: removed")

    def test_unreachable_mx_is_retried_until_it_answers(self):
        rx = receiver(start=False)
        try:
            zones = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns, sender(dns, rx.port("mx")) as tx:
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(.*refused")
                rx.start()
                rx.wait_for_delivery(BOB, 1, timeout=20)
                tx.wait_log(rf"{qid}: to=<{BOB}>, relay=mx\.remote\.test.*status=sent")
        finally:
            rx.stop()
            rx.cleanup()

    def test_smtp_sink_temporary_and_permanent_replies(self):
        """Postfix's smtp-sink as the MX: 4xx to RCPT keeps the mail queued, 5xx bounces it."""
        sink_bin = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        for flag, want in (("-r", "deferred"), ("-f", "bounced")):
            port = h.free_port()
            # -r/-f RCPT: a soft (4xx) / hard (5xx) reply to RCPT (smtp-sink(1)); -u: run as nobody when root.
            sink = subprocess.Popen([sink_bin, "-u", "nobody", flag, "RCPT", f"127.0.0.1:{port}", "10"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                self.assertTrue(h.wait_port(port, time.monotonic() + 10), "smtp-sink did not start")
                zones = {"sink.test": {"MX": ["10 mx.sink.test"]}, "mx.sink.test": {"A": "127.0.0.1"}}
                with DnsServer(zones) as dns, sender(dns, port) as tx:
                    qid = submit(tx, ["u@sink.test"], h.make_message(sender=ALICE[0], rcpt="u@sink.test"))
                    tx.wait_log(rf"{qid}: to=<u@sink\.test>, relay=mx\.sink\.test\[127\.0\.0\.1\]:{port}, .*status={want}")
            finally:
                sink.terminate()
                sink.wait(10)


def dsn_parts(raw: bytes) -> tuple[email.message.EmailMessage, list[dict[str, str]], email.message.Message]:
    """Parses a DSN with Python's email package: the message, the per-recipient
    delivery-status groups (field names lower case) and the returned original part."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status", msg.get_param("report-type")
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    groups = [{k.lower(): v for k, v in g.items()} for g in parts[1].get_payload()]
    return msg, groups[1:], parts[2] if len(parts) > 2 else None


def wait_dsn(srv: h.Server, address: str, count: int = 1, timeout: float = 20.0) -> list[h.Delivered]:
    return srv.wait_for_delivery(address, count, timeout=timeout)


class BounceTest(unittest.TestCase):
    ZONES = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"},
             "null.test": {"MX": ["0 ."]}}

    def test_refused_recipient_gets_a_dsn_the_delivered_one_does_not(self):
        with receiver() as rx, DnsServer(self.ZONES) as dns, sender(dns, rx.port("mx")) as tx:
            msg = h.make_message(subject="partly refused", sender=ALICE[0], rcpt=BOB)
            qid = submit(tx, [BOB, "nobody@remote.test"], msg)
            rx.wait_for_delivery(BOB, 1)
            dsn = wait_dsn(tx, ALICE[0])[0]
            head, groups, original = dsn_parts(dsn.body)
            self.assertEqual(head["Subject"], "Undelivered Mail Returned to Sender")
            self.assertIn("MAILER-DAEMON@mx.example.test", head["From"])
            self.assertEqual(head["Auto-Submitted"], "auto-replied")
            self.assertEqual(dsn.trace.get("return-path"), "<>", "a DSN comes from the null sender")
            self.assertEqual(len(groups), 1, groups)
            self.assertEqual(groups[0]["final-recipient"], "rfc822; nobody@remote.test")
            self.assertEqual(groups[0]["action"], "failed")
            self.assertEqual(groups[0]["status"], "5.1.1")
            self.assertEqual(groups[0]["remote-mta"], "dns; mx.remote.test")
            self.assertRegex(groups[0]["diagnostic-code"], r"^smtp; 550 5\.1\.1")
            self.assertIsNotNone(original)
            self.assertIn(msg, dsn.body, "the original message is returned whole, byte for byte")
            self.assertIn(qid, dsn.body.decode(errors="replace"))

    def test_null_mx_bounce_and_no_bounce_for_the_null_sender(self):
        with DnsServer(self.ZONES) as dns, sender(dns, h.free_port(),
                                                   {"trusted_networks": ["127.0.0.1/32"]}) as tx:
            qid = submit(tx, ["a@null.test"], h.make_message(sender=ALICE[0], rcpt="a@null.test"))
            _, groups, _ = dsn_parts(wait_dsn(tx, ALICE[0])[0].body)
            self.assertEqual(groups[0]["status"], "5.1.10")
            # The same failure for a message from <> produces no DSN (no bounce loops).
            with tx.smtp("mx") as s:
                code, text = h.send_with_smtplib(s, "", ["b@null.test"], h.make_message(sender="", rcpt="b@null.test"))
            self.assertEqual(code, 250, text)
            null_qid = h.queue_id(text)
            tx.wait_log(rf"{null_qid}: to=<b@null\.test>, .*status=bounced")
            tx.wait_log(rf"{null_qid}: removed")
            self.assertNotIn(f"{null_qid}: sender non-delivery notification", tx.log_text())
            self.assertIn(f"{qid}: sender non-delivery notification", tx.log_text())
            self.assertEqual(len(tx.maildir_messages(ALICE[0])), 1)

    def test_expiry_bounces_with_the_last_error(self):
        with DnsServer(self.ZONES) as dns, sender(dns, h.free_port(), {"delivery": {"queue_lifetime": "3s"}}) as tx:
            qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
            _, groups, _ = dsn_parts(wait_dsn(tx, ALICE[0])[0].body)
            self.assertEqual(groups[0]["action"], "failed")
            self.assertEqual(groups[0]["status"], "4.4.7", groups[0])
            tx.wait_log(rf"{qid}: to=<{BOB}>, .*status=bounced \(queue lifetime expired; last error: .*refused")

    def test_expiry_after_a_server_kept_deferring_says_we_gave_up_with_4_4_7(self):
        """Issue 8: the server answered 450 4.3.0 until the lifetime ran out. The DSN's Status is
        4.4.7 (not the server's 4.3.0, which stays in Diagnostic-Code), and its text says that
        delivery was abandoned, after how long, and quotes the last error."""
        sink_bin = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        port = h.free_port()
        sink = subprocess.Popen([sink_bin, "-u", "nobody", "-r", "RCPT", f"127.0.0.1:{port}", "10"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(h.wait_port(port, time.monotonic() + 10), "smtp-sink did not start")
            zones = {"sink.test": {"MX": ["10 mx.sink.test"]}, "mx.sink.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns, sender(dns, port, {"delivery": {"queue_lifetime": "3s"}}) as tx:
                qid = submit(tx, ["u@sink.test"], h.make_message(sender=ALICE[0], rcpt="u@sink.test"))
                tx.wait_log(rf"{qid}: to=<u@sink\.test>, .*status=bounced \(queue lifetime expired; last error: .*450")
                _, groups, _ = dsn_parts(wait_dsn(tx, ALICE[0])[0].body)
                self.assertEqual(groups[0]["action"], "failed")
                self.assertEqual(groups[0]["status"], "4.4.7", groups[0])
                self.assertIn("450 4.3.0", groups[0]["diagnostic-code"])
                text = email.message_from_bytes(wait_dsn(tx, ALICE[0])[0].body).get_payload()[0].get_payload()
                flat = " ".join(text.split())
                self.assertIn("could not be delivered: the mail system gave up.", flat)
                self.assertIn("Delivery was abandoned after 3 seconds of failed attempts", flat)
                self.assertIn("The server mx.sink.test answered: 450 4.3.0 Error: command failed", flat)
                self.assertIn("(4.4.7)", flat)
        finally:
            sink.terminate()
            sink.wait(10)

    def test_delay_warning_once_then_delivery(self):
        rx = receiver(start=False)
        try:
            with DnsServer(self.ZONES) as dns, sender(dns, rx.port("mx"), {"delivery": {"delay_warning": "2s"}}) as tx:
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                head, groups, original = dsn_parts(wait_dsn(tx, ALICE[0])[0].body)
                self.assertEqual(head["Subject"], "Delayed Mail (still being retried)")
                self.assertEqual(groups[0]["action"], "delayed")
                self.assertIn("will-retry-until", groups[0])
                rx.start()
                rx.wait_for_delivery(BOB, 1, timeout=20)
                tx.wait_log(rf"{qid}: removed")
                self.assertEqual(len(tx.maildir_messages(ALICE[0])), 1, "one warning only")
        finally:
            rx.stop()
            rx.cleanup()


class RestartTest(unittest.TestCase):
    def test_queued_remote_mail_survives_a_restart_and_is_delivered_once(self):
        rx = receiver(start=False)
        try:
            zones = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns, sender(dns, rx.port("mx")) as tx:
                msg = h.make_message(subject="across a restart", sender=ALICE[0], rcpt=BOB)
                qid = submit(tx, [BOB], msg)
                tx.wait_log(rf"{qid}: to=<{BOB}>, .*status=deferred")
                tx.kill9()
                rx.start()
                tx.start()
                self.assertTrue(rx.wait_for_delivery(BOB, 1)[0].body.endswith(msg))
                tx.wait_log(rf"{qid}: removed")
                time.sleep(1.5)
                self.assertEqual(len(rx.maildir_messages(BOB)), 1, "delivered exactly once")
        finally:
            rx.stop()
            rx.cleanup()


class TricklePeer:
    """tests/support/trickle_peer.py: an MX that answers one octet every `interval` seconds."""

    SCRIPT = Path(__file__).resolve().parents[1] / "support" / "trickle_peer.py"

    def __init__(self, tmp: Path, mode: str, interval: str = "0.5"):
        self.port_file = tmp / f"trickle-{mode}.port"
        self.log_path = tmp / f"trickle-{mode}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["/usr/bin/python3", str(self.SCRIPT), str(self.port_file), mode, interval],
                                     stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + 10
        while not self.port_file.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("trickle_peer.py did not start")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())

    def connections(self) -> int:
        return self.log_path.read_text().count("connection ")

    def wait_connection(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.connections() == 0:
            if time.monotonic() > deadline:
                raise AssertionError("nobody connected to the trickling peer")
            time.sleep(0.05)

    def __enter__(self) -> "TricklePeer":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._log.close()


class TrickleTest(unittest.TestCase):
    """Issue 8: a remote MX that trickles its replies cannot hold a delivery slot past
    delivery.command_timeout, nor keep SIGTERM from stopping the server."""
    ZONES = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}

    def test_trickling_greeting_is_deferred_within_command_timeout(self):
        with DnsServer(self.ZONES) as dns:
            for mode in ("greeting", "lines"):
                with self.subTest(mode=mode), tempfile.TemporaryDirectory() as tmp, \
                        TricklePeer(Path(tmp), mode) as peer, \
                        sender(dns, peer.port, {"delivery": {"command_timeout": "2s", "retry_initial": "1h",
                                                             "retry_max": "1h"}}) as tx:
                    t0 = time.monotonic()
                    qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                    tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(.*timed out \(waiting for the "
                                rf"greeting\)", timeout=15)
                    self.assertLess(time.monotonic() - t0, 2 + 5, "deferred long after command_timeout")

    def test_sigterm_abandons_a_stuck_delivery_and_the_restart_delivers_it_once(self):
        rx = receiver(start=False)
        try:
            with DnsServer(self.ZONES) as dns, TricklePeer(Path(rx.tmp), "greeting") as peer, \
                    sender(dns, peer.port, {"delivery": {"command_timeout": "1h", "shutdown_grace": "2s"},
                                            "limits": {"shutdown_grace": "1s"}}) as tx:
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                peer.wait_connection()
                time.sleep(0.5)
                t0 = time.monotonic()
                tx.signal(signal.SIGTERM)
                try:
                    rc = tx.proc.wait(1 + 2 + 6)
                except subprocess.TimeoutExpired:
                    self.fail("cartero did not exit within limits.shutdown_grace + delivery.shutdown_grace + 6 s "
                              "with a delivery stuck on a trickling MX")
                self.assertEqual(rc, 0, tx.log_tail())
                self.assertLess(time.monotonic() - t0, 1 + 2 + 6)
                tx.stop()  # already exited: closes its log
                log = tx.log_text()
                self.assertIn("abandoning 1 deliveries still in progress after delivery.shutdown_grace", log)
                self.assertRegex(log, rf"{qid}: to=<{BOB}>, .*status=deferred \(delivery abandoned because "
                                      rf"cartero is stopping")
                self.assertNotRegex(log, rf"{qid}: to=<{BOB}>, .*status=(sent|bounced)")
                # The restart sends it to a server that answers, once.
                rx.start()
                tx.config["delivery"]["remote_port"] = rx.port("mx")
                tx.write_config()
                tx.start()
                rx.wait_for_delivery(BOB, 1, timeout=20)
                tx.wait_log(rf"{qid}: to=<{BOB}>, relay=mx\.remote\.test.*status=sent")
                time.sleep(1.5)
                self.assertEqual(len(rx.maildir_messages(BOB)), 1, "delivered more than once")
        finally:
            rx.stop()
            rx.cleanup()


class DkimTest(unittest.TestCase):
    def test_signature_verified_by_an_independent_verifier_with_the_key_from_dns(self):
        import dkim  # Debian's python3-dkim
        from dnslib import DNSRecord

        with receiver() as rx, DnsServer({"remote.test": {"MX": ["10 mx.remote.test"]},
                                          "mx.remote.test": {"A": "127.0.0.1"}}) as dns:
            tx = sender(dns, rx.port("mx"))
            try:
                tx.stop()
                out = tx.cli("dkim", "keygen", "example.test", "--selector", "s2026").stdout
                record = "".join(re.findall(r'"([^"]*)"', out))
                dns.set_name("s2026._domainkey.example.test", {"TXT": record})
                tx.start()

                def from_dns(name, timeout=5):
                    answer = DNSRecord.parse(DNSRecord.question(name.decode().rstrip("."), "TXT").send(
                        "127.0.0.1", dns.port, timeout=timeout))
                    return b"".join(b"".join(rr.rdata.data) for rr in answer.rr)

                msg = h.make_message(subject="signed", sender=ALICE[0], rcpt=BOB, body="Grüße\r\n".encode())
                submit(tx, [BOB], msg)
                got = rx.wait_for_delivery(BOB, 1)[0]
                self.assertIn(b"DKIM-Signature:", got.raw)
                self.assertTrue(dkim.verify(got.raw, dnsfunc=from_dns), "python3-dkim verifies the signature")
                tampered = got.raw.replace(b"signed", b"Signed", 1)
                self.assertFalse(dkim.verify(tampered, dnsfunc=from_dns), "a changed Subject must fail")
            finally:
                tx.stop()
                tx.cleanup()


def hup(srv: h.Server) -> None:
    """SIGHUP, then wait for the server's verdict; fails the test if the reload was refused."""
    before = len(re.findall(r"reloaded configuration|reload refused", srv.log_text()))
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        verdicts = re.findall(r"reloaded configuration|reload refused", srv.log_text())
        if len(verdicts) > before:
            assert verdicts[-1] == "reloaded configuration", srv.log_tail(20)
            return
        time.sleep(0.05)
    raise AssertionError("no reload verdict in the log\n" + srv.log_tail(20))


class ReloadTest(unittest.TestCase):
    """Issue 8, section 6: SIGHUP reloads the DKIM keys and the resolver (dns.*)."""
    ZONES = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}

    def test_dkim_key_added_while_running_signs_after_sighup(self):
        with receiver() as rx, DnsServer(self.ZONES) as dns, sender(dns, rx.port("mx")) as tx:
            submit(tx, [BOB], h.make_message(subject="before", sender=ALICE[0], rcpt=BOB))
            self.assertNotIn(b"DKIM-Signature:", rx.wait_for_delivery(BOB, 1)[0].raw)
            tx.cli("dkim", "keygen", "example.test", "--selector", "s2026")
            hup(tx)
            tx.wait_log(r"DKIM key for example.test \(selector s2026\) loaded")
            submit(tx, [BOB], h.make_message(subject="after", sender=ALICE[0], rcpt=BOB))
            after = [m for m in rx.wait_for_delivery(BOB, 2) if b"Subject: after" in m.raw]
            self.assertEqual(len(after), 1)
            self.assertIn(b"s=s2026", after[0].raw, "the key added before SIGHUP does not sign")

    def test_dns_resolver_change_applies_after_sighup(self):
        nothing = {"dns": {"resolver": "127.0.0.1:9", "timeout": "1s"}}  # no DNS server there
        with receiver() as rx, DnsServer(self.ZONES) as dns, sender(dns, rx.port("mx"), nothing) as tx:
            qid = submit(tx, [BOB], h.make_message(subject="waits for DNS", sender=ALICE[0], rcpt=BOB))
            tx.wait_log(rf"{qid}: to=<{BOB}>, .*status=deferred")
            tx.config["dns"]["resolver"] = dns.address
            tx.write_config()
            hup(tx)
            tx.cli("queue", "flush")
            rx.wait_for_delivery(BOB, 1, timeout=20)


class TlsPolicyTest(unittest.TestCase):
    ZONES = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}

    def test_must_with_an_untrusted_certificate_is_deferred_with_the_reason(self):
        with receiver() as rx, DnsServer(self.ZONES) as dns:
            extra = {"destination": [{"domain": "remote.test", "tls": "must"}]}
            with sender(dns, rx.port("mx"), extra) as tx:
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                tx.wait_log(rf"{qid}: to=<{BOB}>, relay=none, .*status=deferred \(.*certificate verify failed")
                self.assertEqual(rx.maildir_messages(BOB), [], "nothing may be sent without a verified certificate")

    def test_must_with_the_right_ca_delivers(self):
        with receiver() as rx, DnsServer(self.ZONES) as dns:
            extra = {"destination": [{"domain": "remote.test", "tls": "must"}],
                     "delivery": {"ca_file": str(rx.pki.ca_cert)}}
            with sender(dns, rx.port("mx"), extra) as tx:
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                rx.wait_for_delivery(BOB, 1)
                tx.wait_log(rf"{qid}: TLS to mx\.remote\.test.*certificate verified")

    def test_ca_file_adds_to_the_system_store(self):
        # The "system store" is the receiver's CA (OpenSSL reads SSL_CERT_FILE for it);
        # delivery.ca_file names another, private CA. Both are trusted: pointing
        # ca_file at an internal relay's CA must not break delivery to the internet.
        with receiver() as rx, DnsServer(self.ZONES) as dns:
            private_ca = h.TestPKI(Path(rx.tmp) / "private-ca")
            extra = {"destination": [{"domain": "remote.test", "tls": "must"}],
                     "delivery": {"ca_file": str(private_ca.ca_cert)}}
            with sender(dns, rx.port("mx"), extra) as tx:
                tx.stop()
                tx.extra_env = {"SSL_CERT_FILE": str(rx.pki.ca_cert)}
                tx.start()
                qid = submit(tx, [BOB], h.make_message(sender=ALICE[0], rcpt=BOB))
                rx.wait_for_delivery(BOB, 1)
                tx.wait_log(rf"{qid}: TLS to mx\.remote\.test.*certificate verified")


class SmarthostTest(unittest.TestCase):
    def test_relay_with_starttls_and_auth(self):
        """The guide's case: all remote mail through a provider's port 587 with an app password."""
        with receiver(roles=("mx", "submission"), start=False) as smarthost:
            # The provider knows alice's address (its users may send only as themselves).
            smarthost.config["local_domains"] = ["remote.test", "example.test"]
            smarthost.write_config()
            smarthost.add_user(ALICE[0], "relay-secret")
            smarthost.start()
            zones = {"mx.remote.test": {"A": "127.0.0.1"}}
            with DnsServer(zones) as dns:
                password_file = Path(smarthost.tmp) / "relay.password"
                password_file.write_text("relay-secret\n")
                password_file.chmod(0o600)
                extra = {"delivery": {"relay": "provider", "ca_file": str(smarthost.pki.ca_cert)},
                         "relay": [{"name": "provider", "host": "mx.remote.test",
                                    "port": smarthost.port("submission"), "tls": "starttls",
                                    "username": ALICE[0], "password_file": str(password_file)}]}
                with sender(dns, h.free_port(), extra) as tx:
                    msg = h.make_message(subject="via the smarthost", sender=ALICE[0], rcpt=BOB)
                    qid = submit(tx, [BOB], msg)
                    got = smarthost.wait_for_delivery(BOB, 1)[0]
                    self.assertTrue(got.body.endswith(msg))
                    self.assertIn("ESMTPSA", got.received, "TLS and AUTH were used")
                    tx.wait_log(rf"{qid}: to=<{BOB}>, relay=mx\.remote\.test\[127\.0\.0\.1\]:{smarthost.port('submission')}, .*status=sent")


if __name__ == "__main__":
    unittest.main()
