"""`cartero sendmail` (issue 4, sections 5 and 6): the /usr/sbin/sendmail interface over the
server's {data_dir}/submit.sock. Real invocations of the binary (as `cartero sendmail` and
through a symlink named `sendmail`), messages read back from the Maildirs."""
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

BOB = "bob@example.test"
CAROL = "carol@example.test"
USERS = {BOB: "password-bob", CAROL: "password-carol"}
TIMEOUT = 60


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line and line[0] not in " \t"]


def header(raw: bytes, name: str) -> str | None:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    for line in head.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def body(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[1]


class SendmailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(users=USERS)
        cls.srv.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def sendmail(self, *args: str, stdin: bytes = b"", argv0: str | None = None, env: dict | None = None,
                 config: bool = True, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
        binary = argv0 or self.srv.binary
        argv = [*(prefix or []), binary] + ([] if argv0 else ["sendmail"])
        if config and not argv0:
            argv += ["--config", str(self.srv.config_path)]
        argv += list(args)
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=TIMEOUT,
                              env={**os.environ, **(env or {})})

    def ok(self, result: subprocess.CompletedProcess) -> None:
        self.assertEqual(result.returncode, 0, f"sendmail exited {result.returncode}: {result.stderr.decode()}")

    def delivered_to(self, address: str, token: str) -> bytes:
        """The one message for `address` whose body holds `token`."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = [m.raw for m in self.srv.maildir_messages(address) if token.encode() in m.raw]
            if found:
                self.assertEqual(len(found), 1, f"{address}: {len(found)} copies of {token}")
                return found[0]
            time.sleep(0.05)
        self.fail(f"{address}: no message with {token} in 15s\n{self.srv.log_tail(30)}")

    def test_t_takes_recipients_from_headers_and_removes_bcc(self):
        token = os.urandom(6).hex()
        message = (f"From: Sender <sender@elsewhere.test>\nTo: Bob <{BOB}>\nBcc: {CAROL}\n"
                   f"Subject: -t {token}\n\nhello {token}\n").encode()  # LF only, as applications write
        self.ok(self.sendmail("-t", "-i", "-f", "bounces@elsewhere.test", stdin=message))
        for rcpt in (BOB, CAROL):
            raw = self.delivered_to(rcpt, token)
            names = header_names(raw)
            self.assertNotIn("bcc", names, raw)
            head = raw.split(b"\r\n\r\n", 1)[0].decode()
            self.assertNotIn(CAROL, "\n".join(l for l in head.split("\r\n") if not l.startswith("Delivered-To:")),
                             "the blind copy must not show in the header")
            self.assertIn("date", names)
            self.assertIn("message-id", names)
            self.assertEqual(header(raw, "Return-Path"), "<bounces@elsewhere.test>")  # the -f value
            self.assertEqual(header(raw, "From"), "Sender <sender@elsewhere.test>")  # kept as written
            self.assertNotIn(b"\n", raw.replace(b"\r\n", b""), "every line end must be CRLF")
            self.assertIn("from local user root uid 0", " ".join(raw.decode().split()))
            self.assertEqual(body(raw), f"hello {token}\r\n".encode())
        self.assertIn("uid=0 user=root", self.srv.log_text())

    def test_symlink_named_sendmail_with_arguments_and_dash_i(self):
        link_dir = self.srv.tmp / "bin"
        link_dir.mkdir(exist_ok=True)
        link = link_dir / "sendmail"
        if not link.exists():
            link.symlink_to(self.srv.binary)
        token = os.urandom(6).hex()
        message = f"Subject: symlink {token}\n\nbefore\n.\nafter {token}\n".encode()
        result = self.sendmail("-i", "-F", "Cron Daemon", BOB, argv0=str(link),
                               env={"CARTERO_CONFIG": str(self.srv.config_path)}, stdin=message)
        self.ok(result)
        raw = self.delivered_to(BOB, token)
        # -i: the lone dot is text (sent dot-stuffed, stored as one dot).
        self.assertEqual(body(raw), f"before\r\n.\r\nafter {token}\r\n".encode())
        self.assertEqual(header(raw, "From"), '"Cron Daemon" <root@mx.example.test>')
        self.assertEqual(header(raw, "Return-Path"), "<root@mx.example.test>")  # LOGIN@hostname
        self.assertIsNotNone(header(raw, "Date"))
        self.assertRegex(header(raw, "Message-ID") or "", r"^<\d{14}\.[0-9a-f]{16}@mx\.example\.test>$")

    def test_lone_dot_ends_input_without_dash_i(self):
        token = os.urandom(6).hex()
        message = f"Subject: dot {token}\n\nkept {token}\n.\nnot sent\n".encode()
        self.ok(self.sendmail(BOB, stdin=message))
        raw = self.delivered_to(BOB, token)
        self.assertEqual(body(raw), f"kept {token}\r\n".encode())

    def test_local_users_may_relay(self):
        # RFC 5321 relay from a local user needs no AUTH: the message is accepted and queued.
        result = self.sendmail("-f", "root@mx.example.test", "someone@remote.invalid", stdin=b"Subject: out\n\nx\n")
        self.ok(result)

    def test_unknown_local_recipient_is_refused_with_67(self):
        result = self.sendmail("nobody-here@example.test", stdin=b"Subject: x\n\nx\n")
        self.assertEqual(result.returncode, 67, result.stderr)
        self.assertIn(b"<nobody-here@example.test>: refused", result.stderr)
        self.assertIn(b"550 5.1.1", result.stderr)

    def test_usage_errors_exit_64(self):
        result = self.sendmail("-x", BOB, stdin=b"")
        self.assertEqual(result.returncode, 64)
        self.assertIn(b"unknown option -x", result.stderr)
        result = self.sendmail("-t", stdin=b"Subject: no one\n\nx\n")
        self.assertEqual(result.returncode, 65)
        self.assertIn(b"no recipients", result.stderr)

    def test_socket_is_0666_and_not_stale_removable(self):
        sock = self.srv.data_dir / "submit.sock"
        info = sock.stat()
        self.assertTrue(stat.S_ISSOCK(info.st_mode))
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o666)

    def test_a_non_root_local_user(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run the client as nobody")
        setpriv = shutil.which("setpriv")
        if not setpriv:
            self.skipTest("setpriv (util-linux) is not installed")
        # nobody must reach the socket, the config and the binary.
        for path in (self.srv.tmp, self.srv.data_dir):
            path.chmod(path.stat().st_mode | 0o711)
        self.srv.config_path.chmod(0o644)
        token = os.urandom(6).hex()
        result = self.sendmail(BOB, stdin=f"Subject: nobody {token}\n\nfrom nobody {token}\n".encode(),
                               prefix=[setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"])
        self.ok(result)
        raw = self.delivered_to(BOB, token)
        self.assertEqual(header(raw, "Return-Path"), "<nobody@mx.example.test>")
        self.assertIn("from local user nobody uid 65534", " ".join(raw.decode().split()))
        self.assertIn("uid=65534 user=nobody", self.srv.log_text())


class SendmailWithoutServerTest(unittest.TestCase):
    def test_no_server_exits_69_and_says_what_to_do(self):
        with h.Server(start=False) as srv:
            r = subprocess.run([srv.binary, "sendmail", "--config", str(srv.config_path), BOB],
                               input=b"Subject: x\n\nx\n", capture_output=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 69, r.stderr)
            self.assertIn(f"no cartero server is running with data_dir {srv.data_dir}".encode(), r.stderr)
            self.assertIn(b"cartero serve", r.stderr)

    def test_stale_socket_after_kill9_is_replaced_and_removed_on_stop(self):
        with h.Server(users=USERS) as srv:
            sock = srv.data_dir / "submit.sock"
            srv.kill9()
            self.assertTrue(sock.exists(), "kill -9 leaves the socket file behind")
            r = subprocess.run([srv.binary, "sendmail", "--config", str(srv.config_path), BOB],
                               input=b"Subject: x\n\nx\n", capture_output=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 69, r.stderr)  # a file, but nobody answers
            srv.start()
            token = os.urandom(6).hex()
            r = subprocess.run([srv.binary, "sendmail", "--config", str(srv.config_path), BOB],
                               input=f"Subject: {token}\n\n{token}\n".encode(), capture_output=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr)
            srv.wait_for_delivery(BOB, 1)
            self.assertEqual(srv.stop(), 0)
            self.assertFalse(sock.exists(), "a clean stop removes the socket file")

    def test_a_non_socket_file_is_never_replaced(self):
        with h.Server(start=False) as srv:
            (srv.data_dir / "submit.sock").write_text("not a socket")
            r = subprocess.run([srv.binary, "serve", "--config", str(srv.config_path)], capture_output=True,
                               timeout=TIMEOUT)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"submit.sock exists and is not a socket", r.stderr + r.stdout)
            self.assertEqual((srv.data_dir / "submit.sock").read_text(), "not a socket")

    def test_a_second_server_does_not_take_a_live_socket(self):
        with h.Server(users=USERS) as srv:
            # Same data_dir, other ports: must fail (the spool lock refuses it before
            # the socket check does) and leave the live socket alone.
            second = srv.tmp / "second.toml"
            cfg = dict(srv.config)
            cfg["listener"] = [{"role": "mx", "address": f"127.0.0.1:{h.free_port()}"}]
            second.write_text(h.to_toml(cfg))
            r = subprocess.run([srv.binary, "serve", "--config", str(second)], capture_output=True, timeout=TIMEOUT)
            self.assertNotEqual(r.returncode, 0)
            token = os.urandom(6).hex()
            r = subprocess.run([srv.binary, "sendmail", "--config", str(srv.config_path), BOB],
                               input=f"Subject: {token}\n\n{token}\n".encode(), capture_output=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_role_local_cannot_be_put_on_a_network_listener(self):
        with h.Server(start=False) as srv:
            srv.config["listener"] = [{"role": "local", "address": f"127.0.0.1:{h.free_port()}"}]
            srv.write_config()
            r = subprocess.run([srv.binary, "serve", "--config", str(srv.config_path)], capture_output=True,
                               timeout=TIMEOUT)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b'unknown role "local"', r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
