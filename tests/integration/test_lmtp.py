"""Local delivery by LMTP to a real Dovecot (issue 4, sections 1 and 6).

Each test starts Dovecot (/usr/sbin/dovecot -F, LMTP only, on a Unix socket in a
temp dir, Maildirs under the temp dir, users from a passwd-file that knows only
bob@example.test) and a cartero with [[lmtp]] domain = "example.test" pointing
at that socket; plain.test stays in cartero's own Maildirs. Then:
  - a message to bob@example.test (Dovecot) and carol@plain.test (Maildir) lands
    in both, and Dovecot's copy is cartero's spooled message byte for byte once
    Dovecot's own trace lines are taken off (it stores LF line endings);
  - dave@example.test is a cartero user that Dovecot does not know: its
    5.1.1 refusal bounces the copy to the sender;
  - with Dovecot down the copy is deferred, and delivered after Dovecot starts.
"""
import grp
import os
import pwd
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

DOVECOT = "/usr/sbin/dovecot"
BOB = "bob@example.test"        # in cartero and in Dovecot
DAVE = "dave@example.test"      # in cartero only: Dovecot refuses him
CAROL = ("carol@plain.test", "carol-password")  # Maildir domain; sends the tests' mail


def mail_owner() -> tuple[str, int, int]:
    """Who Dovecot writes the mail as: nobody when we are root (Dovecot refuses uid 0
    for mail), else ourselves."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam("nobody")
        return pw.pw_name, pw.pw_uid, pw.pw_gid
    return pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid()


class Dovecot:
    """A Dovecot with only the LMTP service, everything under a temp dir."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.tmp.chmod(0o755)   # the mail user walks into mail/ and home/
        self.socket = self.tmp / "lmtp"
        self.mail = self.tmp / "mail"
        self.log = self.tmp / "dovecot.log"
        self.proc: subprocess.Popen | None = None
        user, uid, gid = mail_owner()
        group = grp.getgrgid(gid).gr_name
        for d in ("base", "state", "mail", "home"):
            (self.tmp / d).mkdir()
        for d in ("mail", "home"):
            os.chown(self.tmp / d, uid, gid)
        # passwd-file: user:password:uid:gid:gecos:home:shell:extra
        (self.tmp / "users").write_text(f"{BOB}::{uid}:{gid}::{self.tmp}/home/example.test/bob::\n")
        self.conf = self.tmp / "dovecot.conf"
        self.conf.write_text(f"""
base_dir = {self.tmp}/base
state_dir = {self.tmp}/state
log_path = {self.log}
info_log_path = {self.log}
protocols = lmtp
ssl = no
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{self.mail}/%d/%n
passdb {{
  driver = passwd-file
  args = {self.tmp}/users
}}
userdb {{
  driver = passwd-file
  args = {self.tmp}/users
}}
service lmtp {{
  unix_listener {self.socket} {{
    mode = 0666
  }}
}}
""")

    def start(self) -> "Dovecot":
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"dovecot exited with {self.proc.returncode}: "
                                     f"{self.proc.stderr.read().decode(errors='replace')}\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"dovecot did not create {self.socket} in 15s\n{self.log_text()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stderr.close()
        self.proc = None
        # The master removes its sockets; make sure a stale one cannot look alive.
        if self.socket.exists():
            self.socket.unlink()

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def messages(self, address: str) -> list[bytes]:
        local, _, domain = address.partition("@")
        new = self.mail / domain / local / "new"
        if not new.is_dir():
            return []
        files = sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [p.read_bytes() for p in files if not p.name.startswith(".")]

    def wait_for(self, address: str, count: int, timeout: float = 20.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages(address)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{address}: {len(self.messages(address))} message(s) in Dovecot within {timeout}s, "
                             f"want {count}\n{self.log_text()}")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is not None:
            print(f"\n--- dovecot log ({self.log}) ---\n{self.log_text()}\n---")
        if os.environ.get("CARTERO_KEEP_TMP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)


def cartero(dovecot: Dovecot) -> h.Server:
    config = {"local_domains": ["example.test", "plain.test"],
              "delivery": {"retry_initial": "1s", "retry_max": "2s"},
              "lmtp": [{"domain": "example.test", "address": f"unix:{dovecot.socket}"}]}
    return h.Server(config=config, users={BOB: "bob-password", DAVE: "dave-password", CAROL[0]: CAROL[1]})


def submit(srv: h.Server, rcpts: list[str], msg: bytes) -> str:
    return srv.submit(CAROL, rcpts, msg)



DOVECOT_TRACE = re.compile(rb"\A(?:(?:Return-Path|Delivered-To): [^\n]*\n"
                           rb"|Received: [^\n]*\n(?:[ \t][^\n]*\n)*?[ \t][^\n]*with LMTP[^\n]*\n(?:[ \t][^\n]*\n)*)+")


def dovecot_trace(raw: bytes) -> tuple[bytes, bytes]:
    """Splits the lines Dovecot adds at final delivery (Return-Path, Delivered-To, its own
    Received ... with LMTP) off a message Dovecot stored."""
    m = DOVECOT_TRACE.match(raw)
    return (m.group(0), raw[m.end():]) if m else (b"", raw)


@unittest.skipUnless(os.access(DOVECOT, os.X_OK), "Dovecot is not installed")
class LmtpToDovecotTest(unittest.TestCase):
    def test_delivered_to_dovecot_byte_for_byte_and_other_domains_to_maildir(self):
        with Dovecot() as dovecot, cartero(dovecot.start()) as srv:
            msg = h.make_message(subject="to Dovecot", sender=CAROL[0], rcpt=BOB,
                                 body=b"line one\r\n.leading dot\r\n\r\n" + b"x" * 3000 + b"\r\n")
            qid = submit(srv, [BOB, CAROL[0]], msg)
            stored = dovecot.wait_for(BOB, 1)
            self.assertEqual(len(stored), 1)
            maildir_copy = srv.wait_for_delivery(CAROL[0], 1)[0].raw
            self.assertEqual(srv.maildir_messages(BOB), [], "bob's domain is Dovecot's, not a Maildir")

            # cartero's Maildir copy = Return-Path + Delivered-To + the spooled message (CRLF).
            first, second, spooled = maildir_copy.split(b"\r\n", 2)
            self.assertEqual((first, second), (f"Return-Path: <{CAROL[0]}>".encode(),
                                               f"Delivered-To: {CAROL[0]}".encode()))
            trace, rest = dovecot_trace(stored[0])
            self.assertEqual(rest, spooled.replace(b"\r\n", b"\n"),
                             "Dovecot's copy after its own trace lines is the spooled message (LF endings)")
            self.assertTrue(rest.endswith(msg.replace(b"\r\n", b"\n")), "the client's message arrives unchanged")
            self.assertIn(f"Return-Path: <{CAROL[0]}>\n".encode(), trace, "Dovecot took it from MAIL FROM")
            self.assertEqual(trace.count(b"Return-Path:"), 1, "exactly one Return-Path: cartero added none")
            self.assertNotIn(b"Delivered-To: " + CAROL[0].encode(), trace)
            srv.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, relay=local, .*status=sent \(.*{re.escape(str(dovecot.socket))}")
            self.assertRegex(dovecot.log_text(), r"lmtp\(bob@example\.test\).*saved mail to INBOX")

    def test_user_unknown_to_dovecot_bounces_to_the_sender(self):
        with Dovecot() as dovecot, cartero(dovecot.start()) as srv:
            msg = h.make_message(subject="to nobody there", sender=CAROL[0], rcpt=DAVE)
            qid = submit(srv, [DAVE], msg)
            srv.wait_log(rf"{qid}: to=<{re.escape(DAVE)}>, relay=local, .*status=bounced \(.*550 5\.1\.1")
            bounce = srv.wait_for_delivery(CAROL[0], 1)[0]
            self.assertIn(b"Return-Path: <>", bounce.raw, "a DSN comes from the null sender")
            self.assertIn(b"Status: 5.1.1", bounce.raw)
            self.assertIn(b"Final-Recipient: rfc822; " + DAVE.encode(), bounce.raw)
            self.assertEqual(dovecot.messages(DAVE), [])

    def test_dovecot_down_defers_then_delivers_after_it_starts(self):
        with Dovecot() as dovecot, cartero(dovecot) as srv:   # Dovecot not started yet
            msg = h.make_message(subject="wait for me", sender=CAROL[0], rcpt=BOB)
            qid = submit(srv, [BOB], msg)
            srv.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, relay=local, .*status=deferred \(.*"
                          rf"{re.escape(str(dovecot.socket))}")
            self.assertEqual(srv.maildir_messages(CAROL[0]), [], "a deferral is not a bounce")
            dovecot.start()
            stored = dovecot.wait_for(BOB, 1, timeout=30)
            self.assertTrue(dovecot_trace(stored[0])[1].endswith(msg.replace(b"\r\n", b"\n")))
            srv.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, relay=local, .*status=sent")
            # Stopped again: the kept connection is gone, the next copy waits in the queue.
            dovecot.stop()
            qid2 = submit(srv, [BOB], h.make_message(subject="second", sender=CAROL[0], rcpt=BOB))
            srv.wait_log(rf"{qid2}: to=<{re.escape(BOB)}>, relay=local, .*status=deferred")
            dovecot.start()
            self.assertEqual(len(dovecot.wait_for(BOB, 2, timeout=30)), 2)


if __name__ == "__main__":
    unittest.main()
