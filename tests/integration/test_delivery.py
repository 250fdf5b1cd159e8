"""Delivery end to end with real clients (issue 2, sections 2, 3, 5, 6).

Each test sends a message with a unique token and asserts it landed in the recipient's
Maildir byte for byte, with Return-Path / Delivered-To / Received (queue ID, ESMTP[S][A]).
One server per class: every test uses its own token, so tests cannot see each other's mail.
"""
import os
import shutil
import smtplib
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ALICE, ALICE_PW = "alice@example.test", "alice-Secret-1"
BOB, BOB_PW = "bob@example.test", "bob-Secret-2"
CAROL, CAROL_PW = "carol@example.test", "carol-Secret-3"
USERS = {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}
SWAKS_TLS = bool(shutil.which("swaks")) and "=== TLS supported" in subprocess.run(
    ["swaks", "--support"], capture_output=True, text=True).stdout + subprocess.run(
    ["swaks", "--support"], capture_output=True, text=True).stderr


def tok() -> str:
    return "tok" + os.urandom(8).hex()


class DeliveryTest(unittest.TestCase):
    srv: h.Server

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(users=USERS, aliases={"postmaster@example.test": BOB}, name="delivery")
        cls.srv.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    # ---------------------------------------------------------------- smtplib
    def _smtplib_send(self, role, login, sender, rcpt, msg, mail_options=(), auth=None):
        s = self.srv.smtp(role, login=None if auth else login)
        try:
            if auth:
                mech, initial = auth
                s.user, s.password = login
                method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login}[mech]
                code, resp = s.auth(mech, method, initial_response_ok=initial)
                self.assertEqual(code, 235, resp)
            code, text = h.send_with_smtplib(s, sender, [rcpt], msg, mail_options)
            self.assertEqual(code, 250, text)
            self.assertRegex(text, r"^2\.0\.0 ")
            return h.queue_id(text)
        finally:
            s.quit()

    def test_submission_starttls_auth_plain(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body="STARTTLS + AUTH PLAIN\r\n")
        qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, BOB, msg)
        self.assertTrue(qid, "no queue ID in the end-of-data reply")
        h.check_delivered(self, self.srv, BOB, msg, t, sender=ALICE, qid=qid, kind="ESMTPSA")

    def test_submission_starttls_auth_plain_no_initial_response(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t)
        qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, BOB, msg, auth=("PLAIN", False))
        h.check_delivered(self, self.srv, BOB, msg, t, sender=ALICE, qid=qid, kind="ESMTPSA")

    def test_submission_starttls_auth_login(self):
        for initial in (True, False):
            with self.subTest(initial_response=initial):
                t = tok()
                msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body="AUTH LOGIN\r\n")
                qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, BOB, msg, auth=("LOGIN", initial))
                h.check_delivered(self, self.srv, BOB, msg, t, sender=ALICE, qid=qid, kind="ESMTPSA")

    def test_submissions_implicit_tls(self):
        t = tok()
        msg = h.make_message(sender=BOB, rcpt=ALICE, token=t, body="implicit TLS (RFC 8314)\r\n")
        qid = self._smtplib_send("submissions", (BOB, BOB_PW), BOB, ALICE, msg)
        h.check_delivered(self, self.srv, ALICE, msg, t, sender=BOB, qid=qid, kind="ESMTPSA")

    def test_mx_plaintext_to_local_user(self):
        t = tok()
        msg = h.make_message(sender="someone@remote.test", rcpt=CAROL, token=t)
        qid = self._smtplib_send("mx", None, "someone@remote.test", CAROL, msg)
        d = h.check_delivered(self, self.srv, CAROL, msg, t, sender="someone@remote.test", qid=qid, kind="ESMTP")
        self.assertNotRegex(d.received, r"\bwith ESMTPS", "plaintext session labelled as TLS")

    def test_mx_starttls_to_local_user(self):
        t = tok()
        msg = h.make_message(sender="someone@remote.test", rcpt=CAROL, token=t)
        s = smtplib.SMTP("127.0.0.1", self.srv.port("mx"), timeout=30)
        try:
            s.ehlo("client.test")
            s.starttls(context=self.srv.client_context())
            s.ehlo("client.test")
            code, text = h.send_with_smtplib(s, "someone@remote.test", [CAROL], msg)
            self.assertEqual(code, 250, text)
        finally:
            s.quit()
        h.check_delivered(self, self.srv, CAROL, msg, t, qid=h.queue_id(text), kind="ESMTPS")

    def test_mx_null_sender(self):
        t = tok()
        msg = h.make_message(sender="mailer-daemon@remote.test", rcpt=CAROL, token=t, subject="bounce")
        self._smtplib_send("mx", None, "", CAROL, msg)
        d = h.check_delivered(self, self.srv, CAROL, msg, t)
        self.assertEqual(d.trace["return-path"], "<>")

    def test_hostile_but_valid_sender_is_stored_verbatim(self):
        """OpenSMTPD CVE-2020-7247 / Exim WIZard class: address text is data, never expanded."""
        for sender in ("`touch${IFS}/tmp/cartero-pwned`@remote.test", "$(id)x@remote.test".replace("(", "{").replace(")", "}"),
                       "a|b&c'd@remote.test", '"x;y z"@remote.test'):
            with self.subTest(sender=sender):
                t = tok()
                msg = h.make_message(sender="x@remote.test", rcpt=CAROL, token=t)
                with self.srv.raw("mx") as c:
                    c.reply()
                    c.ehlo()
                    r = c.cmd(f"MAIL FROM:<{sender}>")
                    if r.code != 250:
                        self.assertEqual(r.code // 100, 5, r)
                        continue
                    self.assertEqual(c.cmd(f"RCPT TO:<{CAROL}>").code, 250)
                    self.assertEqual(c.cmd("DATA").code, 354)
                    c.send(msg + b".\r\n")
                    self.assertEqual(c.reply(15).code, 250)
                d = h.check_delivered(self, self.srv, CAROL, msg, t)
                self.assertEqual(d.trace["return-path"], f"<{sender}>")
        self.assertFalse(os.path.exists("/tmp/cartero-pwned"))

    def test_multiple_recipients_one_copy_each(self):
        t = tok()
        msg = h.make_message(sender="x@remote.test", rcpt=BOB, token=t)
        s = self.srv.smtp("mx")
        try:
            self.assertEqual(s.mail("x@remote.test")[0], 250)
            for r in (BOB, CAROL, "Bob@Example.Test", "postmaster@example.test"):
                code, resp = s.rcpt(r)
                self.assertEqual(code, 250, f"RCPT {r}: {resp!r}")
            code, resp = s.data(msg)
            self.assertEqual(code, 250, resp)
        finally:
            s.quit()
        # bob is named twice (case differs) and once more through the postmaster alias:
        # still exactly one copy in his Maildir (wait_for_token fails on duplicates).
        h.check_delivered(self, self.srv, BOB, msg, t)
        h.check_delivered(self, self.srv, CAROL, msg, t)

    def test_alias_delivers_to_target(self):
        t = tok()
        msg = h.make_message(sender="x@remote.test", rcpt="postmaster@example.test", token=t)
        self._smtplib_send("mx", None, "x@remote.test", "postmaster@example.test", msg)
        h.check_delivered(self, self.srv, BOB, msg, t)

    def test_eight_bit_body_round_trip(self):
        t = tok()
        body = bytes(b for b in range(0x20, 0x100) if b != 0x7f) + b"\r\n"
        body += "¡Hola, cartero! ñandú — 日本語\r\n".encode("utf-8")
        body += b"\xff\xfe\x80\x81 latin-1 and broken utf-8 \xc3\r\n\ttab line\r\n"
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body=body,
                             extra_headers="Content-Type: text/plain; charset=utf-8\r\n"
                                           "Content-Transfer-Encoding: 8bit\r\n")
        qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, BOB, msg, mail_options=["BODY=8BITMIME"])
        h.check_delivered(self, self.srv, BOB, msg, t, qid=qid)

    def test_smtputf8(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, subject="Año nuevo ✉",
                             body="cuerpo en UTF-8: ¿qué tal?\r\n")
        qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, BOB, msg,
                                 mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        h.check_delivered(self, self.srv, BOB, msg, t, qid=qid)

    def test_dot_stuffing_round_trip(self):
        t = tok()
        body = (b".\r\n..\r\n...\r\n.leading dot\r\n..two dots\r\n. space\r\nmid.dle\r\n"
                b"\r\n.\r\n.\r\nend.\r\n")
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body=body)
        qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, BOB, msg)
        h.check_delivered(self, self.srv, BOB, msg, t, qid=qid)

    def test_five_megabyte_message(self):
        t = tok()
        line = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_=+" * 2)[:76] + b"\r\n"
        lines = []
        n = (5 * 1024 * 1024) // len(line) + 1
        for i in range(n):
            lines.append(b"." + line if i % 1000 == 0 else line)
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body=b"".join(lines))
        self.assertGreater(len(msg), 5 * 1024 * 1024)
        s = self.srv.smtp("submission", login=(ALICE, ALICE_PW))
        try:
            code, resp = s.mail(ALICE, [f"SIZE={len(msg)}"])
            self.assertEqual(code, 250, resp)
            self.assertEqual(s.rcpt(BOB)[0], 250)
            code, resp = s.data(msg)
            self.assertEqual(code, 250, resp)
        finally:
            s.quit()
        h.check_delivered(self, self.srv, BOB, msg, t, qid=h.queue_id(resp.decode()), timeout=60)

    def test_bdat_chunking_raw(self):
        t = tok()
        msg = h.make_message(sender="x@remote.test", rcpt=CAROL, token=t,
                             body=b"first\r\n.\r\n..not unstuffed in BDAT\r\nlast line\r\n")
        # chunks split inside a CRLF and right before a '.' line
        cuts = [7, msg.index(b"\r\n.\r\n") + 1, msg.index(b"\r\n.\r\n") + 2, len(msg) - 3]
        chunks, prev = [], 0
        for c in cuts + [len(msg)]:
            chunks.append(msg[prev:c])
            prev = c
        with self.srv.raw("mx") as c:
            self.assertEqual(c.reply().code, 220)
            self.assertIn("CHUNKING", c.ehlo().keywords())
            c.send(b"MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.test>\r\n")
            r1, r2 = c.replies(2)
            self.assertEqual((r1.code, r1.enhanced), (250, "2.1.0"), r1)
            self.assertEqual((r2.code, r2.enhanced), (250, "2.1.5"), r2)
            pipelined = b""
            for i, ch in enumerate(chunks):
                last = " LAST" if i == len(chunks) - 1 else ""
                pipelined += f"BDAT {len(ch)}{last}\r\n".encode() + ch
            c.send(pipelined)   # RFC 3030 + 2920: all chunks in one write
            reps = c.replies(len(chunks), timeout=20)
            for ch, r in zip(chunks[:-1], reps[:-1]):
                self.assertEqual((r.code, r.enhanced), (250, "2.0.0"), r)
                self.assertIn(str(len(ch)), r.last)
            self.assertEqual((reps[-1].code, reps[-1].enhanced), (250, "2.0.0"), reps[-1])
            qid = h.queue_id(reps[-1].last)
            self.assertTrue(qid, reps[-1])
            c.cmd("QUIT")
        h.check_delivered(self, self.srv, CAROL, msg, t, qid=qid, kind="ESMTP")

    def test_authenticated_remote_recipient_stays_queued(self):
        t = tok()
        remote = "friend@remote.test"
        msg = h.make_message(sender=ALICE, rcpt=remote, token=t)
        qid = self._smtplib_send("submission", (ALICE, ALICE_PW), ALICE, remote, msg)
        self.assertTrue(qid)
        time.sleep(1.5)
        self.assertEqual(h.find_by_token(self.srv, remote, t), [])
        self.assertTrue(h.data_dir_contains(self.srv, t.encode()),
                        "message for a remote recipient is not in the spool: dropped?")
        self.assertTrue(self.srv.running())

    # ---------------------------------------------------------------- real clients
    def _write_msg(self, msg: bytes) -> Path:
        p = self.srv.tmp / f"msg-{os.urandom(4).hex()}.eml"
        p.write_bytes(msg)
        return p

    def _run(self, argv, **kw):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)
        self.assertEqual(r.returncode, 0, f"{argv[0]} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r

    @unittest.skipUnless(SWAKS_TLS, "swaks without TLS support (install libnet-ssleay-perl)")
    def test_swaks_starttls_auth(self):
        for mech in ("PLAIN", "LOGIN"):
            with self.subTest(mech=mech):
                t = tok()
                msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body=f"sent by swaks {mech}\r\n")
                f = self._write_msg(msg[:-2])   # swaks appends CRLF + "." itself
                r = self._run(["swaks", "--server", f"127.0.0.1:{self.srv.port('submission')}", "--tls",
                               "--tls-verify", "--tls-ca-path", str(self.srv.pki.ca_cert),
                               "--auth", mech, "--auth-user", ALICE, "--auth-password", ALICE_PW,
                               "--from", ALICE, "--to", BOB, "--helo", "client.test", "--data", f"@{f}"])
                qid = h.queue_id(r.stdout)
                h.check_delivered(self, self.srv, BOB, msg, t, sender=ALICE, qid=qid, kind="ESMTPSA")

    @unittest.skipUnless(SWAKS_TLS, "swaks without TLS support (install libnet-ssleay-perl)")
    def test_swaks_implicit_tls(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=CAROL, token=t, body="swaks --tls-on-connect\r\n.dot\r\n")
        f = self._write_msg(msg[:-2])   # swaks appends CRLF + "." itself
        self._run(["swaks", "--server", f"127.0.0.1:{self.srv.port('submissions')}", "--tls-on-connect",
                   "--tls-verify", "--tls-ca-path", str(self.srv.pki.ca_cert),
                   "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                   "--from", ALICE, "--to", CAROL, "--helo", "client.test", "--data", f"@{f}"])
        h.check_delivered(self, self.srv, CAROL, msg, t, sender=ALICE, kind="ESMTPSA")

    def _msmtp(self, role: str, rcpt: str, msg: bytes):
        conf = self.srv.tmp / f"msmtprc-{role}"
        starttls = "on" if role == "submission" else "off"
        conf.write_text(f"""defaults
tls_trust_file {self.srv.pki.ca_cert}
logfile {self.srv.tmp}/msmtp.log

account default
host 127.0.0.1
port {self.srv.port(role)}
domain client.test
from {ALICE}
auth plain
user {ALICE}
password {ALICE_PW}
tls on
tls_starttls {starttls}
""")
        os.chmod(conf, 0o600)
        self._run(["msmtp", "-C", str(conf), "-a", "default", rcpt], input=msg.decode("utf-8"))

    @unittest.skipUnless(shutil.which("msmtp"), "msmtp not installed")
    def test_msmtp_starttls(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body="sent by msmtp over 587\r\n")
        self._msmtp("submission", BOB, msg)
        h.check_delivered(self, self.srv, BOB, msg, t, sender=ALICE, kind="ESMTPSA")

    @unittest.skipUnless(shutil.which("msmtp"), "msmtp not installed")
    def test_msmtp_implicit_tls(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=CAROL, token=t, body="sent by msmtp over 465\r\n")
        self._msmtp("submissions", CAROL, msg)
        h.check_delivered(self, self.srv, CAROL, msg, t, sender=ALICE, kind="ESMTPSA")

    def _curl(self, url: str, rcpt: str, msg: bytes, extra=()):
        f = self._write_msg(msg)
        self._run(["curl", "-sS", "--url", url, "--cacert", str(self.srv.pki.ca_cert),
                   "--mail-from", ALICE, "--mail-rcpt", rcpt, "--upload-file", str(f),
                   "--user", f"{ALICE}:{ALICE_PW}", "--max-time", "30", *extra])

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_starttls_ssl_reqd(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=BOB, token=t, body="curl smtp:// --ssl-reqd\r\n.dot line\r\n")
        self._curl(f"smtp://127.0.0.1:{self.srv.port('submission')}/client.test", BOB, msg, ["--ssl-reqd"])
        h.check_delivered(self, self.srv, BOB, msg, t, sender=ALICE, kind="ESMTPSA")

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_smtps(self):
        t = tok()
        msg = h.make_message(sender=ALICE, rcpt=CAROL, token=t, body="curl smtps://\r\n")
        self._curl(f"smtps://127.0.0.1:{self.srv.port('submissions')}/client.test", CAROL, msg)
        h.check_delivered(self, self.srv, CAROL, msg, t, sender=ALICE, kind="ESMTPSA")


if __name__ == "__main__":
    unittest.main()
