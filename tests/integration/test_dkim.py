"""DKIM signing (issue 4 section 4), checked by an independent verifier.

Keys are made with `cartero dkim keygen` (RSA-2048 and Ed25519), and the TXT
records it prints are what the verifier gets from its DNS function, so the
keygen output is tested too. Messages are signed by tests/integration/
dkim_sign_file.cpp, a test-only program over cartero_dkim's Signer (the same
call the delivery path makes), and verified with Debian's python3-dkim
(dkimpy), which shares no code with cartero. Each signature of a message is
verified on its own (dual RSA + Ed25519, RFC 8463 4); tampering must break both.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import dkim  # Debian python3-dkim

CARTERO = os.environ.get("CARTERO_BIN", "")
SIGN = os.environ.get("CARTERO_DKIM_SIGN", "")
DOMAIN = "example.org"
NOW = int(time.time())
TIMEOUT = 60  # seconds for any one subprocess

RECEIVED = (b"Received: from laptop (laptop [127.0.0.1])\r\n\tby mx.example.org (cartero) with ESMTPSA"
            b" (TLSv1.3 TLS_AES_256_GCM_SHA384) id 0123456789ABCDEF\r\n\tfor <bob@example.net>;"
            b" Thu, 12 Jun 2025 10:00:00 +0000\r\n")


def message(headers: str | bytes, body: bytes) -> bytes:
    head = headers.encode() if isinstance(headers, str) else headers
    return RECEIVED + head.replace(b"\n", b"\r\n") + b"\r\n" + body


# name -> the message as cartero stores it (CRLF; its own Received field first)
MESSAGES = {
    "simple": message("From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: hello\n"
                      "Date: Thu, 12 Jun 2025 10:00:00 +0000\nMessage-ID: <1@example.org>\n",
                      b"Hi Bob,\r\n\r\nsee you.\r\n"),
    "folded_headers": message("From: \"Alice Example\"\n <alice@example.org>\nTo: bob@example.net,\n\tcarol@example.net,"
                              "\n   dave@example.net\nSubject: a subject that a mail client folded\n\tover two lines\n"
                              "MIME-Version: 1.0\nContent-Type: text/plain;\n charset=us-ascii\n",
                              b"body\r\n"),
    "trailing_empty_lines_and_spaces": message("From: alice@example.org\nSubject: spaces\n",
                                               b"line with trailing spaces   \r\n\tindented\t and  spaced\r\n"
                                               b"\r\n\r\n   \r\n\r\n"),
    "eight_bit": message("From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\nSubject: caf\xc3\xa9 \xe2\x82\xac\n"
                         "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                         "Content-Transfer-Encoding: 8bit\n".encode("latin-1"),
                         "Grüße aus Köln — 8-bit body ✓\r\n".encode("utf-8")),
    "several_from": message("From: alice@example.org\nFrom: mallory@example.org\nSubject: two authors\n",
                            b"RFC 5322 allows one From; DKIM still signs all of them.\r\n"),
    "empty_body": message("From: alice@example.org\nSubject: nothing\n", b""),
    "large_body": message("From: alice@example.org\nSubject: large\n",
                          b"".join(b"line %d  with  some  text \t\r\n" % i for i in range(20000))),
    "list_headers": message("From: list@example.org\nList-Id: <l.example.org>\n"
                            "List-Unsubscribe: <https://example.org/u>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n",
                            b"news\r\n"),
}


def run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, timeout=TIMEOUT)


def txt_records(output: str) -> dict[str, str]:
    """Zone-file records as printed by keygen/show -> {owner name: concatenated TXT value}."""
    records = {}
    for owner, body in re.findall(r'^(\S+)\. IN TXT \((.*?)\)\s*$', output, re.M | re.S):
        strings = re.findall(r'"([^"]*)"', body)
        for s in strings:
            if len(s.encode()) > 255:
                raise AssertionError(f"TXT string of {len(s)} octets: {s!r}")
        records[owner] = "".join(strings)
    return records


class DkimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CARTERO or not SIGN:
            raise unittest.SkipTest("CARTERO_BIN and CARTERO_DKIM_SIGN are set by ctest")
        cls.tmp = Path(tempfile.mkdtemp(prefix="cartero-dkim-"))
        cls.config = cls.tmp / "cartero.toml"
        cls.config.write_text(f'data_dir = "data"\nlocal_domains = ["{DOMAIN}"]\n')
        cls.key_dir = cls.tmp / "data" / "dkim"
        cls.dns = {}
        rsa = cls.keygen(DOMAIN, "--selector", "r1", "--algorithm", "rsa")
        ed = cls.keygen(DOMAIN, "--algorithm", "ed25519")  # default selector
        cls.dns.update(txt_records(rsa.stdout.decode()))
        cls.dns.update(txt_records(ed.stdout.decode()))
        cls.ed_selector = next(name.split(".")[0] for name in cls.dns if "ed25519" in name)

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("CARTERO_KEEP_TMP"):
            print(f"kept {cls.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def keygen(cls, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = run([CARTERO, "--config", str(cls.config), "dkim", "keygen", *args])
        if check and done.returncode != 0:
            raise AssertionError(f"keygen {args} -> {done.returncode}: {done.stderr.decode()}")
        return done

    def dnsfunc(self, name, timeout=5):
        owner = (name.decode() if isinstance(name, bytes) else name).rstrip(".")
        value = self.dns.get(owner)
        return value.encode() if value is not None else None

    def sign(self, msg: bytes, domain: str = DOMAIN, key_dir: Path | None = None) -> subprocess.CompletedProcess:
        path = self.tmp / "message.eml"
        path.write_bytes(msg)
        return run([SIGN, str(key_dir or self.key_dir), domain, str(NOW), str(path)])

    def signed(self, msg: bytes) -> bytes:
        done = self.sign(msg)
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        return done.stdout

    def results(self, msg: bytes) -> list[bool]:
        """One verification result per DKIM-Signature field, top first."""
        count = len(re.findall(rb"^DKIM-Signature:", msg, re.M | re.I))
        self.assertGreater(count, 0)
        out = []
        for idx in range(count):
            try:
                out.append(bool(dkim.DKIM(msg).verify(idx=idx, dnsfunc=self.dnsfunc)))
            except dkim.DKIMException:
                out.append(False)
        return out

    # ---- keygen output and files ------------------------------------------

    def test_keygen_writes_0600_keys_and_prints_records(self):
        self.assertRegex(self.ed_selector, r"^\d{8}-ed25519$")
        rsa_value = self.dns[f"r1._domainkey.{DOMAIN}"]
        self.assertTrue(rsa_value.startswith("v=DKIM1; k=rsa; p=MIIBIjAN"), rsa_value)  # 2048-bit SPKI
        ed_value = self.dns[f"{self.ed_selector}._domainkey.{DOMAIN}"]
        self.assertRegex(ed_value, r"^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$")
        for selector in ("r1", self.ed_selector):
            key = self.key_dir / DOMAIN / f"{selector}.key"
            self.assertEqual(stat.S_IMODE(key.stat().st_mode), 0o600, key)
        self.assertEqual(stat.S_IMODE((self.key_dir / DOMAIN).stat().st_mode), 0o700)

    def test_show_prints_the_same_records(self):
        done = run([CARTERO, "--config", str(self.config), "dkim", "show", DOMAIN])
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        self.assertEqual(txt_records(done.stdout.decode()), self.dns)

    def test_keygen_refuses_to_overwrite_without_force(self):
        first = self.keygen("other.example", "--selector", "s1", "--algorithm", "ed25519")
        again = self.keygen("other.example", "--selector", "s1", "--algorithm", "ed25519", check=False)
        self.assertEqual(again.returncode, 73, again.stderr.decode())
        self.assertIn("--force", again.stderr.decode())
        self.assertEqual(again.stdout, b"")
        forced = self.keygen("other.example", "--selector", "s1", "--algorithm", "ed25519", "--force")
        self.assertNotEqual(txt_records(first.stdout.decode()), txt_records(forced.stdout.decode()))
        self.assertIn("not in local_domains", first.stderr.decode())

    def test_keygen_refuses_bad_names(self):
        for args in (["exa mple.org"], [DOMAIN, "--selector", "../escape"], [DOMAIN, "--selector", "a_b"]):
            done = self.keygen(*args, check=False)
            self.assertEqual(done.returncode, 65, f"{args}: {done.stderr.decode()}")
        self.assertFalse((self.tmp / "data" / "escape.key").exists())

    # ---- signatures verified by dkimpy --------------------------------------

    def test_every_message_verifies_with_both_signatures(self):
        for name, msg in MESSAGES.items():
            with self.subTest(message=name):
                signed = self.signed(msg)
                self.assertTrue(signed.endswith(msg))
                self.assertIn(b"a=ed25519-sha256;", signed)
                self.assertIn(b"a=rsa-sha256;", signed)
                for line in signed[:len(signed) - len(msg)].split(b"\r\n"):
                    self.assertLessEqual(len(line), 78, line)
                self.assertEqual(self.results(signed), [True, True])

    def test_tampering_breaks_both_signatures(self):
        signed = self.signed(MESSAGES["simple"])
        tampered = {
            "body byte": signed.replace(b"see you.", b"see yoU."),
            "body line added": signed + b"P.S. send money\r\n",
            "From changed": signed.replace(b"From: Alice <alice@", b"From: Alice <alicf@"),
            "From added on top": b"From: mallory@example.org\r\n" + signed,
            "Subject added (oversigned)": b"Subject: urgent\r\n" + signed,
            "Reply-To added (oversigned, absent)": b"Reply-To: mallory@evil.example\r\n" + signed,
            "Cc added (oversigned, absent)": signed.replace(b"\r\n\r\nHi Bob", b"\r\nCc: x@evil.example\r\n\r\nHi Bob"),
        }
        for what, msg in tampered.items():
            with self.subTest(tampered=what):
                self.assertEqual(self.results(msg), [False, False])

    def test_relaxed_survives_what_relays_do(self):
        signed = self.signed(MESSAGES["simple"])
        changed = {
            "Received added on top": b"Received: from mx.example.org by mx.example.net; date\r\n" + signed,
            "header re-folded": signed.replace(b"Subject: hello", b"Subject:\r\n\t hello"),
            "trailing whitespace and empty lines in body": signed.replace(b"see you.\r\n", b"see you. \t\r\n\r\n\r\n"),
        }
        for what, msg in changed.items():
            with self.subTest(change=what):
                self.assertEqual(self.results(msg), [True, True])

    # ---- refusals ------------------------------------------------------------

    def test_not_signed_without_from_key_or_wellformedness(self):
        cases = {
            "no From": (message("To: bob@example.net\nSubject: x\n", b"b\r\n"), DOMAIN, "no From field"),
            "no key": (MESSAGES["simple"], "example.net", "no key: no key for example.net"),
            "bare LF": (RECEIVED + b"From: a@example.org\nSubject: x\r\n\r\nb\r\n", DOMAIN, "malformed message"),
            "not a field": (message("From: a@example.org\nthis is no header\n", b"b\r\n"), DOMAIN, "neither a header"),
            "long header line": (message("From: a@example.org\nX-Long: " + "x" * 100000 + "\n", b"b\r\n"),
                                 DOMAIN, None),
        }
        for what, (msg, domain, reason) in cases.items():
            with self.subTest(case=what):
                done = self.sign(msg, domain)
                if reason is None:  # odd but well-formed: signed and verifiable
                    self.assertEqual(done.returncode, 0, done.stderr.decode())
                    self.assertEqual(self.results(done.stdout), [True, True])
                else:
                    self.assertEqual(done.returncode, 1, done.stderr.decode())
                    self.assertIn(reason, done.stderr.decode())
                    self.assertEqual(done.stdout, b"")

    def test_group_readable_key_is_refused_with_the_fix(self):
        keys = self.tmp / "loose-keys"
        shutil.copytree(self.key_dir, keys)
        loose = keys / DOMAIN / "r1.key"
        loose.chmod(0o640)
        done = self.sign(MESSAGES["simple"], key_dir=keys)
        self.assertEqual(done.returncode, 3)
        self.assertIn(f"{loose}: private key is accessible by group or other users (fix: chmod 600 {loose})",
                      done.stderr.decode())
        config = self.tmp / "loose.toml"
        config.write_text(f'data_dir = "data"\n[dkim]\nkey_dir = "{keys}"\n')
        shown = run([CARTERO, "--config", str(config), "dkim", "show"])
        self.assertEqual(shown.returncode, 78, shown.stderr.decode())
        self.assertIn(f"chmod 600 {loose}", shown.stderr.decode())


if __name__ == "__main__":
    unittest.main()
