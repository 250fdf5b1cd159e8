"""`cartero send` and `cartero account` (issue 9, section 3): a message composed from stdin,
a subject and attachments, sent through a real cartero over 465 (SSL/TLS) and 587 (STARTTLS)
with a password and an app password, read back from the Maildir with Python's `email`
package; --dry-run; saved accounts (file mode, no password inside, add/list/remove); OAuth2
(OAUTHBEARER and XOAUTH2, RFC 7628 error continuation) against a scripted TLS server."""
import base64
import email
import email.policy
import os
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402

ALICE = "alice@example.test"
ALICE_PW = "password-alice"
DORA = "dora@example.test"  # app passwords only (2FA)
BOB = "bob@example.test"
TIMEOUT = 60
SUBJECT = "Prueba de envío — ñandú"
ATTACHMENT_NAME = "Prueba de envío — ñandú.pdf"


def run(*args: str, stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([h.require_binary(), *args], input=stdin, capture_output=True, timeout=TIMEOUT,
                          env={**os.environ, "LANG": "C.UTF-8", **(env or {})})


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(part: email.message.EmailMessage) -> str:
    """The decoded text with the message's CRLF line ends read as newlines."""
    return part.get_content().replace("\r\n", "\n")


class SendThroughCarteroTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(users={ALICE: ALICE_PW, DORA: "dora-account-password", BOB: "password-bob"},
                           app_passwords_only=[DORA])
        cls.srv.__enter__()
        cls.tmp = Path(tempfile.mkdtemp(prefix="cartero-send-"))
        cls.password_file = cls.tmp / "alice.pw"
        cls.password_file.write_text(ALICE_PW + "\n")
        cls.app_password = cls.srv.add_app_password(DORA, "cartero-send-test")
        pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
        cls.attachment = cls.tmp / ATTACHMENT_NAME
        cls.attachment.write_bytes(pdf)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def connection(self, role: str) -> list[str]:
        tls = "ssl" if role == "submissions" else "starttls"
        return ["--server", "127.0.0.1", "--port", str(self.srv.port(role)), "--tls", tls,
                "--ca-file", str(self.srv.pki.ca_cert)]

    def delivered_to(self, address: str, token: str) -> bytes:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = [m.body for m in self.srv.maildir_messages(address) if token.encode() in m.raw]
            if found:
                self.assertEqual(len(found), 1)
                return found[0]
            time.sleep(0.05)
        self.fail(f"{address}: no message with {token}\n{self.srv.log_tail(30)}")

    def check_landed(self, result: subprocess.CompletedProcess, token: str, attachment: bool) -> None:
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        out = result.stdout.decode()
        self.assertRegex(out, r"Sent\. The server replied: 250 2\.0\.0 Ok: queued as \S+")
        queue_id = out.split("queued as ", 1)[1].split()[0]
        self.assertIn(f"Queue ID: {queue_id}\n", out)
        msg = parse(self.delivered_to(BOB, token))
        self.assertEqual(msg["Subject"], f"{SUBJECT} {token}")
        self.assertEqual(msg["To"], BOB)
        self.assertTrue(msg["Message-ID"].endswith("@example.test>"), msg["Message-ID"])
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertIsNotNone(msg["Date"])
        text = msg.get_body(("plain",))
        self.assertEqual(text.get_content_charset(), "utf-8")
        self.assertEqual(text_of(text), f"Hola {token},\nun saludo con eñe.\n")
        files = list(msg.iter_attachments())
        if not attachment:
            self.assertFalse(msg.is_multipart())
            return
        self.assertEqual(msg.get_content_type(), "multipart/mixed")
        self.assertEqual(len(files), 1)
        self.assertEqual(files[0].get_filename(), ATTACHMENT_NAME)
        self.assertEqual(files[0].get_content_type(), "application/pdf")
        self.assertEqual(files[0]["Content-Transfer-Encoding"], "base64")
        self.assertEqual(files[0].get_content(), self.attachment.read_bytes(), "attachment bytes differ")

    def body(self, token: str) -> bytes:
        return f"Hola {token},\nun saludo con eñe.\n".encode()

    def test_implicit_tls_465_with_a_password_and_an_attachment(self):
        token = os.urandom(5).hex()
        result = run("send", *self.connection("submissions"), "--user", ALICE, "--password-file",
                     str(self.password_file), "--to", BOB, "--subject", f"{SUBJECT} {token}",
                     "--attach", str(self.attachment), stdin=self.body(token))
        self.check_landed(result, token, attachment=True)

    def test_starttls_587_with_an_app_password_from_a_command(self):
        token = os.urandom(5).hex()
        pw = self.tmp / "dora.pw"
        pw.write_text(self.app_password)
        result = run("send", *self.connection("submission"), "--user", DORA, "--password-command",
                     f"cat {pw}", "--to", BOB, "--subject", f"{SUBJECT} {token}", stdin=self.body(token))
        self.check_landed(result, token, attachment=False)
        self.assertEqual(parse(self.delivered_to(BOB, token))["From"], DORA)

    def test_the_account_password_is_refused_where_an_app_password_is_required(self):
        pw = self.tmp / "dora-account.pw"
        pw.write_text("dora-account-password")
        result = run("send", *self.connection("submission"), "--user", DORA, "--password-file", str(pw),
                     "--to", BOB, "--subject", "x", stdin=b"x\n")
        self.assertEqual(result.returncode, 77, result.stderr.decode())  # EX_NOPERM
        self.assertEqual(result.stderr.decode(),
                         "cartero send: not sent: the server requires a stronger mechanism or an application-specific "
                         "password: 534 5.7.9 Application-specific password required\n")

    def test_dry_run_prints_the_message_and_sends_nothing(self):
        result = run("send", "--dry-run", "--from", f"Ana Núñez <{ALICE}>", "--to", f"Bob Ñandú <{BOB}>",
                     "--subject", SUBJECT,
                     "--attach", str(self.attachment), stdin=b"line one\n" + b"y" * 3000 + b"\n")
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        raw = result.stdout
        for line in raw.split(b"\r\n")[:-1]:
            self.assertNotIn(b"\n", line, "bare LF")
            self.assertLessEqual(len(line), 998)
        self.assertTrue(raw.endswith(b"\r\n"))
        self.assertTrue(all(b < 0x80 for b in raw), "8-bit octets in the message")
        msg = parse(raw)
        self.assertEqual(msg["Subject"], SUBJECT)
        [sender] = msg["From"].addresses
        self.assertEqual((sender.display_name, sender.addr_spec), ("Ana Núñez", ALICE))  # RFC 2047
        [rcpt] = msg["To"].addresses
        self.assertEqual((rcpt.display_name, rcpt.addr_spec), ("Bob Ñandú", BOB))
        self.assertRegex(msg["Message-ID"], r"^<[^<>@]+@example\.test>$")
        self.assertEqual(text_of(msg.get_body(("plain",))), "line one\n" + "y" * 3000 + "\n")
        [attached] = list(msg.iter_attachments())
        self.assertEqual(attached.get_filename(), ATTACHMENT_NAME)
        self.assertEqual(attached.get_content(), self.attachment.read_bytes())

    def test_saved_accounts_add_list_send_remove(self):
        config_home = self.tmp / "xdg"
        env = {"XDG_CONFIG_HOME": str(config_home)}
        port = str(self.srv.port("submissions"))
        # A wrong password: nothing saved.
        bad = self.tmp / "bad.pw"
        bad.write_text("wrong\n")
        result = run("account", "add", "work", "--address", ALICE, "--server", "127.0.0.1", "--port", port,
                     "--tls", "ssl", "--password-file", str(bad), "--ca-file", str(self.srv.pki.ca_cert), env=env)
        self.assertEqual(result.returncode, 77, result.stderr.decode())
        self.assertIn("nothing was saved", result.stderr.decode())
        accounts = config_home / "cartero" / "accounts.toml"
        self.assertFalse(accounts.exists())
        # A password given directly is refused: only references are kept.
        result = run("account", "add", "work", "--address", ALICE, "--server", "127.0.0.1", "--user", ALICE,
                     env=env)
        self.assertEqual(result.returncode, 64)
        self.assertIn("does not store passwords", result.stderr.decode())

        result = run("account", "add", "work", "--address", ALICE, "--server", "127.0.0.1", "--port", port,
                     "--tls", "ssl", "--password-file", str(self.password_file),
                     "--ca-file", str(self.srv.pki.ca_cert), env=env)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertIn(f"Connected to 127.0.0.1[127.0.0.1]:{port}", result.stdout.decode())
        self.assertIn("login accepted", result.stdout.decode())
        self.assertIn(f"Saved account work in {accounts}", result.stdout.decode())
        self.assertEqual(stat.S_IMODE(accounts.stat().st_mode), 0o600)
        text = accounts.read_text()
        self.assertNotIn(ALICE_PW, text)
        self.assertEqual(text.split("\n\n", 1)[1],
                         f"[accounts.work]\naddress = '{ALICE}'\npassword_file = '{self.password_file}'\n"
                         f"port = {port}\nserver = '127.0.0.1'\ntls = 'ssl'\nuser = '{ALICE}'\n")

        listed = run("account", "list", env=env)
        self.assertEqual(listed.returncode, 0)
        self.assertEqual(listed.stdout.decode(),
                         f"work  {ALICE}  127.0.0.1:{port}  SSL/TLS  {ALICE}  password from {self.password_file}\n")

        token = os.urandom(5).hex()
        result = run("send", "--account", "work", "--ca-file", str(self.srv.pki.ca_cert), "--to", BOB,
                     "--subject", f"{SUBJECT} {token}", stdin=self.body(token), env=env)
        self.check_landed(result, token, attachment=False)

        result = run("account", "add", "work", "--address", ALICE, "--server", "x", "--no-check",
                     "--password-file", str(self.password_file), env=env)
        self.assertEqual(result.returncode, 64)
        self.assertIn("exists already", result.stderr.decode())

        removed = run("account", "remove", "work", env=env)
        self.assertEqual(removed.returncode, 0, removed.stderr.decode())
        self.assertEqual(removed.stdout.decode(), "Removed account work\n")
        self.assertEqual(stat.S_IMODE(accounts.stat().st_mode), 0o600)
        self.assertNotIn("work", run("account", "list", env=env).stdout.decode())
        missing = run("send", "--account", "work", "--to", BOB, stdin=b"x\n", env=env)
        self.assertEqual(missing.returncode, 64)
        self.assertIn("no saved account named work", missing.stderr.decode())


    def test_account_add_finds_the_server_with_discover(self):
        """No --server: discover's SRV step (RFC 8314 _submissions._tcp) names the server and port, the
        settings are checked by logging in, and saved."""
        env = {"XDG_CONFIG_HOME": str(self.tmp / "xdg-discover")}
        zones = {"_submissions._tcp.example.test": {"SRV": f"0 1 {self.srv.port('submissions')} mx.example.test"},
                 "mx.example.test": {"A": "127.0.0.1"}}
        with DnsServer(zones) as dns:
            result = run("account", "add", "home", "--address", ALICE, "--password-file", str(self.password_file),
                         "--ca-file", str(self.srv.pki.ca_cert), "--test-dns-resolver", dns.address,
                         "--timeout", "5", env=env)
        self.assertEqual(result.returncode, 0, result.stdout.decode() + result.stderr.decode())
        out = result.stdout.decode()
        self.assertIn(f"Found by cartero discover (SRV records): mx.example.test port {self.srv.port('submissions')}, "
                      "SSL/TLS\n", out)
        self.assertIn("certificate verified, login accepted", out)
        saved = (self.tmp / "xdg-discover" / "cartero" / "accounts.toml").read_text()
        self.assertIn("server = 'mx.example.test'", saved)
        self.assertIn("tls = 'ssl'", saved)
        self.assertIn(f"user = '{ALICE}'", saved)


class OAuthServer:
    """A scripted submission server on implicit TLS: offers `mechanisms`, records what the
    client sent, accepts the token `good_token` and refuses others with the provider's
    JSON error challenge (reference/client-config.md 6.1)."""

    ERROR = b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'

    def __init__(self, pki: h.TestPKI, mechanisms: str, good_token: str):
        cert, key = pki.issue("oauth")
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.mechanisms = mechanisms
        self.good_token = good_token
        self.lines: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.sock.accept()
        with self.ctx.wrap_socket(conn, server_side=True) as tls:
            tls.settimeout(20)
            f = tls.makefile("rwb")

            def say(text: str) -> None:
                f.write(text.encode() + b"\r\n")
                f.flush()

            def line() -> bytes:
                got = f.readline().rstrip(b"\r\n")
                self.lines.append(got)
                return got

            say("220 oauth.example.test ESMTP scripted")
            line()
            say(f"250-oauth.example.test\r\n250-AUTH {self.mechanisms}\r\n250 8BITMIME")
            auth = line()
            blob = base64.b64decode(auth.split()[2])
            if f"auth=Bearer {self.good_token}\x01".encode() in blob:
                say("235 2.7.0 Accepted")
            else:
                say("334 " + base64.b64encode(self.ERROR).decode())
                line()
                say("535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
                    "535 5.7.8 https://support.google.com/mail/?p=BadCredentials x - gsmtp")
                line()
                say("221 bye")
                return
            while True:
                cmd = line()
                if cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT"):
                    say("250 2.1.0 Ok")
                elif cmd == b"DATA":
                    say("354 go")
                    while line() != b".":
                        pass
                    say("250 2.0.0 OK  1733390000 a640c23a62f3a-scripted.77 - gsmtp")
                elif cmd == b"QUIT":
                    say("221 bye")
                    return
                else:
                    say("500 what")

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


class OAuth2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="cartero-oauth-"))
        cls.pki = h.TestPKI(cls.tmp / "pki")

    def send(self, server: OAuthServer, token: str) -> subprocess.CompletedProcess:
        return run("send", "--server", "127.0.0.1", "--port", str(server.port), "--tls", "ssl",
                   "--ca-file", str(self.pki.ca_cert), "--user", ALICE,
                   "--oauth-token-command", f"printf ' {token}\\n\\n'", "--to", BOB, "--subject", "oauth",
                   stdin=b"hello\n")

    def test_oauthbearer_is_preferred_and_sends_the_rfc7628_message(self):
        server = OAuthServer(self.pki, "LOGIN PLAIN XOAUTH2 OAUTHBEARER", "ya29.good")
        result = self.send(server, "ya29.good")
        server.close()
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertIn("Queue ID: a640c23a62f3a-scripted.77", result.stdout.decode())
        auth = server.lines[1]
        self.assertTrue(auth.startswith(b"AUTH OAUTHBEARER "), auth)
        self.assertEqual(base64.b64decode(auth.split()[2]),
                         f"n,a={ALICE},\x01host=127.0.0.1\x01port={server.port}\x01auth=Bearer ya29.good\x01\x01"
                         .encode())

    def test_xoauth2_refusal_gets_the_empty_response_and_the_json_shown(self):
        server = OAuthServer(self.pki, "LOGIN PLAIN XOAUTH2", "ya29.good")
        result = self.send(server, "ya29.expired")
        server.close()
        self.assertEqual(result.returncode, 77, result.stderr.decode())
        auth = server.lines[1]
        self.assertEqual(auth, b"AUTH XOAUTH2 " + base64.b64encode(
            f"user={ALICE}\x01auth=Bearer ya29.expired\x01\x01".encode()))
        self.assertEqual(server.lines[2], b"", "the client answers the JSON challenge with an empty line")
        err = result.stderr.decode()
        self.assertIn("the server refused the OAuth2 token (AUTH XOAUTH2)", err)
        self.assertIn('"status":"401"', err)
        self.assertIn("535 5.7.8", err)


if __name__ == "__main__":
    unittest.main()
