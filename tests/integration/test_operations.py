"""Operating the server (issue 2, section 2): SIGHUP reloads certificates and config
without dropping sessions, SIGTERM drains and exits 0, a bad config is refused with
file:line and key, the embedded default prints where it listens."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

ALICE, ALICE_PW = "alice@example.test", "alice-Secret-1"
BOB = "bob@example.test"


def replace_file(path: Path, source: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".new")
    shutil.copyfile(source, tmp)
    os.replace(tmp, path)


class ReloadTest(unittest.TestCase):
    def test_sighup_reloads_certificate_without_dropping_sessions(self):
        with h.Server(users={ALICE: ALICE_PW, BOB: "bob-pw-1234"}, name="hup") as srv:
            old_der = h.leaf_der(srv.cert)
            new_cert, new_key = srv.pki.issue("server2", cn="renewed.localhost")
            new_der = h.leaf_der(new_cert)
            # an open session over implicit TLS, authenticated, in the middle of a transaction
            c = srv.raw("submissions")
            self.assertEqual(c.sock.getpeercert(binary_form=True), old_der)
            c.reply()
            c.ehlo()
            self.assertEqual(c.auth_plain(ALICE, ALICE_PW).code, 235)
            self.assertEqual(c.cmd(f"MAIL FROM:<{ALICE}>").code, 250)
            # and an open plaintext session on mx
            m = srv.raw("mx")
            m.reply()
            m.ehlo()
            replace_file(srv.cert, new_cert)
            replace_file(srv.key, new_key)
            srv.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            seen = None
            while time.monotonic() < deadline:
                with h.RawClient(srv.port("submissions"), tls_context=srv.client_context()) as n:
                    seen = n.sock.getpeercert(binary_form=True)
                if seen == new_der:
                    break
                time.sleep(0.2)
            self.assertEqual(seen, new_der, "new handshakes do not present the reloaded certificate")
            # STARTTLS on submission also uses the new certificate
            with srv.raw("submission") as s:
                s.reply()
                s.ehlo()
                self.assertEqual(s.cmd("STARTTLS").code, 220)
                s.starttls(srv.client_context())
                self.assertEqual(s.sock.getpeercert(binary_form=True), new_der)
            # the old sessions are alive and can finish their work
            t = "tok" + os.urandom(6).hex()
            self.assertEqual(c.cmd(f"RCPT TO:<{BOB}>").code, 250)
            self.assertEqual(c.cmd("DATA").code, 354)
            msg = h.make_message(sender=ALICE, rcpt=BOB, token=t)
            c.send(msg + b".\r\n")
            r = c.reply(15)
            self.assertEqual(r.code, 250, r)
            c.close()
            self.assertEqual(m.cmd("NOOP").code, 250)
            m.close()
            h.check_delivered(self, srv, BOB, msg, t, sender=ALICE)
            self.assertTrue(srv.running())

    def test_sighup_reloads_config_limits(self):
        with h.Server(config={"limits": {"message_size": 50000}}, name="hupcfg") as srv:
            with srv.raw("mx") as c:
                c.reply()
                self.assertIn("SIZE 50000", c.ehlo().keywords())
            old = srv.raw("mx")
            old.reply()
            srv.config["limits"]["message_size"] = 70000
            srv.write_config()
            srv.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            kws = []
            while time.monotonic() < deadline:
                with srv.raw("mx") as c:
                    c.reply()
                    kws = c.ehlo().keywords()
                if "SIZE 70000" in kws:
                    break
                time.sleep(0.2)
            self.assertIn("SIZE 70000", kws)
            self.assertEqual(old.ehlo().code, 250, "SIGHUP dropped an open session")
            old.close()

    def test_sighup_with_broken_config_keeps_running(self):
        with h.Server(name="hupbad") as srv:
            srv.write_config(srv.config_path.read_text() + "\n[limits]\nmessage_size = \"lots\"\n")
            srv.signal(signal.SIGHUP)
            time.sleep(1.0)
            self.assertTrue(srv.running(), "a bad config on SIGHUP killed the server")
            with srv.raw("mx") as c:
                self.assertEqual(c.reply().code, 220)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_with_open_session(self):
        cfg = {"limits": {"shutdown_grace": "3s"}}
        with h.Server(config=cfg, users={BOB: "bob-pw-1234"}, name="term") as srv:
            idle = srv.raw("mx")
            idle.reply()
            idle.ehlo()
            busy = srv.raw("mx")
            busy.reply()
            busy.ehlo()
            self.assertEqual(busy.cmd("MAIL FROM:<x@remote.test>").code, 250)
            self.assertEqual(busy.cmd(f"RCPT TO:<{BOB}>").code, 250)
            t0 = time.monotonic()
            srv.signal(signal.SIGTERM)
            time.sleep(0.3)
            # stops accepting: a new client gets refused or a 421 4.3.2, never a 220
            try:
                with srv.raw("mx", timeout=3) as n:
                    try:
                        r = n.reply(3)
                        self.assertNotEqual(r.code, 220, "still accepting after SIGTERM")
                    except (h.ConnectionClosed, h.ReplyTimeout):
                        pass
            except OSError:
                pass
            # the session in a transaction may finish; if it gets 250, the mail must not be lost
            t = "tok" + os.urandom(6).hex()
            msg = h.make_message(token=t)
            accepted = False
            try:
                r = busy.cmd("DATA")
                if r.code == 354:
                    busy.send(msg + b".\r\n")
                    r = busy.reply(5)
                    accepted = r.code == 250
                if not accepted:
                    self.assertEqual((r.code, r.enhanced), (421, "4.3.2"), r)
            except (h.ConnectionClosed, h.ReplyTimeout):
                pass
            try:
                rc = srv.proc.wait(3 + 7)
            except subprocess.TimeoutExpired:
                self.fail("server did not exit within shutdown_grace + 7s after SIGTERM")
            took = time.monotonic() - t0
            self.assertEqual(rc, 0, f"exit code {rc} after SIGTERM:\n{srv.log_tail()}")
            self.assertLess(took, 10)
            idle_data = idle.expect_closed(2)
            if idle_data:
                self.assertTrue(idle_data.startswith(b"421 4.3.2"), idle_data)
            idle.close()
            busy.close()
            if accepted:
                srv.start()
                h.wait_for_token(srv, BOB, t, timeout=15)

    def test_sigterm_idle_server_exits_zero_fast(self):
        with h.Server(name="term2") as srv:
            t0 = time.monotonic()
            rc = srv.stop(grace=10)
            self.assertEqual(rc, 0, srv.log_tail())
            self.assertLess(time.monotonic() - t0, 5)


class BadConfigTest(unittest.TestCase):
    def _serve_bad(self, text: str) -> tuple[int, str, Path]:
        binary = h.require_binary()
        d = Path(tempfile.mkdtemp(prefix="badcfg-"))
        try:
            p = d / "bad.toml"
            p.write_text(text)
            r = subprocess.run([binary, "serve", "--config", str(p)], capture_output=True, text=True, timeout=20)
            return r.returncode, r.stdout + r.stderr, p
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def _valid(self, port: int, **limits) -> list[str]:
        lines = ['hostname = "mx.example.test"', 'data_dir = "/tmp/cartero-badcfg-never-created"',
                 'local_domains = ["example.test"]', "", "[limits]"]
        lines += [f"{k} = {v}" for k, v in limits.items()]
        lines += ["", "[[listener]]", 'role = "mx"', f'address = "127.0.0.1:{port}"']
        return lines

    def test_wrong_type_names_file_line_and_key(self):
        port = h.free_port()
        lines = self._valid(port, message_size='"lots"')
        line_no = lines.index('message_size = "lots"') + 1
        rc, out, p = self._serve_bad("\n".join(lines) + "\n")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"{p.name}:{line_no}", out)
        self.assertIn("message_size", out)
        self.assertTrue(h.port_is_free(port), "server started despite a bad config")

    def test_bad_listener_role(self):
        port = h.free_port()
        lines = self._valid(port)
        lines[-2] = 'role = "relay"'
        rc, out, p = self._serve_bad("\n".join(lines) + "\n")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"{p.name}:{len(lines) - 1}", out)
        self.assertIn("role", out)

    def test_out_of_bounds_value(self):
        lines = self._valid(h.free_port(), recipients_per_message=0)
        line_no = lines.index("recipients_per_message = 0") + 1
        rc, out, p = self._serve_bad("\n".join(lines) + "\n")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"{p.name}:{line_no}", out)
        self.assertIn("recipients_per_message", out)

    def test_unknown_key_is_refused(self):
        lines = self._valid(h.free_port(), mesage_size=1000)
        line_no = lines.index("mesage_size = 1000") + 1
        rc, out, p = self._serve_bad("\n".join(lines) + "\n")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"{p.name}:{line_no}", out)
        self.assertIn("mesage_size", out)

    def test_toml_syntax_error(self):
        lines = self._valid(h.free_port())
        lines.insert(2, "local_domains = [unterminated")
        rc, out, p = self._serve_bad("\n".join(lines) + "\n")
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, re.escape(p.name) + r":3\b")

    def test_bad_cidr(self):
        lines = self._valid(h.free_port())
        lines.insert(3, 'trusted_networks = ["10.0.0.0/33"]')
        rc, out, p = self._serve_bad("\n".join(lines) + "\n")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"{p.name}:4", out)
        self.assertIn("trusted_networks", out)


class EmbeddedDefaultTest(unittest.TestCase):
    PORTS = (2525, 2587, 2465)

    def test_serve_without_config(self):
        busy = [p for p in self.PORTS if not h.port_is_free(p)]
        if busy:
            self.skipTest(f"embedded default needs ports {self.PORTS}; in use: {busy}")
        binary = h.require_binary()
        home = Path(tempfile.mkdtemp(prefix="cartero-home-"))
        log = home.parent / (home.name + ".log")
        try:
            with open(log, "wb") as out:
                proc = subprocess.Popen([binary, "serve"], cwd=home, env={**os.environ, "CARTERO_HOME": str(home)},
                                        stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                deadline = time.monotonic() + 30
                for p in self.PORTS:
                    self.assertTrue(h.wait_port(p, deadline), f"port {p} not listening:\n{log.read_text()}")
                time.sleep(0.3)
                text = log.read_text()
                for p in self.PORTS:
                    self.assertIn(str(p), text, "startup output does not say where it listens")
                self.assertIn("user add", text, "startup output does not say how to add a user")
                # every command it prints works as printed (Debian 12's swaks, on a terminal)
                h.send_yourself_a_test(text, "embedded-Pw-12345")
                # the self-signed certificate works for implicit TLS
                import ssl
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with h.RawClient(2465, tls_context=ctx) as c:
                    self.assertEqual(c.reply().code, 220)
                self.assertTrue(any(home.iterdir()), "nothing written under CARTERO_HOME")
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        finally:
            shutil.rmtree(home, ignore_errors=True)
            log.unlink(missing_ok=True)


if __name__ == "__main__":
    unittest.main()
