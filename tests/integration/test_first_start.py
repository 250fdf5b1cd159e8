"""What a new operator meets first (issue 8, section 9): while no account exists, the
start-up banner prints the commands to add a user and send a test message, built from
what the server really listens on. Each printed command is run here exactly as printed,
on a terminal, with Debian 12's swaks, and the message must land where the banner says.
(The embedded default's banner gets the same treatment in test_operations.py.)"""
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402


class FirstStartTest(unittest.TestCase):
    def test_printed_commands_work_as_printed(self):
        with h.Server(name="first") as srv:
            user_add, swaks, _ = h.first_steps(srv.log_text())
            self.assertIn(f"--config {srv.config_path}", user_add)
            self.assertIn(f"127.0.0.1:{srv.port('submission')}", swaks)
            try:
                h.send_yourself_a_test(srv.log_text(), "first-Start-pw-1")
            except AssertionError as e:
                raise AssertionError(f"{e}\n{srv.log_tail()}") from None

    def test_no_first_steps_once_an_account_exists(self):
        with h.Server(users={"alice@example.test": "alice-Secret-1"}, name="first") as srv:
            self.assertNotIn("user add", srv.log_text())


class RunCommandTest(unittest.TestCase):
    """`./scripts/run` installs what building and running needs, and no mail server:
    Debian's postfix package would replace the operator's /usr/sbin/sendmail."""
    SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-deps"

    def packages(self, profile: str) -> set[str]:
        r = subprocess.run([str(self.SCRIPT), profile, "--list"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return set(r.stdout.split())

    def test_run_profile_builds_but_installs_no_mail_server_or_test_tool(self):
        run = self.packages("run")
        self.assertTrue({"cmake", "libboost1.81-dev", "libssl-dev", "libunbound-dev"} <= run, run)
        self.assertFalse(run & {"postfix", "dovecot-core", "dovecot-lmtpd", "swaks", "msmtp", "libgtest-dev"}, run)
        self.assertIn("install-deps run", (self.SCRIPT.parent / "run").read_text())

    def test_test_profile_adds_the_peers_the_tests_start(self):
        self.assertTrue({"postfix", "dovecot-lmtpd", "swaks", "libgtest-dev"} <= self.packages("test"))
        self.assertTrue(self.packages("run") <= self.packages("test"))


if __name__ == "__main__":
    unittest.main()
