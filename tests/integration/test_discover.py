"""`cartero discover ADDRESS` end to end (issue 9 sections 1 and 5).

Everything runs on 127.0.0.1: the test DNS server (tests/support/dns_server.py)
answers A, MX and SRV records for *.test domains; a local HTTPS server (Python's
http.server + ssl, certificate from a test CA) serves autoconfig XML; a real cartero
(tests/support/cartero_harness.py) is the mail server the port probe talks to. The
test-only flags point discover at them: --resolver, --ca-file, --autoconfig-port and
--probe-port-map (docs/client.md).
"""
import json
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402
from dns_server import DnsServer  # noqa: E402
from https_server import HttpsServer  # noqa: E402

FIRST_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"

# An autoconfig file as a hosting provider publishes it (reference client-config.md 1.1).
AUTOCONFIG_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="corp.test">
    <domain>corp.test</domain>
    <displayName>Corp Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.%EMAILDOMAIN%</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.%EMAILDOMAIN%</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


class AutoconfigServer(HttpsServer):
    """HTTPS answering `routes` {(host, path): (status, content_type, body)}, anything else 404,
    with a certificate from `pki` naming `names`."""

    def __init__(self, pki: h.TestPKI, names: list[str], routes: dict):
        cert, key = pki.issue("autoconfig-" + names[0], sans=",".join(f"DNS:{n}" for n in names))
        super().__init__(cert, key, lambda host, path: routes.get((host, path), (404, "text/plain", b"no")))


