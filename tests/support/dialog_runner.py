"""Runs tests/dialogs/*.dialog SMTP scripts against a live cartero (chasquid .cmy style).

Usage:  python3 dialog_runner.py FILE.dialog [FILE.dialog ...]    (unittest, one test per file)

Script format (one directive per line; '#' starts a comment line; blank lines ignored):

  @role mx|submission|submissions    listener to connect to (default mx; submissions = implicit TLS)
  @config limits.bad_commands = 3    a config override (TOML value syntax) for this dialog's server
  @user alice@example.test secret    an account created before the server starts
  c: TEXT       send TEXT + CRLF. Consecutive c: lines are sent in ONE write (a pipelined group)
  c! BYTES      like c: but TEXT is a Python bytes escape string and no CRLF is appended
  s: PREFIX     read one complete reply; its final line must start with PREFIX
  s= EXACT      read one complete reply; its final line must equal EXACT
  s~ REGEX      read one complete reply; REGEX must match somewhere in its full text (re.M)
  s& REGEX      the PREVIOUS reply must also match REGEX (several checks on one EHLO reply)
  s! REGEX      the PREVIOUS reply must NOT match REGEX
  starttls      TLS handshake over the current connection, verifying the test CA
  quiet         nothing may arrive within 0.5 s
  close         the server must close the connection (within 5 s)
  sleep SECS

Substitutions in c:/s: text: {hostname}, {plain:USER:PASS} (AUTH PLAIN base64 blob),
{b64:TEXT}.
"""
from __future__ import annotations

import codecs
import os
import re
import sys
import tomllib
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cartero_harness as h  # noqa: E402


class DialogError(AssertionError):
    pass


def parse_header(lines: list[str]) -> tuple[str, dict, dict]:
    role, config, users = "mx", {}, {}
    for ln in lines:
        if ln.startswith("@role "):
            role = ln.split(None, 1)[1].strip()
        elif ln.startswith("@config "):
            key, _, value = ln[len("@config "):].partition("=")
            parsed = tomllib.loads(f"v = {value.strip()}")["v"]
            node = config
            parts = key.strip().split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = parsed
        elif ln.startswith("@user "):
            _, addr, pw = ln.split(None, 2)
            users[addr] = pw.strip()
    return role, config, users


def substitute(text: str, srv: h.Server) -> str:
    def rep(m: re.Match) -> str:
        kind, _, arg = m.group(1).partition(":")
        if kind == "hostname":
            return srv.hostname
        if kind == "plain":
            user, _, pw = arg.partition(":")
            return h.plain_blob(user, pw)
        if kind == "b64":
            return h.b64(codecs.escape_decode(arg.encode())[0])
        return m.group(0)
    return re.sub(r"\{(hostname|plain:[^}]*|b64:[^}]*)\}", rep, text)


def run_dialog(path: Path, srv: h.Server, role: str) -> None:
    lines = path.read_text().splitlines()
    client = srv.raw(role)
    pending = b""
    last = None
    try:
        for lineno, ln in enumerate(lines, 1):
            where = f"{path.name}:{lineno}: {ln!r}"
            if not ln.strip() or ln.startswith("#") or ln.startswith("@"):
                continue
            if ln.startswith("c: ") or ln == "c:":
                pending += substitute(ln[3:], srv).encode() + h.CRLF
                continue
            if ln.startswith("c! "):
                pending += codecs.escape_decode(substitute(ln[3:], srv).encode())[0]
                continue
            if pending:
                client.send(pending)
                pending = b""
            try:
                if ln.startswith(("s& ", "s! ")):
                    want = substitute(ln[3:], srv)
                    if last is None:
                        raise DialogError(f"{where}: no previous reply")
                    found = re.search(want, last.text, re.M) is not None
                    if found != (ln[1] == "&"):
                        raise DialogError(f"{where}\n reply: {last.text!r}\n"
                                          f"{'want' if ln[1] == '&' else 'must not'} match: {want!r}")
                elif ln.startswith(("s: ", "s= ", "s~ ")):
                    want = substitute(ln[3:], srv)
                    r = last = client.reply()
                    if ln[1] == ":" and not r.last.startswith(want):
                        raise DialogError(f"{where}\n got: {r.text!r}\nwant prefix: {want!r}")
                    if ln[1] == "=" and r.last != want:
                        raise DialogError(f"{where}\n got: {r.text!r}\nwant exactly: {want!r}")
                    if ln[1] == "~" and not re.search(want, r.text, re.M):
                        raise DialogError(f"{where}\n got: {r.text!r}\nwant match: {want!r}")
                elif ln.strip() == "starttls":
                    client.starttls(srv.client_context())
                elif ln.strip() == "quiet":
                    extra = client.nothing_pending(0.5)
                    if extra:
                        raise DialogError(f"{where}\n unexpected bytes: {extra!r}")
                elif ln.strip() == "close":
                    client.expect_closed(5)
                elif ln.startswith("sleep "):
                    import time
                    time.sleep(float(ln.split()[1]))
                else:
                    raise DialogError(f"{where}: unknown directive")
            except (h.ReplyTimeout, h.ConnectionClosed) as e:
                raise DialogError(f"{where}\n {type(e).__name__}: {e}") from None
        if pending:
            client.send(pending)
    finally:
        client.close()


def make_test(path: Path):
    def test(self):
        header = [ln for ln in path.read_text().splitlines() if ln.startswith("@")]
        role, config, users = parse_header(header)
        with h.Server(config=config, users=users, name="dialog") as srv:
            run_dialog(path, srv, role)
    return test


def build_suite(paths: list[Path]) -> type:
    attrs = {}
    for p in paths:
        attrs["test_" + re.sub(r"\W", "_", p.stem)] = make_test(p)
    return type("DialogTest", (unittest.TestCase,), attrs)


if __name__ == "__main__":
    files = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    if not files:
        files = sorted((Path(__file__).resolve().parents[1] / "dialogs").glob("*.dialog"))
    DialogTest = build_suite(files)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(DialogTest)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
