"""`cartero check` (issue 9, sections 2 and 5): each diagnosis provoked against a real
server started here on loopback — cartero itself (users, an app-password-only
account, a sender mismatch, relay denied, a size limit), `openssl s_server` with an
expired or wrong-name certificate, a port that accepts and never speaks, a closed
port, and a scripted server answering with the providers' exact texts. Asserts the
exit code, the ✓/✗ lines and the paragraph; three paragraphs compared in full in
English and Spanish."""
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from scripted_smtp import ScriptedSmtp  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"
APPONLY = "carol@example.test"
USERS = {ALICE: "password-alice", BOB: "password-bob", APPONLY: "password-carol"}
TIMEOUT = 60


def check(*args: str, lang: str = "en") -> subprocess.CompletedProcess:
    argv = [h.require_binary(), "--lang", lang, "check", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def paragraph(r: subprocess.CompletedProcess) -> str:
    """The diagnosis: the paragraph after the step lines."""
    return r.stdout.rstrip("\n").split("\n\n")[-1]


class CheckAgainstCartero(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(users=USERS, app_passwords_only=[APPONLY], config={"limits": {"message_size": "16KiB"}})
        cls.srv.__enter__()
        cls.pw = cls.srv.tmp / "alice.pw"
        cls.pw.write_text(USERS[ALICE] + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def submission(self, *extra: str, user: str = ALICE, password: str | None = None, lang: str = "en"):
        pw = self.srv.tmp / f"{user}.{abs(hash(password))}.pw"
        pw.write_text((password if password is not None else USERS[user]) + "\n")
        return check("--server", "127.0.0.1", "--port", str(self.srv.port("submission")), "--tls", "starttls",
                     "--user", user, "--password-file", str(pw), "--ca-file", str(self.srv.pki.ca_cert),
                     "--timeout", "5", *extra, lang=lang)

    def test_send_test_delivers_to_oneself(self):
        r = self.submission("--send-test", "--transcript")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for step in ("✓ TCP connect", "✓ greeting", "✓ STARTTLS", "✓ TLS", "certificate verified",
                     "valid for: localhost, mx.example.test, 127.0.0.1", "✓ AUTH         235 2.7.0",
                     "✓ MAIL FROM    250 2.1.0", "✓ RCPT TO      250 2.1.5", "✓ end of DATA  250 2.0.0 Ok: queued as"):
            self.assertIn(step, r.stdout)
        qid = r.stdout.split("(queue ID ")[1].split(")")[0]
        self.assertIn("AUTH PLAIN ****", r.stdout)
        self.assertNotIn("password-alice", r.stdout)
        self.assertNotIn(h.plain_blob(ALICE, USERS[ALICE]), r.stdout)
        deadline = time.time() + 20
        while time.time() < deadline:
            landed = h.read_maildir(self.srv.mail_root / "example.test" / "alice")
            if landed:
                break
            time.sleep(0.2)
        self.assertTrue(landed, "the test message did not land")
        self.assertIn(b"Subject: cartero check: test message", landed[0].raw)
        self.assertIn(qid, self.srv.log_path.read_text(errors="replace"))

    def test_without_send_test_stops_before_data(self):
        r = self.submission()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("✓ RCPT TO      250 2.1.5", r.stdout)
        self.assertNotIn("DATA", r.stdout.split("Everything works")[0])

    def test_wrong_password(self):
        r = self.submission(password="not-the-password")
        self.assertEqual(r.returncode, 77, r.stdout)
        self.assertIn("✗ AUTH         535 5.7.8 Error: authentication failed", r.stdout)
        self.assertEqual(paragraph(r), "The server refused the username or password: 535 5.7.8 Error: authentication "
                         "failed. Check both; the username is usually the full address. If the account has two-step "
                         "verification, use an app password.")
        es = self.submission(password="not-the-password", lang="es")
        self.assertEqual(paragraph(es), "El servidor rechazó el usuario o la contraseña: 535 5.7.8 Error: "
                         "authentication failed. Revise ambos; el usuario suele ser la dirección completa. Si la cuenta "
                         "tiene verificación en dos pasos, use una contraseña de aplicación.")
        self.assertIn("✗ AUTH", es.stdout)
        self.assertIn("conexión TCP", es.stdout)

    def test_app_password_only_account(self):
        r = self.submission(user=APPONLY)
        self.assertEqual(r.returncode, 77, r.stdout)
        self.assertIn("534 5.7.9 Application-specific password required", r.stdout)
        self.assertIn("requires an app password", paragraph(r))
        label_pw = self.srv.add_app_password(APPONLY, "check")
        ok = self.submission(user=APPONLY, password=label_pw)
        self.assertEqual(ok.returncode, 0, ok.stdout)

    def test_sender_not_allowed(self):
        r = self.submission("--from", BOB)
        self.assertEqual(r.returncode, 67, r.stdout)
        self.assertIn("✗ MAIL FROM    553 5.7.1", r.stdout)
        self.assertIn(f"does not let this account send as {BOB}", paragraph(r))

    def test_message_too_large_names_the_size_limit(self):
        r = self.submission("--send-test", "--message-size", "40000")
        self.assertEqual(r.returncode, 65, r.stdout)
        self.assertIn("552 5.3.4", r.stdout)
        self.assertIn("larger than the server accepts (at most 16384 octets, its SIZE)", paragraph(r))

    def test_relay_denied_without_login(self):
        r = check("--server", "127.0.0.1", "--port", str(self.srv.port("mx")), "--tls", "none", "--from",
                  "someone@elsewhere.example", "--to", "friend@other.example", "--timeout", "5")
        self.assertEqual(r.returncode, 67, r.stdout + r.stderr)
        self.assertIn("✗ RCPT TO      554 5.7.1 <friend@other.example>: Relay access denied", r.stdout)
        self.assertIn("Relay access denied: the server passes mail on to other domains only for users who log in",
                      paragraph(r))

    def test_no_auth_on_the_mx_port(self):
        r = check("--server", "127.0.0.1", "--port", str(self.srv.port("mx")), "--tls", "starttls", "--user", ALICE,
                  "--password-file", str(self.pw), "--ca-file", str(self.srv.pki.ca_cert), "--timeout", "5")
        self.assertEqual(r.returncode, 78, r.stdout + r.stderr)
        self.assertIn("does not offer login (AUTH)", paragraph(r))

    def test_tls_mode_mismatch_both_ways(self):
        r = check("--server", "127.0.0.1", "--port", str(self.srv.port("submission")), "--tls", "ssl", "--user",
                  ALICE, "--password-file", str(self.pw), "--timeout", "5")
        self.assertEqual(r.returncode, 76, r.stdout)
        self.assertIn("starts in plaintext and expects STARTTLS. Use --tls starttls on this port", paragraph(r))
        r = check("--server", "127.0.0.1", "--port", str(self.srv.port("submissions")), "--tls", "starttls",
                  "--user", ALICE, "--password-file", str(self.pw), "--timeout", "2")
        self.assertEqual(r.returncode, 76, r.stdout)
        self.assertIn("✗ greeting", r.stdout)
        self.assertIn("expects SSL/TLS from the first byte", paragraph(r))


class CheckConnectionFailures(unittest.TestCase):
    def test_closed_port_is_refused(self):
        port = h.free_port()
        r = check("--server", "127.0.0.1", "--port", str(port), "--tls", "starttls", "--timeout", "3",
                  "--probe-timeout", "1")
        self.assertEqual(r.returncode, 69, r.stdout)
        self.assertIn("✗ TCP connect", r.stdout)
        en = paragraph(r)
        self.assertTrue(en.startswith(f"127.0.0.1 refused the connection on port {port}: no mail server listens "
                                      "there. Check the port: 465 for SSL/TLS, 587 for STARTTLS."), en)
        es = paragraph(check("--server", "127.0.0.1", "--port", str(port), "--tls", "starttls", "--timeout", "3",
                             "--probe-timeout", "1", lang="es"))
        self.assertTrue(es.startswith(f"127.0.0.1 rechazó la conexión en el puerto {port}: ahí no escucha ningún "
                                      "servidor de correo. Revise el puerto: 465 para SSL/TLS, 587 para STARTTLS."), es)

    def test_port_that_never_speaks(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        try:
            r = check("--server", "127.0.0.1", "--port", str(listener.getsockname()[1]), "--tls", "starttls",
                      "--timeout", "2", "--probe-timeout", "1")
        finally:
            listener.close()
        self.assertEqual(r.returncode, 74, r.stdout)
        self.assertIn("✗ greeting     timed out (waiting for the greeting)", r.stdout)
        self.assertIn("stopped answering", paragraph(r))

    def test_unknown_host_suggests_the_provider(self):
        dns = __import__("dns_server").DnsServer({})
        with dns:
            r = check("--server", "smtp.gmial.com", "--test-dns-resolver", f"127.0.0.1:{dns.port}", "--timeout", "3")
        self.assertEqual(r.returncode, 68, r.stdout)
        self.assertEqual(paragraph(r), "The server name smtp.gmial.com does not exist: check it for typing mistakes. "
                         "Did you mean smtp.gmail.com?")


class CheckAgainstProviders(unittest.TestCase):
    """The scripted server speaks implicit TLS with a certificate from the test CA."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(__import__("tempfile").mkdtemp(prefix="check-"))
        cls.pki = h.TestPKI(cls.tmp / "pki")
        cert, key = cls.pki.issue("server")
        cls.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cls.ctx.load_cert_chain(cert, key)
        cls.pw = cls.tmp / "pw"
        cls.pw.write_text("secret\n")

    def provider(self, auth_reply: str, host: str = "127.0.0.1", lang: str = "en",
                 ehlo: str = "AUTH LOGIN PLAIN XOAUTH2", mail_reply: str = "250 2.1.0 OK"):
        replies = {"EHLO": f"250-smtp.example.com\r\n250 {ehlo}", "AUTH": auth_reply, "MAIL": mail_reply}
        with ScriptedSmtp(replies=replies, tls=self.ctx) as s:
            return check("--server", host, "--port", str(s.port), "--tls", "ssl", "--user", "me@example.com",
                         "--password-file", str(self.pw), "--ca-file", str(self.pki.ca_cert), "--timeout", "5",
                         lang=lang)

    def test_gmail_bad_credentials(self):
        reply = ("535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
                 "535 5.7.8 https://support.google.com/mail/?p=BadCredentials a1-2002 - gsmtp")
        r = self.provider(reply)
        self.assertEqual(r.returncode, 77, r.stdout)
        self.assertEqual(paragraph(r), "Gmail refused the username or password (535 5.7.8). Use your full address as "
                         "the username. Gmail accepts no normal password from mail programs: turn on 2-Step "
                         "Verification and use an app password from https://myaccount.google.com/apppasswords.")
        es = self.provider(reply, lang="es")
        self.assertEqual(paragraph(es), "Gmail rechazó el usuario o la contraseña (535 5.7.8). Use su dirección "
                         "completa como usuario. Gmail no acepta la contraseña normal desde programas de correo: active "
                         "la verificación en dos pasos y use una contraseña de aplicación de "
                         "https://myaccount.google.com/apppasswords.")

    def test_gmail_app_password(self):
        r = self.provider("534-5.7.9 Application-specific password required. For more information, go to\r\n"
                          "534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor x - gsmtp")
        self.assertEqual(r.returncode, 77)
        self.assertIn("2-Step Verification is on", paragraph(r))

    def test_microsoft_smtp_auth_disabled(self):
        r = self.provider("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
                          "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR01 2026]")
        self.assertEqual(r.returncode, 77)
        self.assertIn("Set-CASMailbox -SmtpClientAuthenticationDisabled $false", paragraph(r))

    def test_microsoft_5_7_3(self):
        r = self.provider("535 5.7.3 Authentication unsuccessful [AM0PR01CA0001.eurprd01.prod.outlook.com]")
        self.assertIn("Microsoft 365 refused the sign-in", paragraph(r))

    def test_yahoo_auth005(self):
        r = self.provider("535 5.7.0 (#AUTH005) Too many bad auth attempts.")
        self.assertIn("Yahoo and AOL answer like this", paragraph(r))

    def test_oauth2_only(self):
        r = self.provider("235 2.7.0 ok", ehlo="AUTH XOAUTH2 OAUTHBEARER")
        self.assertEqual(r.returncode, 77, r.stdout)
        self.assertIn("accepts only OAuth2 sign-in", paragraph(r))

    def test_sending_limit_with_reset_time_and_reference(self):
        r = self.provider("235 2.7.0 ok", mail_reply="450 4.7.1 Sending limit reached: 100 messages per hour; try "
                          "again after 2026-12-05 10:00 UTC [ref K7Q2M9]")
        self.assertEqual(r.returncode, 75, r.stdout)
        self.assertIn("Wait until it resets (the server says: 2026-12-05 10:00 UTC)", r.stdout)
        self.assertIn("The server's reference for this refusal: K7Q2M9", r.stdout)

    def test_gmail_daily_limit(self):
        r = self.provider("235 2.7.0 ok", mail_reply="550-5.4.5 Daily user sending limit exceeded. For more "
                          "information on Gmail\r\n550 5.4.5 https://support.google.com/a/answer/166852 x - gsmtp")
        self.assertEqual(r.returncode, 67, r.stdout)
        self.assertIn("reached its sending limit", paragraph(r))

    def test_wrong_name_certificate_names_the_valid_names(self):
        cert, key = self.pki.issue("other", cn="mail.example.org", sans="DNS:mail.example.org,DNS:smtp.example.org")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        with ScriptedSmtp(tls=ctx) as s:  # the handshake fails: no reply is needed
            r = check("--server", "127.0.0.1", "--port", str(s.port), "--tls", "ssl", "--ca-file",
                      str(self.pki.ca_cert), "--timeout", "5")
        self.assertEqual(r.returncode, 76, r.stdout)
        self.assertEqual(paragraph(r), "The server's certificate is not valid for 127.0.0.1; it is valid for: "
                         "mail.example.org, smtp.example.org. Use one of those names as the server (--server), or "
                         "ask the administrator for a certificate that names 127.0.0.1.")

    def test_expired_certificate(self):
        d = self.tmp / "expired"
        d.mkdir(exist_ok=True)
        (d / "index.txt").write_text("")
        (d / "serial").write_text("2000\n")
        (d / "ca.cnf").write_text(f"[ca]\ndefault_ca=d\n[d]\ndatabase={d}/index.txt\nnew_certs_dir={d}\n"
                                  f"serial={d}/serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\n"
                                  "[p]\ncommonName=supplied\n")
        (d / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", str(d / "key.pem"), "-out", str(d / "csr.pem"), "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "ca", "-batch", "-config", str(d / "ca.cnf"), "-in", str(d / "csr.pem"),
                        "-out", str(d / "cert.pem"), "-keyfile", str(self.pki.ca_key), "-cert", str(self.pki.ca_cert),
                        "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext",
                        "-extfile", str(d / "ext")], check=True, capture_output=True)
        port = h.free_port()
        server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(d / "cert.pem"),
                                   "-key", str(d / "key.pem"), "-quiet"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(h.wait_port(port, time.time() + 10))
            r = check("--server", "127.0.0.1", "--port", str(port), "--tls", "ssl", "--ca-file",
                      str(self.pki.ca_cert), "--timeout", "3")
        finally:
            server.kill()
            server.wait()
        self.assertEqual(r.returncode, 76, r.stdout)
        self.assertIn("valid until 2020-01-02 00:00:00 UTC", r.stdout)
        self.assertTrue(paragraph(r).startswith("The server's certificate has expired (valid until 2020-01-02 "
                                                "00:00:00 UTC)."), paragraph(r))


if __name__ == "__main__":
    unittest.main()