class SilentListener:
    """A TCP port that accepts connections and never says anything (a middlebox, or a
    TLS port spoken to in plaintext)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                return

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stopping = True
        self.sock.close()
        for c in self.held:
            c.close()


def discover(*args: str, timeout: float = 30) -> tuple[subprocess.CompletedProcess, float]:
    argv = [h.require_binary(), "discover", *args]
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - start


class DiscoverTest(unittest.TestCase):
    def setUp(self):
        h.require_binary(self)
        self.pki = h.TestPKI(Path(self.enterContext(__import__("tempfile").TemporaryDirectory())) / "pki")

    # -- 1. provider table ------------------------------------------------------------
    def test_provider_table_answers_gmail_without_the_network(self):
        # Nothing answers on port 9: the table must not need DNS.
        r, elapsed = discover("alice@gmail.com", "--test-dns-resolver", "127.0.0.1:9")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Outgoing server for alice@gmail.com (from the provider table: Gmail)", r.stdout)
        self.assertIn("Server:      smtp.gmail.com\n", r.stdout)
        self.assertIn("Port:        465\n", r.stdout)
        self.assertIn("Encryption:  SSL/TLS\n", r.stdout)
        self.assertIn("User name:   alice@gmail.com (your full e-mail address)\n", r.stdout)
        self.assertIn("Also:        smtp.gmail.com port 587, STARTTLS\n", r.stdout)
        self.assertIn("app password", r.stdout)
        self.assertLess(elapsed, 5)

    def test_spanish_output_in_full(self):
        r, _ = discover("--lang", "es", "ana@outlook.com", "--test-dns-resolver", "127.0.0.1:9")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, (
            "Servidor de salida para ana@outlook.com (según la tabla de proveedores: Outlook.com / Hotmail / Live)\n"
            "\n"
            "  Servidor:          smtp-mail.outlook.com\n"
            "  Puerto:            587\n"
            "  Cifrado:           STARTTLS\n"
            "  Usuario:           ana@outlook.com (su dirección de correo completa)\n"
            "  Inicio de sesión:  OAuth2\n"
            "\n"
            "Servidor de entrada (como referencia):\n"
            "  IMAP outlook.office365.com puerto 993, SSL/TLS\n"
            "\n"
            "Notas:\n"
            "  - Este proveedor solo acepta inicio de sesión con OAuth2 (ni contraseñas ni contraseñas de "
            "aplicación): use un programa de correo compatible con OAuth2.\n"
            "\n"
            "Datos: ISPDB hotmail.com.xml (commits 71ffec0 and 8017c7a, 2025-07-28); basic authentication off for "
            "consumer accounts since 2024-09-16 (comprobados el 2026-03-12)\n"))

    # -- 2. autoconfig ------------------------------------------------------------------
    def zones_for_web(self, *names: str) -> dict:
        return {n: {"A": "127.0.0.1"} for n in names}

    def test_autoconfig_first_url_with_the_address_and_placeholders(self):
        routes = {("autoconfig.corp.test", FIRST_PATH): (200, "text/xml; charset=UTF-8", AUTOCONFIG_XML)}
        with AutoconfigServer(self.pki, ["autoconfig.corp.test", "corp.test"], routes) as web, \
                DnsServer(self.zones_for_web("autoconfig.corp.test", "corp.test")) as dns:
            r, _ = discover("bob@corp.test", "--test-dns-resolver", dns.address, "--ca-file", str(self.pki.ca_cert),
                            "--autoconfig-port", str(web.port), "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            got = json.loads(r.stdout)
            self.assertEqual(got["source"], "autoconfig")
            self.assertEqual(got["where"], f"https://autoconfig.corp.test:{web.port}{FIRST_PATH}"
                                           "?emailaddress=bob%40corp.test")
            self.assertEqual([(o["host"], o["port"], o["security"]) for o in got["outgoing"]],
                             [("smtp.corp.test", 465, "ssl"), ("smtp.corp.test", 587, "starttls")])
            self.assertEqual(got["username"], "bob")
            self.assertEqual(got["incoming"], [{"type": "imap", "host": "imap.corp.test", "port": 993,
                                                "security": "ssl"}])
            self.assertIn((FIRST_PATH + "?emailaddress=bob%40corp.test", f"autoconfig.corp.test:{web.port}"),
                          web.requests)

    def test_autoconfig_well_known_when_the_first_is_missing_and_the_text(self):
        routes = {("corp.test", WELL_KNOWN_PATH): (200, "application/xml", AUTOCONFIG_XML)}
        with AutoconfigServer(self.pki, ["corp.test"], routes) as web, \
                DnsServer(self.zones_for_web("corp.test")) as dns:  # autoconfig.corp.test: NXDOMAIN
            r, _ = discover("bob@corp.test", "--test-dns-resolver", dns.address, "--ca-file", str(self.pki.ca_cert),
                            "--autoconfig-port", str(web.port))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"(from the domain's autoconfig file: https://corp.test:{web.port}{WELL_KNOWN_PATH}"
                          "?emailaddress=bob%40corp.test)", r.stdout)
            self.assertIn("Server:      smtp.corp.test\n", r.stdout)
            self.assertIn("Encryption:  SSL/TLS\n", r.stdout)
            self.assertIn("User name:   bob (the part of your address before the @)\n", r.stdout)
            self.assertIn("Sign-in:     password\n", r.stdout)

    def test_autoconfig_redirects_wrong_types_and_untrusted_certificates_are_refused(self):
        cases = [
            ({("autoconfig.corp.test", FIRST_PATH): (302, "text/html", b"")}, None, "HTTP status 302"),
            ({("autoconfig.corp.test", FIRST_PATH): (200, "text/html", AUTOCONFIG_XML)}, None, 'is not text/xml'),
            ({("autoconfig.corp.test", FIRST_PATH): (200, "text/xml", AUTOCONFIG_XML)}, "system",
             "certificate verify failed"),
        ]
        for routes, ca, reason in cases:
            with self.subTest(reason=reason), AutoconfigServer(self.pki, ["autoconfig.corp.test"], routes) as web, \
                    DnsServer(self.zones_for_web("autoconfig.corp.test")) as dns:
                args = ["bob@corp.test", "--test-dns-resolver", dns.address, "--autoconfig-port", str(web.port), "--json",
                        "--probe-timeout", "1s"]
                if ca is None:
                    args += ["--ca-file", str(self.pki.ca_cert)]
                r, _ = discover(*args)
                got = json.loads(r.stdout)
                self.assertFalse(got["found"])
                self.assertEqual(r.returncode, 69)
                step = next(s for s in got["steps"] if s["source"] == "autoconfig")
                self.assertTrue(any(reason in d for d in step["details"]), step)

    # -- 3. SRV and 4. MX -----------------------------------------------------------
    def test_srv_records_submissions_first(self):
        zones = {"_submissions._tcp.srv.test": {"SRV": ["10 1 465 backup.srv.test", "0 1 465 mail.srv.test"]},
                 "_submission._tcp.srv.test": {"SRV": "0 1 587 smtp.hoster.test"},
                 "_imap._tcp.srv.test": {"SRV": "0 0 0 ."}}
        with DnsServer(zones) as dns:
            r, _ = discover("carol@srv.test", "--test-dns-resolver", dns.address, "--probe-timeout", "1s")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("(from the domain's SRV records: _submissions._tcp.srv.test)", r.stdout)
            self.assertIn("Server:      mail.srv.test\n  Port:        465\n  Encryption:  SSL/TLS\n", r.stdout)
            self.assertIn("Also:        backup.srv.test port 465, SSL/TLS\n", r.stdout)
            self.assertIn("Also:        smtp.hoster.test port 587, STARTTLS\n", r.stdout)
            self.assertIn("not given by this source; usually your full e-mail address", r.stdout)
            self.assertIn("Check this: smtp.hoster.test is not in srv.test; DNS answers are not signed", r.stdout)

    def test_srv_dot_target_means_not_offered(self):
        zones = {"_submissions._tcp.dot.test": {"SRV": "0 0 0 ."}, "_submission._tcp.dot.test": {"SRV": "0 0 0 ."}}
        with DnsServer(zones) as dns:
            r, _ = discover("dan@dot.test", "--test-dns-resolver", dns.address, "--probe-timeout", "1s", "--json")
            got = json.loads(r.stdout)
            self.assertFalse(got["found"])
            step = next(s for s in got["steps"] if s["source"] == "srv")
            self.assertEqual(step["details"], ['_submissions._tcp.dot.test SRV: target "." (service not offered)',
                                               '_submission._tcp.dot.test SRV: target "." (service not offered)'])

    def test_mx_under_google_means_google_workspace(self):
        zones = {"shop.test": {"MX": ["5 alt1.aspmx.l.google.com", "1 aspmx.l.google.com"]}}
        with DnsServer(zones) as dns:
            r, _ = discover("erin@shop.test", "--test-dns-resolver", dns.address, "--probe-timeout", "1s")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("(from the domain's MX records: aspmx.l.google.com belongs to Google Workspace)", r.stdout)
            self.assertIn("Server:      smtp.gmail.com\n", r.stdout)
            self.assertIn("app password", r.stdout)

    # -- 5. probe against a real cartero ----------------------------------------------
    def test_probe_finds_what_each_port_of_cartero_speaks(self):
        with h.Server(start=False, name="probed") as srv:
            cert, key = srv.pki.issue("probed", sans="DNS:smtp.probe.test")
            srv.config["tls"] = {"cert": str(cert), "key": str(key)}
            srv.write_config()
            srv.start()
            zones = {"smtp.probe.test": {"A": "127.0.0.1"}, "probe.test": {"MX": "10 smtp.probe.test"}}
            port_map = f"465={srv.port('submissions')},587={srv.port('submission')},25={srv.port('mx')}"
            with DnsServer(zones) as dns:
                r, elapsed = discover("fay@probe.test", "--test-dns-resolver", dns.address, "--ca-file", str(srv.pki.ca_cert),
                                      "--probe-port-map", port_map, "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                got = json.loads(r.stdout)
                self.assertEqual(got["source"], "probe")
                probes = {(p["host"], p["port"]): p for p in got["probes"]}
                tls465 = probes[("smtp.probe.test", 465)]
                self.assertEqual(tls465["speaks"], "implicit_tls")
                self.assertEqual(tls465["auth"], ["PLAIN", "LOGIN"])
                self.assertTrue(tls465["tls"]["verified"], tls465)
                self.assertEqual(probes[("smtp.probe.test", 587)]["speaks"], "starttls")
                self.assertEqual(probes[("smtp.probe.test", 587)]["auth"], ["PLAIN", "LOGIN"])
                mx = probes[("smtp.probe.test", 25)]
                self.assertIn(mx["speaks"], ("starttls", "plaintext"))
                self.assertEqual(mx["auth"], [], "the MX port offers no AUTH")
                self.assertEqual(probes[("mail.probe.test", 465)]["speaks"], "no_host")
                self.assertEqual([(o["host"], o["port"], o["security"]) for o in got["outgoing"]],
                                 [("smtp.probe.test", 465, "ssl"), ("smtp.probe.test", 587, "starttls")])
                # The same in words.
                r, _ = discover("fay@probe.test", "--test-dns-resolver", dns.address, "--ca-file", str(srv.pki.ca_cert),
                                "--probe-port-map", port_map)
                self.assertIn("(from a probe of the domain's mail servers)", r.stdout)
                self.assertIn("  smtp.probe.test:465  SSL/TLS; AUTH PLAIN LOGIN\n", r.stdout)
                self.assertIn("  smtp.probe.test:587  STARTTLS; AUTH PLAIN LOGIN\n", r.stdout)
                self.assertIn("  mail.probe.test  the name does not exist\n", r.stdout)
                self.assertNotIn("mail.probe.test:", r.stdout)

    def test_msmtp_configuration_sends_through_the_discovered_server(self):
        user, password = "gus@probe.test", "gus-password"
        with h.Server(start=False, name="msmtp", config={"local_domains": ["probe.test"]},
                      users={user: password}) as srv:
            cert, key = srv.pki.issue("probed", sans="DNS:smtp.probe.test")
            srv.config["tls"] = {"cert": str(cert), "key": str(key)}
            srv.write_config()
            srv.start()
            zones = {"smtp.probe.test": {"A": "127.0.0.1"}}
            port_map = f"465={srv.port('submissions')},587={srv.port('submission')},25={srv.port('mx')}"
            with DnsServer(zones) as dns:
                r, _ = discover(user, "--test-dns-resolver", dns.address, "--ca-file", str(srv.pki.ca_cert),
                                "--probe-port-map", port_map, "--format", "msmtp")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("host smtp.probe.test\nport 465\ntls on\ntls_starttls off\n", r.stdout)
                rc = srv.tmp / "msmtprc"
                # The test-only parts: the run-time port, the test CA, the name on loopback
                # (msmtp asks the system resolver, so it connects to 127.0.0.1 and checks
                # the certificate for smtp.probe.test).
                rc.write_text(r.stdout.replace("port 465", f"port {srv.port('submissions')}")
                              .replace("host smtp.probe.test", "host 127.0.0.1\ntls_host_override smtp.probe.test")
                              .replace("tls_trust_file system", f"tls_trust_file {srv.pki.ca_cert}")
                              + f"passwordeval \"echo {password}\"\n")
                rc.chmod(0o600)
                msg = h.make_message(sender=user, rcpt=user, subject="via msmtp")
                sent = subprocess.run(["msmtp", "-C", str(rc), user], input=msg, capture_output=True, timeout=30)
                self.assertEqual(sent.returncode, 0, sent.stderr)
                delivered = srv.wait_for_delivery(user, 1)
                self.assertIn(b"Subject: via msmtp", delivered[0].raw)

    # -- bounds -------------------------------------------------------------------------
    def test_unknown_domain_is_answered_within_10_seconds(self):
        with DnsServer({}) as dns:
            r, elapsed = discover("zoe@unknown.test", "--test-dns-resolver", dns.address)
            self.assertEqual(r.returncode, 69, r.stdout + r.stderr)
            self.assertIn("No outgoing server found for zoe@unknown.test.", r.stdout)
            self.assertIn("Tried:\n  provider table: nothing found\n  autoconfig: nothing found\n", r.stdout)
            self.assertLess(elapsed, 10)

    def test_silent_servers_everywhere_still_answer_within_10_seconds(self):
        # Every name resolves; every port accepts and never speaks; DNS for one name
        # never answers. Default timeouts only.
        with SilentListener() as silent, DnsServer({
                "slow.test": {"A": "127.0.0.1"}, "autoconfig.slow.test": {"A": "127.0.0.1"},
                "smtp.slow.test": {"A": "127.0.0.1"}, "mail.slow.test": "TIMEOUT"}) as dns:
            port_map = f"465={silent.port},587={silent.port},25={silent.port}"
            r, elapsed = discover("yan@slow.test", "--test-dns-resolver", dns.address, "--autoconfig-port", str(silent.port),
                                  "--probe-port-map", port_map, "--json")
            self.assertEqual(r.returncode, 69, r.stdout + r.stderr)
            self.assertLess(elapsed, 10)
            got = json.loads(r.stdout)
            speaks = {(p["host"], p["port"]): p["speaks"] for p in got["probes"]}
            self.assertEqual(speaks[("smtp.slow.test", 587)], "timed_out")
            self.assertEqual(speaks[("mail.slow.test", 465)], "timed_out")

    def test_not_an_address(self):
        r, _ = discover("not-an-address", "--test-dns-resolver", "127.0.0.1:9")
        self.assertEqual(r.returncode, 64)
        self.assertIn('"not-an-address" is not an e-mail address', r.stderr)


if __name__ == "__main__":
    unittest.main()
