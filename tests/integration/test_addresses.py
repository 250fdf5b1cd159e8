"""Which local addresses reach which mailbox (issue 8, section 8): internationalized
domains (UTS #46, A-labels and U-labels are one domain), postmaster at every local
domain (RFC 5321 4.5.1, accounts.postmaster) and subaddresses
(accounts.recipient_delimiter). Real smtplib clients against a real server.
"""
import os
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

U_DOMAIN = "bücher.example"
A_DOMAIN = "xn--bcher-kva.example"
SENDER = "someone@elsewhere.test"


def tok() -> str:
    return "tok" + os.urandom(8).hex()


def wait_for_token(maildir: Path, token: str, srv: h.Server, timeout: float = 15.0) -> h.Delivered:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in h.read_maildir(maildir):
            if token.encode() in msg.raw:
                return msg
        time.sleep(0.05)
    raise AssertionError(f"{token} not in {maildir} within {timeout}s\nlog tail:\n{srv.log_tail(30)}")


def send_mx(srv: h.Server, rcpt: str, token: str, smtputf8: bool = False) -> tuple[int, str]:
    """One message on the mx role; returns the RCPT reply (the message is sent when it is 250)."""
    s = srv.smtp("mx")
    try:
        code, resp = s.mail(SENDER, ["SMTPUTF8"] if smtputf8 else [])
        assert code == 250, (code, resp)
        code, resp = s.rcpt(rcpt)
        text = resp.decode("utf-8", "replace")
        if code == 250:
            msg = h.make_message(subject=token, sender=SENDER, rcpt=rcpt.encode("ascii", "replace").decode(),
                                 body=f"{token}\r\n".encode())
            data_code, data_resp = s.data(msg)
            assert data_code == 250, (data_code, data_resp)
        return code, text
    finally:
        s.quit()


class IdnaTest(unittest.TestCase):
    def test_u_label_recipient_reaches_a_label_domain(self):
        with h.Server(config={"local_domains": [A_DOMAIN]}, users={f"alice@{A_DOMAIN}": "pw-Alice-1"},
                      name="idna-a") as srv:
            token = tok()
            code, text = send_mx(srv, f"alice@{U_DOMAIN}", token, smtputf8=True)
            self.assertEqual(code, 250, text)
            wait_for_token(srv.mail_root / A_DOMAIN / "alice", token, srv)
            # Mixed case, U-label, and a trailing dot in neither: same mailbox.
            token = tok()
            code, text = send_mx(srv, "Alice@BÜCHER.example", token, smtputf8=True)
            self.assertEqual(code, 250, text)
            wait_for_token(srv.mail_root / A_DOMAIN / "alice", token, srv)

    def test_a_label_recipient_reaches_u_label_domain(self):
        with h.Server(config={"local_domains": [U_DOMAIN]}, users={f"alice@{U_DOMAIN}": "pw-Alice-1"},
                      name="idna-u") as srv:
            token = tok()
            code, text = send_mx(srv, f"alice@{A_DOMAIN}", token)
            self.assertEqual(code, 250, text)
            wait_for_token(srv.mail_root / A_DOMAIN / "alice", token, srv)
            token = tok()
            code, text = send_mx(srv, f"alice@{U_DOMAIN}", token, smtputf8=True)
            self.assertEqual(code, 250, text)
            wait_for_token(srv.mail_root / A_DOMAIN / "alice", token, srv)

    def test_invalid_idna_recipient_is_refused_as_syntax(self):
        with h.Server(config={"local_domains": [A_DOMAIN]}, users={f"alice@{A_DOMAIN}": "pw-Alice-1"},
                      name="idna-bad") as srv:
            code, text = send_mx(srv, "alice@xn--zz.example", tok())
            self.assertEqual((code, text[:5]), (501, "5.1.3"), text)


