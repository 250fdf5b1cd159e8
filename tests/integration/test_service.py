"""Running as an operator runs it (issue 12, section 1): started as root, cartero binds a
privileged port and becomes server.user before it reads from the network; systemd socket
activation (systemd-socket-activate, which needs no systemd as PID 1) with each socket's
role from its name; Type=notify readiness, reload, stop and watchdog messages; log.file
reopened on SIGHUP for logrotate."""
import os
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
NOBODY_UID = 65534  # Debian's nobody:nogroup
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")


def free_privileged_port() -> int:
    """A free port below 1024 (only root may bind it), so the drop after binding is shown."""
    for port in range(700, 1000):
        if h.port_is_free(port):
            return port
    raise unittest.SkipTest("no free port below 1024")


def ids(pid: int) -> dict[str, list[int]]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {line.split(":")[0]: [int(x) for x in line.split(":")[1].split()]
            for line in status.splitlines() if line.split(":")[0] in ("Uid", "Gid", "Groups")}


def send_message(srv: h.Server, role: str, token: str) -> None:
    msg = h.make_message(subject=token, body=f"{token}\r\n", sender=ALICE, rcpt=BOB)
    with srv.smtp(role, login=(ALICE, ALICE_PW)) as s:
        s.sendmail(ALICE, [BOB], msg)


@unittest.skipUnless(os.geteuid() == 0, "privilege drop needs the tests to run as root")
class PrivilegeDropTest(unittest.TestCase):
    def test_binds_a_privileged_port_then_runs_as_nobody(self):
        privileged = free_privileged_port()
        with h.Server(config={"server": {"user": "nobody"}}, users={ALICE: ALICE_PW, BOB: "bob-pw-1234"},
                      start=False, name="privdrop") as srv:
            # Mailboxes inside data_dir, which becomes nobody's.
            srv.mail_root = srv.data_dir / "mail"
            srv.config["delivery"]["maildir"] = str(srv.mail_root) + "/{domain}/{localpart}"
            srv.config["listener"][0] = {"role": "mx", "address": f"127.0.0.1:{privileged}"}
            srv.ports["mx"] = privileged
            srv.write_config()

            # What nobody cannot use is refused by name, with what fixes it: the temporary
            # directory (mode 0700) hides data_dir; `cartero user add` ran as root, so the
            # accounts database is root's; the key is root's, mode 0600.
            def refused() -> str:
                result = srv.cli("serve", check=False, timeout=30)
                self.assertNotEqual(result.returncode, 0)
                return result.stderr

            self.assertIn(f"data_dir: {srv.data_dir} cannot be reached by user nobody: a directory above it is "
                          "closed to that user (chmod o+x each one)", refused())
            os.chmod(srv.tmp, 0o755)
            fix = f"chown -R nobody:nogroup {srv.data_dir}"
            self.assertIn(f"is not owned by user nobody (run: {fix})", refused())
            subprocess.run(fix.split(), check=True)
            self.assertIn(f"tls.key: {srv.key} is not readable by user nobody (run: chgrp nogroup {srv.key} && "
                          f"chmod 640 {srv.key})", refused())
            os.chown(srv.key, 0, 65534)
            os.chmod(srv.key, 0o640)

            srv.start()
            self.assertEqual(ids(srv.proc.pid), {"Uid": [NOBODY_UID] * 4, "Gid": [NOBODY_UID] * 4,
                                                 "Groups": [NOBODY_UID]})
            srv.wait_log(r"running as user nobody \(uid 65534\), group nogroup \(gid 65534\)")
            with srv.raw("mx") as c:
                self.assertEqual(c.reply().code, 220)
            send_message(srv, "submissions", "dropped-token")
            delivered = srv.wait_for_delivery(BOB, 1)
            self.assertEqual(delivered[0].path.stat().st_uid, NOBODY_UID)
            self.assertIn(b"dropped-token", delivered[0].raw)

    def test_unknown_user_is_a_config_error(self):
        with h.Server(config={"server": {"user": "no-such-user-here"}}, start=False, name="privbad") as srv:
            result = srv.cli("serve", check=False, timeout=30)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn('server.user: no user "no-such-user-here" on this system', result.stderr)


