"""Sign only what is ours (issue 8 section 2): DKIM signatures only for our
users' mail, with the key of the From: domain; the From: header of an
authenticated user checked like MAIL FROM; SRS for mail forwarded by alias, and
bounces to SRS addresses unwrapped and forwarded.

Two cartero instances on loopback: the forwarder (example.test, with a DKIM key
and an alias fwd@example.test -> bob@remote.test) and the receiver, MX of
remote.test, found through the test DNS server. Signatures are verified with
Debian's python3-dkim, which shares no code with cartero.
"""
import re
import smtplib
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402

ALICE = ("alice@example.test", "alice-password")
BOB = "bob@remote.test"
CAROL = "carol@remote.test"
ZONES = {"remote.test": {"MX": ["10 mx.remote.test"]}, "mx.remote.test": {"A": "127.0.0.1"}}
SRS_RE = r"<(SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=%s=%s@example\.test)>"


def receiver() -> h.Server:
    return h.Server(config={"local_domains": ["remote.test"], "hostname": "mx.remote.test"}, roles=("mx",),
                    users={BOB: "bob-password", CAROL: "carol-password"}, name="receiver")


def forwarder(dns: DnsServer, remote_port: int, extra: dict | None = None) -> h.Server:
    """example.test and other.test, each with a DKIM key published in `dns`; alice
    owns alias@other.test; fwd@example.test forwards to bob@remote.test."""
    config = {"local_domains": ["example.test", "other.test"],
              "dns": {"resolver": dns.address, "timeout": "5s"},
              "delivery": {"remote_port": remote_port, "retry_initial": "1s", "retry_max": "2s"}}
    srv = h.Server(config=h.deep_merge(config, extra or {}), users={ALICE[0]: ALICE[1], "dave@example.test": "dave-pw-123"},
                   aliases={"fwd@example.test": BOB, "alias@other.test": ALICE[0]}, start=False, name="forwarder")
    for domain in ("example.test", "other.test"):
        out = srv.cli("dkim", "keygen", domain, "--selector", "s1").stdout
        dns.set_name(f"s1._domainkey.{domain}", {"TXT": "".join(re.findall(r'"([^"]*)"', out))})
    return srv


def from_dns_of(dns: DnsServer):
    from dnslib import DNSRecord

    def lookup(name, timeout=5):
        answer = DNSRecord.parse(DNSRecord.question(name.decode().rstrip("."), "TXT").send(
            "127.0.0.1", dns.port, timeout=timeout))
        return b"".join(b"".join(rr.rdata.data) for rr in answer.rr)
    return lookup


def send_from_internet(srv: h.Server, sender: str, rcpt: str, msg: bytes) -> None:
    with srv.smtp("mx") as s:
        code, text = h.send_with_smtplib(s, sender, [rcpt], msg)
    assert code == 250, (code, text)


class SigningTest(unittest.TestCase):
    def test_forwarded_internet_mail_claiming_our_domain_is_unsigned_and_srs_rewritten(self):
        with receiver() as rx, DnsServer(ZONES) as dns, forwarder(dns, rx.port("mx")) as fx:
            fx.start()
            msg = h.make_message(subject="wire the money", sender="ceo@example.test", rcpt="fwd@example.test")
            send_from_internet(fx, "ceo@example.test", "fwd@example.test", msg)
            got = rx.wait_for_delivery(BOB, 1)[0]
            self.assertNotIn(b"DKIM-Signature:", got.raw, "mail from the internet must not be signed by us")
            self.assertTrue(got.body.endswith(msg))
            self.assertRegex(got.trace["return-path"], SRS_RE % (r"example\.test", "ceo"),
                             "the forwarded copy leaves with an SRS sender")

    def test_authenticated_mail_is_signed_as_the_from_domain_and_verifies(self):
        import dkim  # Debian's python3-dkim
        with receiver() as rx, DnsServer(ZONES) as dns, forwarder(dns, rx.port("mx")) as fx:
            fx.start()
            # MAIL FROM in example.test, From: in other.test (alice's alias): d= follows From.
            msg = h.make_message(subject="signed", sender="alias@other.test", rcpt=BOB)
            fx.submit(ALICE, [BOB], msg)
            got = rx.wait_for_delivery(BOB, 1)[0]
            self.assertIn(b"DKIM-Signature:", got.raw)
            self.assertRegex(got.raw, rb"\sd=other\.test;")
            self.assertNotRegex(got.raw, rb"\sd=example\.test;")
            self.assertTrue(dkim.verify(got.raw, dnsfunc=from_dns_of(dns)), "python3-dkim verifies the signature")
            self.assertEqual(got.trace["return-path"], f"<{ALICE[0]}>", "our users' mail keeps its sender (no SRS)")

    def test_someone_elses_from_is_refused_naming_the_header_unless_switched_off(self):
        with DnsServer(ZONES) as dns:
            for check, want in ((True, 553), (False, 250)):
                with self.subTest(check_from_header=check), \
                        forwarder(dns, h.free_port(), {"policy": {"check_from_header": check}}) as fx:
                    fx.start()
                    msg = h.make_message(sender="dave@example.test", rcpt=BOB)
                    with fx.smtp("submission", login=ALICE) as s:
                        s.mail(ALICE[0])
                        s.rcpt(BOB)
                        try:
                            code, text = s.data(msg)
                        except smtplib.SMTPDataError as refused:
                            code, text = refused.smtp_code, refused.smtp_error
                    self.assertEqual(code, want, text)
                    if check:
                        self.assertEqual(text.decode(), "5.7.1 <dave@example.test>: From: header address not owned by "
                                                       "user alice@example.test")


class SrsBounceTest(unittest.TestCase):
    def test_bounce_to_the_srs_address_reaches_the_original_sender_and_forgeries_are_refused(self):
        with receiver() as rx, DnsServer(ZONES) as dns, forwarder(dns, rx.port("mx")) as fx:
            fx.start()
            send_from_internet(fx, CAROL, "fwd@example.test", h.make_message(sender=CAROL, rcpt="fwd@example.test"))
            forwarded = rx.wait_for_delivery(BOB, 1)[0]
            srs = re.fullmatch(SRS_RE % (r"remote\.test", "carol"), forwarded.trace["return-path"]).group(1)
            with fx.raw("mx") as c:
                self.assertEqual(c.reply().code, 220)
                c.ehlo()
                self.assertEqual(c.cmd("MAIL FROM:<>").code, 250)
                for forged in ("SRS0=AAAA=AA=remote.test=carol@example.test", srs.replace("=carol@", "=mallory@"),
                               srs[:5] + ("B" if srs[5].lower() != "b" else "C") + srs[6:]):
                    reply = c.cmd(f"RCPT TO:<{forged}>")
                    self.assertEqual((reply.code, reply.enhanced), (550, "5.1.1"), f"{forged}: {reply}")
                self.assertEqual(c.cmd(f"RCPT TO:<{srs}>").code, 250)
                self.assertEqual(c.cmd("DATA").code, 354)
                c.send(h.make_message(subject="Undelivered Mail", sender="MAILER-DAEMON@remote.test", rcpt=srs) + b".\r\n")
                self.assertEqual(c.reply().code, 250)
            bounce = rx.wait_for_delivery(CAROL, 1)[0]
            self.assertIn(b"Undelivered Mail", bounce.raw)
            self.assertEqual(bounce.trace["return-path"], "<>", "a bounce keeps the null sender")
            self.assertNotIn(b"DKIM-Signature:", bounce.raw)


if __name__ == "__main__":
    unittest.main()
