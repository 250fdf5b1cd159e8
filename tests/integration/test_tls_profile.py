"""TLS held to a standard (issue 12, section 2): Mozilla's intermediate profile checked by
testssl.sh on the 465 (implicit TLS) and 587 (STARTTLS) listeners, the modern profile,
and certificates reloaded when their files change, without a signal."""
import json
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")
# What testssl.sh rates as a problem. WARN is a problem too, except its note that
# Debian's openssl has no GOST engine (a fact about the scanner, not the server).
PROBLEM_SEVERITIES = {"LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN"}
SCANNER_NOTES = {"engine_problem"}
AEAD = {"AESGCM", "ChaCha20"}


def testssl(port: int, starttls: bool, out: Path) -> subprocess.Popen:
    """Starts testssl.sh on 127.0.0.1:port: protocols (-p), cipher categories (-s),
    forward secrecy (-f), vulnerabilities (-U) and every cipher offered (-e)."""
    args = [TESTSSL, "--quiet", "--color", "0", "--warnings", "off", "--jsonfile", str(out),
            "-p", "-s", "-f", "-U", "-e"]
    if starttls:
        args += ["--starttls", "smtp"]
    return subprocess.Popen(args + [f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def findings(path: Path) -> dict[str, dict]:
    return {entry["id"]: entry for entry in json.loads(path.read_text())}


def peer_serial(port: int, ca: Path) -> int:
    """The serial number of the certificate the 465 listener presents now."""
    ctx = h.client_context(ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return int(tls.getpeercert()["serialNumber"], 16)


@unittest.skipUnless(TESTSSL, "testssl.sh is not installed (scripts/install-deps test)")
class IntermediateProfileTest(unittest.TestCase):
    def test_testssl_finds_nothing_on_465_and_587(self):
        # One server with an ECDSA certificate (scanned on 465), one with RSA (scanned on
        # 587 STARTTLS), so both families of ECDHE suites and RSA-only attacks (ROBOT) are
        # looked at. The two scans run at once: each takes about a minute.
        with h.Server(name="tls-ec") as ec, h.Server(name="tls-rsa", start=False) as rsa:
            rsa.cert, rsa.key = rsa.pki.issue("server-rsa", key_type="rsa")
            rsa.config["tls"] = {"cert": str(rsa.cert), "key": str(rsa.key)}
            rsa.write_config()
            rsa.start()
            out = Path(tempfile.mkdtemp(prefix="testssl-"))
            try:
                scans = {
                    "465 (ECDSA)": (testssl(ec.port("submissions"), False, out / "465.json"), out / "465.json"),
                    "587 (RSA, STARTTLS)": (testssl(rsa.port("submission"), True, out / "587.json"),
                                           out / "587.json"),
                }
                for name, (process, path) in scans.items():
                    _, errors = process.communicate(timeout=400)
                    self.assertTrue(path.exists(), f"{name}: testssl.sh wrote no report: {errors.decode()[-2000:]}")
                    with self.subTest(listener=name):
                        self.check_report(findings(path))
            finally:
                shutil.rmtree(out, ignore_errors=True)

    def check_report(self, report: dict[str, dict]) -> None:
        problems = [f"{e['id']} {e['severity']}: {e['finding']}" for e in report.values()
                    if e["severity"] in PROBLEM_SEVERITIES and e["id"] not in SCANNER_NOTES]
        self.assertEqual(problems, [], "testssl.sh flagged these")
        for protocol in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
            self.assertEqual(report[protocol]["finding"], "not offered", protocol)
        self.assertEqual(report["TLS1_2"]["finding"], "offered")
        self.assertTrue(report["TLS1_3"]["finding"].startswith("offered"), report["TLS1_3"])
        self.assertEqual(report["cipherlist_AVERAGE"]["finding"], "not offered")
        self.assertEqual(report["cipherlist_3DES_IDEA"]["finding"], "not offered")
        ciphers = [e["finding"].split() for e in report.values() if e["id"].startswith("cipher_x")]
        self.assertGreaterEqual(len(ciphers), 4, "testssl.sh listed too few ciphers to be believed")
        for hexcode, name, kx, _bits, encryption, *_ in ciphers:
            self.assertEqual(kx, "ECDH", f"{name}: key exchange")
            self.assertIn(encryption, AEAD, f"{name}: not an AEAD cipher")


class ModernProfileTest(unittest.TestCase):
    def test_modern_offers_tls13_only(self):
        with h.Server(config={"tls": {"profile": "modern"}}, name="tls-modern") as srv:
            port = srv.port("submissions")
            old = srv.client_context()
            old.maximum_version = ssl.TLSVersion.TLSv1_2
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with self.assertRaises(ssl.SSLError):
                    old.wrap_socket(raw, server_hostname="localhost")
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with srv.client_context().wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.version(), "TLSv1.3")
                    self.assertTrue(tls.recv(512).startswith(b"220 "))

    def test_unknown_profile_is_a_config_error(self):
        with h.Server(config={"tls": {"profile": "old"}}, start=False, name="tls-bad") as srv:
            result = srv.cli("serve", check=False, timeout=20)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn('tls.profile', result.stderr)
            self.assertIn('unknown TLS profile "old"', result.stderr)
            self.assertIn("use intermediate or modern", result.stderr)


class CertificateRenewalTest(unittest.TestCase):
    def test_renewed_files_are_served_without_a_signal(self):
        with h.Server(config={"tls": {"watch_interval": "1s"}}, name="tls-renew") as srv:
            port = srv.port("submissions")
            first = peer_serial(port, srv.pki.ca_cert)
            new_cert, new_key = srv.pki.issue("renewed")
            self.assertNotEqual(h.leaf_der(new_cert), h.leaf_der(srv.cert))

            # A renewal caught half-way: the new certificate beside the old key. The
            # reload is refused and the old pair keeps serving.
            shutil.copyfile(new_cert, srv.cert)
            srv.wait_log(r"TLS certificate or key file changed: reloading", timeout=10)
            srv.wait_log(r"reload refused, keeping the running configuration: .*does not match", timeout=10)
            self.assertEqual(peer_serial(port, srv.pki.ca_cert), first)

            # The key arrives: the next look reloads, and new connections get the new pair.
            shutil.copyfile(new_key, srv.key)
            deadline = time.monotonic() + 10
            while peer_serial(port, srv.pki.ca_cert) == first and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertNotEqual(peer_serial(port, srv.pki.ca_cert), first, "the renewed certificate was not served")
            self.assertIn("reloaded configuration and certificates", srv.log_text())
            with srv.smtp("submissions") as s:
                self.assertEqual(s.noop()[0], 250)


if __name__ == "__main__":
    unittest.main()