@unittest.skipUnless(SOCKET_ACTIVATE, "systemd-socket-activate is not installed (scripts/install-deps test)")
class SocketActivationTest(unittest.TestCase):
    def activate(self, srv: h.Server, names: str) -> subprocess.Popen:
        """cartero under systemd-socket-activate, which listens on new ports and execs
        cartero (same pid) at the first connection, passing the sockets."""
        srv.ports = {role: h.free_port() for role in ("mx", "submission", "submissions")}
        args = [SOCKET_ACTIVATE]
        for port in srv.ports.values():
            args += ["-l", f"127.0.0.1:{port}"]
        args += [f"--fdname={names}", srv.binary, "serve", "--config", str(srv.config_path)]
        srv._log_file = open(srv.log_path, "ab")  # the harness closes it on stop
        srv.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=srv._log_file, stderr=srv._log_file,
                                    start_new_session=True)
        srv.starts += 1
        for port in srv.ports.values():
            self.assertTrue(h.wait_port(port, time.monotonic() + 10), "systemd-socket-activate did not listen")
        return srv.proc

    def test_every_role_on_sockets_systemd_passed(self):
        with h.Server(users={ALICE: ALICE_PW, BOB: "bob-pw-1234"}, start=False, name="sockact") as srv:
            # The [[listener]] addresses in the file are not bound: systemd owns the addresses.
            configured = dict(srv.ports)
            self.activate(srv, "mx:submission:submissions")
            with srv.raw("mx", timeout=20) as c:  # this connection starts cartero
                self.assertEqual(c.reply(timeout=20).code, 220)
            srv.wait_log(r"serving on 3 sockets from systemd; \[\[listener\]\] addresses are not bound")
            send_message(srv, "submission", "activated-587")
            send_message(srv, "submissions", "activated-465")
            self.assertEqual(len(srv.wait_for_delivery(BOB, 2)), 2)
            for port in configured.values():
                self.assertTrue(h.port_is_free(port), f"configured port {port} was bound")

    def test_a_socket_without_a_known_name_is_refused(self):
        with h.Server(start=False, name="sockbad") as srv:
            process = self.activate(srv, "smtp:submission:submissions")
            with socket.create_connection(("127.0.0.1", srv.ports["mx"]), timeout=10):
                self.assertNotEqual(process.wait(20), 0)
            self.assertIn('systemd passed a socket named "smtp": set FileDescriptorName= to mx, submission or '
                          'submissions in its .socket unit', srv.log_text())


ANALYZE = shutil.which("systemd-analyze")
CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "systemd"


@unittest.skipUnless(ANALYZE, "systemd-analyze is not installed (scripts/install-deps test)")
class ContribUnitsTest(unittest.TestCase):
    def test_units_verify_and_the_service_is_sandboxed(self):
        with tempfile.TemporaryDirectory(prefix="units-") as directory:
            for unit in CONTRIB.iterdir():
                text = unit.read_text().replace("/usr/local/bin/cartero", h.require_binary())
                (Path(directory) / unit.name).write_text(text)
            units = sorted(str(p) for p in Path(directory).iterdir())
            verify = subprocess.run([ANALYZE, "verify", *units], capture_output=True, text=True,
                                    env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
            self.assertEqual((verify.returncode, verify.stderr), (0, ""))
            # systemd's own exposure score: 0 is a locked box, 10 an open one; "OK" is below 2.
            security = subprocess.run([ANALYZE, "security", "--offline=yes", "--threshold=20",
                                       str(Path(directory) / "cartero.service")], capture_output=True, text=True)
            self.assertEqual(security.returncode, 0, security.stdout[-3000:])
            self.assertIn("Overall exposure level for cartero.service: 1.", security.stdout)
            for role in ("mx", "submission", "submissions"):
                self.assertIn(f"FileDescriptorName={role}\n", (CONTRIB / f"cartero-{role}.socket").read_text())


class NotifyTest(unittest.TestCase):
    def test_ready_reloading_watchdog_and_stopping(self):
        directory = Path(tempfile.mkdtemp(prefix="notify-"))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(directory / "notify"))
        listener.settimeout(10)

        def next_message(want: str) -> str:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                message = listener.recv(4096).decode()
                if want in message.split("\n"):
                    return message
            self.fail(f"no {want} from cartero")

        try:
            with h.Server(start=False, name="notify") as srv:
                srv.extra_env = {"NOTIFY_SOCKET": str(directory / "notify"), "WATCHDOG_USEC": "400000"}
                srv.start()
                self.assertIn("STATUS=accepting connections", next_message("READY=1"))
                started = time.monotonic()
                for _ in range(3):  # every 200 ms while the I/O threads answer
                    next_message("WATCHDOG=1")
                self.assertLess(time.monotonic() - started, 3)
                srv.signal(signal.SIGHUP)
                next_message("RELOADING=1")
                next_message("READY=1")
                srv.signal(signal.SIGTERM)
                next_message("STOPPING=1")
                self.assertEqual(srv.proc.wait(20), 0)
        finally:
            listener.close()
            shutil.rmtree(directory, ignore_errors=True)


class LogRotationTest(unittest.TestCase):
    def test_sighup_reopens_the_log_file(self):
        with h.Server(start=False, name="logrotate") as srv:
            log = srv.tmp / "cartero.log"
            srv.config["log"]["file"] = str(log)
            srv.write_config()
            srv.start()
            with srv.raw("mx") as c:
                c.reply()
            self.assertIn("connect from", log.read_text())

            rotated = srv.tmp / "cartero.log.1"
            log.rename(rotated)  # logrotate without copytruncate
            srv.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while not (log.exists() and "reloaded configuration" in log.read_text()):
                self.assertLess(time.monotonic(), deadline, "no new log file after SIGHUP")
                time.sleep(0.05)
            with srv.raw("mx") as c:
                c.reply()
            time.sleep(0.3)
            before = rotated.read_text()
            self.assertIn("connect from", log.read_text())
            with srv.raw("mx") as c:
                c.reply()
            time.sleep(0.3)
            self.assertEqual(rotated.read_text(), before, "lines still went into the rotated file")


if __name__ == "__main__":
    unittest.main()