class PostmasterAndSubaddressTest(unittest.TestCase):
    USERS = {"alice@example.test": "pw-Alice-1", "bob@example.test": "pw-Bob-2"}

    def test_postmaster_of_every_local_domain_reaches_the_configured_address(self):
        config = {"local_domains": ["example.test", "second.test"], "accounts": {"postmaster": "bob@example.test"}}
        with h.Server(config=config, users=self.USERS, name="postmaster") as srv:
            for rcpt in ("postmaster@second.test", "PostMaster@SECOND.test", "postmaster@example.test"):
                token = tok()
                code, text = send_mx(srv, rcpt, token)
                self.assertEqual(code, 250, f"{rcpt}: {text}")
                wait_for_token(srv.maildir("bob@example.test"), token, srv)

    def test_postmaster_without_a_destination_is_accepted_and_warned_about(self):
        config = {"local_domains": ["example.test", "second.test"]}
        with h.Server(config=config, users=self.USERS, name="postmaster-none") as srv:
            srv.wait_log(r"postmaster@example\.test .*nowhere to go.*accounts\.postmaster")
            # the suggested command reaches this server's data, as printed
            self.assertIn(f"--config {srv.config_path} alias add postmaster@example.test", srv.log_text())
            code, text = send_mx(srv, "postmaster@second.test", tok())
            self.assertEqual(code, 250, text)  # RFC 5321 4.5.1: MUST be accepted
            srv.add_alias("postmaster@example.test", "alice@example.test")
            time.sleep(1.0)  # the server notices account changes within 0.2 s (cli/serve_command.cpp)
            token = tok()
            code, text = send_mx(srv, "postmaster@second.test", token)
            self.assertEqual(code, 250, text)
            wait_for_token(srv.maildir("alice@example.test"), token, srv)

    def test_subaddress_reaches_the_user(self):
        with h.Server(users=self.USERS, name="subaddress") as srv:
            token = tok()
            code, text = send_mx(srv, "alice+news@example.test", token)
            self.assertEqual(code, 250, text)
            msg = wait_for_token(srv.maildir("alice@example.test"), token, srv)
            self.assertFalse(srv.maildir("alice+news@example.test").exists(), "no Maildir of its own")
            self.assertIn(b"alice+news@example.test", msg.raw, "the To header is the message's own")

    def test_several_delimiters(self):
        with h.Server(config={"accounts": {"recipient_delimiter": "+-"}}, users=self.USERS, name="delims") as srv:
            for rcpt in ("alice-news@example.test", "alice+news@example.test"):
                token = tok()
                code, text = send_mx(srv, rcpt, token)
                self.assertEqual(code, 250, f"{rcpt}: {text}")
                wait_for_token(srv.maildir("alice@example.test"), token, srv)

    def test_subaddress_refused_when_the_delimiter_is_disabled(self):
        with h.Server(config={"accounts": {"recipient_delimiter": ""}}, users=self.USERS, name="nodelim") as srv:
            code, text = send_mx(srv, "alice+news@example.test", tok())
            self.assertEqual((code, text[:5]), (550, "5.1.1"), text)

    def test_user_may_send_as_own_subaddress(self):
        with h.Server(users=self.USERS, name="subaddress-send") as srv:
            token = tok()
            msg = h.make_message(subject=token, sender="alice+news@example.test", rcpt="bob@example.test",
                                 body=f"{token}\r\n".encode())
            with srv.smtp("submission", login=("alice@example.test", "pw-Alice-1")) as s:
                code, text = h.send_with_smtplib(s, "alice+news@example.test", ["bob@example.test"], msg)
            self.assertEqual(code, 250, text)
            wait_for_token(srv.maildir("bob@example.test"), token, srv)
            with srv.smtp("submission", login=("bob@example.test", "pw-Bob-2")) as s:
                code, resp = s.mail("alice+news@example.test")
            self.assertEqual(code, 553, resp)


if __name__ == "__main__":
    unittest.main()
