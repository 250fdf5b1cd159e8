"""Test harness for cartero integration, security, durability and dialog tests.

Purpose: start a real `cartero serve` on loopback ports picked at run time, with a
temporary data_dir, a generated test CA + server certificate, a generated TOML config,
and helpers to drive it with raw sockets, smtplib, and read the resulting Maildirs.

Trust: everything here is test code; it only binds/connects loopback (127.0.0.1, and
other 127/8 addresses as client source addresses) and only
writes under a fresh temporary directory (removed on exit unless CARTERO_KEEP_TMP=1).

Standard library only (runs with /usr/bin/python3, no pip). The binary is taken from
$CARTERO_BIN, else the first executable `cartero` under /work/main/build*.
"""
from __future__ import annotations

import base64
import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

CRLF = b"\r\n"
ROLES = ("mx", "submission", "submissions")
DEFAULT_DOMAIN = "example.test"
DEFAULT_HOSTNAME = "mx.example.test"


# --------------------------------------------------------------------------- binary

def find_binary() -> str | None:
    env = os.environ.get("CARTERO_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    here = Path(__file__).resolve().parents[2]
    # the lead's build dir first, then any other build*/ (newest binary first)
    candidates = [str(here / "build" / "cartero"), str(here / "build" / "src" / "cli" / "cartero")]
    others = glob.glob(str(here / "build*" / "**" / "cartero"), recursive=True)
    candidates += sorted(others, key=lambda p: -os.path.getmtime(p) if os.path.exists(p) else 0)
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def require_binary(testcase=None) -> str:
    b = find_binary()
    if b is None:
        import unittest
        raise unittest.SkipTest("cartero binary not found (set CARTERO_BIN)")
    return b


# --------------------------------------------------------------------------- ports

_handed_out: set[int] = set()
_port_lock = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, never the same twice per process."""
    with _port_lock:
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("could not find a free port")


def port_is_free(port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_port(port: int, deadline: float, host: str = "127.0.0.1") -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- certificates

def _openssl(*args: str, cwd: Path | None = None) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {r.stderr}")


@dataclass
class TestPKI:
    """A test CA and the ability to issue server certificates for 127.0.0.1/localhost."""
    directory: Path
    ca_cert: Path = field(init=False)
    ca_key: Path = field(init=False)
    _serial: int = 1000

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_key = self.directory / "ca.key"
        self.ca_cert = self.directory / "ca.pem"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", str(self.ca_key), "-out", str(self.ca_cert), "-days", "2",
                 "-subj", "/CN=cartero test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name: str, cn: str = "localhost",
              sans: str = "DNS:localhost,DNS:mx.example.test,IP:127.0.0.1",
              key_type: str = "ec") -> tuple[Path, Path]:
        """Issues a server certificate (key_type "ec" for P-256, "rsa" for RSA 2048);
        returns (cert chain pem, key pem)."""
        self._serial += 1
        key = self.directory / f"{name}.key"
        csr = self.directory / f"{name}.csr"
        crt = self.directory / f"{name}.pem"
        ext = self.directory / f"{name}.ext"
        ext.write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n")
        new_key = (["-newkey", "rsa:2048"] if key_type == "rsa"
                   else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        _openssl("req", *new_key, "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={cn}")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey",
                 str(self.ca_key), "-set_serial", str(self._serial), "-days", "2",
                 "-out", str(crt), "-extfile", str(ext))
        # chain: leaf then CA (clients that want the full chain get it)
        crt.write_text(crt.read_text() + self.ca_cert.read_text())
        csr.unlink()
        ext.unlink()
        return crt, key

    def client_context(self, **kw) -> ssl.SSLContext:
        return client_context(self.ca_cert, **kw)


def client_context(ca_file: Path | str, check_hostname: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    ctx.check_hostname = check_hostname
    return ctx


def leaf_der(pem_path: Path) -> bytes:
    """DER bytes of the first certificate in a PEM file."""
    text = Path(pem_path).read_text()
    first = text[: text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return ssl.PEM_cert_to_DER_cert(first)


# --------------------------------------------------------------------------- TOML

def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (str, Path)):
        s = str(v).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{s}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def to_toml(cfg: dict) -> str:
    """Serialises the subset of TOML the config uses: scalars, arrays, tables, arrays of tables."""
    out: list[str] = []
    scalars = {k: v for k, v in cfg.items() if not isinstance(v, dict)
               and not (isinstance(v, list) and v and isinstance(v[0], dict))}
    for k, v in scalars.items():
        out.append(f"{k} = {_toml_value(v)}")
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.append("")
            out.append(f"[{k}]")
            for kk, vv in v.items():
                out.append(f"{kk} = {_toml_value(vv)}")
    for k, v in cfg.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                out.append("")
                out.append(f"[[{k}]]")
                for kk, vv in item.items():
                    out.append(f"{kk} = {_toml_value(vv)}")
    return "\n".join(out) + "\n"


def deep_merge(base: dict, over: dict) -> dict:
    res = dict(base)
    for k, v in over.items():
        if v is None:
            res.pop(k, None)
        elif isinstance(v, dict) and isinstance(res.get(k), dict):
            res[k] = deep_merge(res[k], v)
        else:
            res[k] = v
    return res


# --------------------------------------------------------------------------- replies / raw sockets

@dataclass
class Reply:
    code: int
    lines: list[str]          # full lines, e.g. ["250-mx.example.test", "250 PIPELINING"]

    @property
    def last(self) -> str:
        return self.lines[-1]

    @property
    def enhanced(self) -> str:
        """Enhanced status code of the final line ('' if none)."""
        m = re.match(r"^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b", self.last)
        return m.group(1) if m else ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def keywords(self) -> list[str]:
        return [ln[4:].strip() for ln in self.lines[1:]]

    def __str__(self) -> str:
        return self.text


class ConnectionClosed(Exception):
    pass


class ReplyTimeout(Exception):
    pass


_REPLY_LINE = re.compile(rb"^(\d{3})([ -])(.*)$", re.S)


class RawClient:
    """A byte-level SMTP client: send exactly the bytes given, read replies with deadlines."""

    def __init__(self, port: int, host: str = "127.0.0.1", tls_context: ssl.SSLContext | None = None,
                 timeout: float = 10.0, server_hostname: str | None = "127.0.0.1", source: str | None = None):
        self.timeout = timeout
        # `source`: another loopback address to connect from (all of 127/8 is loopback
        # on Linux), so one test can be several clients.
        self.sock: socket.socket = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = b""

    # -- sending
    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def cmd(self, line: str | bytes, timeout: float | None = None) -> Reply:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + CRLF)
        return self.reply(timeout)

    # -- receiving
    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout(f"no complete reply; buffered: {self.buf[:300]!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise ReplyTimeout(f"no complete reply; buffered: {self.buf[:300]!r}")
        except ssl.SSLError as e:
            raise ConnectionClosed(f"TLS error: {e}")
        except ConnectionResetError as e:
            raise ConnectionClosed(f"reset: {e}")
        if not chunk:
            raise ConnectionClosed(f"connection closed; buffered: {self.buf[:300]!r}")
        self.buf += chunk

    def read_line(self, deadline: float) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise AssertionError("reply line over 1 MiB")
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def reply(self, timeout: float | None = None) -> Reply:
        """Reads one complete (possibly multi-line) reply."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        lines: list[str] = []
        code = None
        while True:
            raw = self.read_line(deadline)
            if not raw.endswith(b"\r"):
                raise AssertionError(f"reply line not CRLF-terminated: {raw!r}")
            raw = raw[:-1]
            m = _REPLY_LINE.match(raw)
            if not m:
                raise AssertionError(f"malformed reply line: {raw!r}")
            c = int(m.group(1))
            if code is not None and c != code:
                raise AssertionError(f"multi-line reply changes code: {lines} then {raw!r}")
            code = c
            lines.append(raw.decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return Reply(code, lines)

    def replies(self, n: int, timeout: float | None = None) -> list[Reply]:
        return [self.reply(timeout) for _ in range(n)]

    def nothing_pending(self, wait: float = 0.5) -> bytes:
        """Returns any bytes that arrive within `wait` seconds (b'' if none; b'' on close too)."""
        if self.buf:
            data, self.buf = self.buf, b""
            return data
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return b""
        except (ConnectionResetError, ssl.SSLError):
            return b""

    def expect_closed(self, timeout: float = 5.0) -> bytes:
        """Waits for the server to close; returns whatever it sent first. Raises on timeout."""
        deadline = time.monotonic() + timeout
        got = self.buf
        self.buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"server did not close the connection within {timeout}s; got {got!r}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                return got
            if not chunk:
                return got
            got += chunk

    def starttls(self, ctx: ssl.SSLContext, server_hostname: str | None = "127.0.0.1") -> None:
        """Upgrades the socket (the caller has already received the 220 to STARTTLS)."""
        assert not self.buf, f"plaintext bytes pending before TLS: {self.buf!r}"
        self.sock.settimeout(self.timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)

    def ehlo(self, name: str = "client.test") -> Reply:
        r = self.cmd(f"EHLO {name}")
        if r.code != 250:
            raise AssertionError(f"EHLO refused: {r}")
        return r

    def auth_plain(self, user: str, password: str) -> Reply:
        return self.cmd("AUTH PLAIN " + plain_blob(user, password))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def plain_blob(user: str, password: str, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()


def b64(s: str | bytes) -> str:
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


# --------------------------------------------------------------------------- maildir

TRACE_HEADERS = ("return-path", "delivered-to", "received")


@dataclass
class Delivered:
    path: Path
    raw: bytes
    trace: dict[str, str]     # lower-case header name -> unfolded value
    body: bytes               # everything after the trace headers: must equal what the client sent

    @property
    def received(self) -> str:
        return self.trace.get("received", "")


def split_trace(raw: bytes) -> tuple[dict[str, str], bytes]:
    """Splits the trace headers cartero prepends (Return-Path, Delivered-To, one Received)
    off the top of a delivered message. Each may appear at most once; Received may be folded."""
    trace: dict[str, str] = {}
    pos = 0
    while True:
        end = raw.find(CRLF, pos)
        if end < 0:
            break
        line = raw[pos:end]
        name, sep, value = line.partition(b":")
        lname = name.decode("latin-1").strip().lower()
        if not sep or lname not in TRACE_HEADERS or lname in trace or b" " in name:
            break
        value_parts = [value.decode("utf-8", "replace").strip()]
        nxt = end + 2
        while nxt < len(raw) and raw[nxt:nxt + 1] in (b" ", b"\t"):
            e2 = raw.find(CRLF, nxt)
            if e2 < 0:
                break
            value_parts.append(raw[nxt:e2].decode("utf-8", "replace").strip())
            nxt = e2 + 2
        trace[lname] = " ".join(value_parts)
        pos = nxt
    return trace, raw[pos:]


def read_maildir(maildir: Path) -> list[Delivered]:
    out = []
    new = Path(maildir) / "new"
    if not new.is_dir():
        return out
    for p in sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        if p.name.startswith("."):
            continue
        raw = p.read_bytes()
        trace, body = split_trace(raw)
        out.append(Delivered(p, raw, trace, body))
    return out


# --------------------------------------------------------------------------- messages

def make_message(subject: str = "test", body: bytes | str = b"Hello.\r\n", sender: str = "alice@example.test",
                 rcpt: str = "bob@example.test", token: str | None = None, extra_headers: str = "") -> bytes:
    """An RFC 5322 message with CRLF line endings, ending in CRLF."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    token = token or os.urandom(8).hex()
    hdr = (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
           f"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
           f"Message-ID: <{token}@client.test>\r\n{extra_headers}\r\n").encode()
    if not body.endswith(CRLF):
        body += CRLF
    return hdr + body


QUEUED_RE = re.compile(r"queued as ([A-Za-z0-9._-]+)")


def queue_id(reply_text: str) -> str | None:
    m = QUEUED_RE.search(reply_text)
    return m.group(1) if m else None


# --------------------------------------------------------------------------- server

class ServerFailed(Exception):
    pass


class Server:
    """A running `cartero serve` on fresh loopback ports, with its own temp dir and PKI.

    with Server(config={"limits": {"bad_commands": 3}}, users={"alice@example.test": "pw"}) as srv:
        srv.port("submission") ...

    Users, app passwords and aliases given to the constructor are added before start so
    the running server sees them without relying on a reload.
    """

    def __init__(self, config: dict | None = None, roles: Iterable[str] = ROLES,
                 users: dict[str, str] | None = None, aliases: dict[str, str] | None = None,
                 app_passwords_only: Iterable[str] = (), start: bool = True,
                 ready_timeout: float = 20.0, name: str = "cartero"):
        self.binary = require_binary()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.proc: subprocess.Popen | None = None
        self._log_file = None
        try:
            self._setup(config, roles, users, aliases, app_passwords_only, start, ready_timeout)
        except BaseException:
            self.cleanup()
            raise

    def _setup(self, config, roles, users, aliases, app_passwords_only, start, ready_timeout) -> None:
        self.pki = TestPKI(self.tmp / "pki")
        self.cert, self.key = self.pki.issue("server")
        self.data_dir = self.tmp / "data"
        self.data_dir.mkdir()
        self.mail_root = self.tmp / "mail"
        self.roles = tuple(roles)
        self.ports = {r: free_port() for r in self.roles}
        self.config_path = self.tmp / "cartero.toml"
        self.ready_timeout = ready_timeout
        self.log_path = self.tmp / "server.log"
        self.starts = 0
        self.extra_env: dict[str, str] = {}  # added to the server's environment (NOTIFY_SOCKET, ...)
        self.hostname = DEFAULT_HOSTNAME
        self.config = deep_merge(self.base_config(), config or {})
        self.hostname = self.config.get("hostname", DEFAULT_HOSTNAME)
        self.write_config()
        self._users = dict(users or {})
        for addr, pw in self._users.items():
            self.add_user(addr, pw, app_passwords_only=addr in set(app_passwords_only))
        for src, dst in (aliases or {}).items():
            self.add_alias(src, dst)
        self._start_requested = start

    # -- config
    def base_config(self) -> dict:
        return {
            "hostname": DEFAULT_HOSTNAME,
            "data_dir": str(self.data_dir),
            "local_domains": [DEFAULT_DOMAIN],
            "trusted_networks": [],
            "tls": {"cert": str(self.cert), "key": str(self.key)},
            "delivery": {"maildir": str(self.mail_root) + "/{domain}/{localpart}", "retry_initial": "1s"},
            # Tests never ask the machine's resolver: by default a loopback port where
            # nothing answers, so remote recipients are deferred (DNS failure) and stay
            # queued. Tests of remote delivery point this at tests/support/dns_server.py.
            "dns": {"resolver": "127.0.0.1:9", "timeout": "2s"},
            "log": {"level": "info"},
            # Every test client connects from 127.0.0.1, and many tests share one server
            # for a whole class: the per-client-address limits (docs/limits.md "Client
            # addresses") would trip on the suite itself. They are set out of reach here;
            # test_abuse_limits.py crosses them at their configured values.
            "limits": {"client_connections_per_minute": 1000000, "client_messages_per_minute": 1000000,
                       "client_errors_before_delay": 99999, "client_errors_before_disconnect": 100000},
            "listener": [{"role": r, "address": f"127.0.0.1:{p}"} for r, p in self.ports.items()],
        }

    def write_config(self, text: str | None = None) -> None:
        self.config_path.write_text(text if text is not None else to_toml(self.config))

    def port(self, role: str) -> int:
        return self.ports[role]

    # -- CLI
    def cli(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60,
            config: bool = True) -> subprocess.CompletedProcess:
        argv = [self.binary, *args]
        if config:
            argv += ["--config", str(self.config_path)]
        r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def add_user(self, address: str, password: str, app_passwords_only: bool = False) -> None:
        args = ["user", "add", address, "--password-stdin"]
        if app_passwords_only:
            args.append("--app-passwords-only")
        self.cli(*args, input=password + "\n")
        self._users = getattr(self, "_users", {})
        self._users[address] = password

    def add_app_password(self, address: str, label: str) -> str:
        r = self.cli("user", "app-password", "add", address, "--label", label)
        return parse_app_password(r.stdout + "\n" + r.stderr)

    def add_alias(self, src: str, dst: str) -> None:
        self.cli("alias", "add", src, dst)

    # -- process control
    def start(self) -> "Server":
        return self.start_with_retries(3)

    def start_with_retries(self, bind_retries: int) -> "Server":
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("already running")
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n===== start #{self.starts + 1} =====\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen([self.binary, "serve", "--config", str(self.config_path)],
                                     stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=self._log_file,
                                     start_new_session=True, env={**os.environ, **self.extra_env})
        self.starts += 1
        self.wait_ready(bind_retries)
        return self

    def _log_since_start(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return text[text.rfind(f"===== start #{self.starts} ====="):]

    def _repick_ports(self) -> None:
        """Another process took a port between free_port() and our bind (parallel tests):
        choose new ones and rewrite the listeners."""
        self.ports = {r: free_port() for r in self.roles}
        self.config["listener"] = [{"role": r, "address": f"127.0.0.1:{p}"} for r, p in self.ports.items()]
        self.write_config()

    def wait_ready(self, bind_retries: int = 3) -> None:
        """Ready = our own process printed its banner (so a port answering is ours,
        not another test's server that grabbed the same port) and every port accepts."""
        deadline = time.monotonic() + self.ready_timeout
        while "cartero is running" not in self._log_since_start():
            if self.proc.poll() is not None:
                if "cannot listen on" in self._log_since_start() and bind_retries > 0:
                    self._close_log()
                    self._repick_ports()
                    self.starts -= 1
                    self.start_with_retries(bind_retries - 1)
                    return
                raise ServerFailed(f"cartero exited with {self.proc.returncode} before ready:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill9()
                raise ServerFailed(f"no start banner in {self.ready_timeout}s:\n{self.log_tail()}")
            time.sleep(0.02)
        for role, port in self.ports.items():
            while True:
                if self.proc.poll() is not None:
                    raise ServerFailed(f"cartero exited with {self.proc.returncode} before ready:\n{self.log_tail()}")
                if wait_port(port, min(deadline, time.monotonic() + 0.3)):
                    break
                if time.monotonic() > deadline:
                    self.kill9()
                    raise ServerFailed(f"port {port} ({role}) not ready in {self.ready_timeout}s:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code (None if killed)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                rc = None
        self._close_log()
        return rc

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close_log()

    def restart(self) -> "Server":
        self.stop()
        return self.start()

    def _close_log(self) -> None:
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def __enter__(self) -> "Server":
        if self._start_requested:
            try:
                self.start()
            except BaseException:
                self.cleanup()
                raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is not None:
            print(f"\n--- cartero log tail ({self.log_path}) ---\n{self.log_tail()}\n---")
        self.cleanup(keep=exc_type is not None and os.environ.get("CARTERO_KEEP_TMP") == "1")

    def cleanup(self, keep: bool = False) -> None:
        if os.environ.get("CARTERO_KEEP_TMP") == "1" or keep:
            print(f"keeping {self.tmp}")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- mail
    def maildir(self, address: str) -> Path:
        local, _, domain = address.rpartition("@")
        return self.mail_root / domain.lower() / local.lower()

    def maildir_messages(self, address: str) -> list[Delivered]:
        return read_maildir(self.maildir(address))

    def wait_log(self, pattern: str, timeout: float = 20.0) -> re.Match:
        """The first match of `pattern` in the log, waiting up to `timeout` for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log_text())
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r} within {timeout}s\n{self.log_tail(40)}")

    def submit(self, login: tuple[str, str], rcpts: list[str], msg: bytes) -> str:
        """Sends `msg` from the login's address over authenticated submission; returns its queue ID."""
        with self.smtp("submission", login=login) as s:
            code, text = send_with_smtplib(s, login[0], rcpts, msg)
        assert code == 250, (code, text)
        qid = queue_id(text)
        assert qid, text
        return qid

    def wait_for_delivery(self, address: str, count: int, timeout: float = 15.0) -> list[Delivered]:
        deadline = time.monotonic() + timeout
        msgs: list[Delivered] = []
        while time.monotonic() < deadline:
            msgs = self.maildir_messages(address)
            if len(msgs) >= count:
                return msgs
            time.sleep(0.05)
        raise AssertionError(f"{address}: {len(msgs)} message(s) delivered within {timeout}s, want {count}\n"
                             f"log tail:\n{self.log_tail(30)}")

    def all_delivered_files(self) -> list[Path]:
        return [p for p in self.mail_root.glob("*/*/new/*") if p.is_file()]

    # -- clients
    def client_context(self) -> ssl.SSLContext:
        return self.pki.client_context()

    def raw(self, role: str = "mx", tls: bool | None = None, timeout: float = 10.0,
            source: str | None = None) -> RawClient:
        """Raw client; implicit TLS for the submissions role unless tls=False; from the
        loopback address `source` (e.g. "127.0.0.2") when given."""
        if tls is None:
            tls = role == "submissions"
        return RawClient(self.port(role), tls_context=self.client_context() if tls else None, timeout=timeout,
                         source=source)

    def smtp(self, role: str = "submission", login: tuple[str, str] | None = None, timeout: float = 30.0):
        """An smtplib client on `role`: STARTTLS on submission, implicit TLS on submissions,
        plaintext on mx; logged in when `login` is given."""
        import smtplib
        ctx = self.client_context()
        if role == "submissions":
            s = smtplib.SMTP_SSL("127.0.0.1", self.port(role), context=ctx, timeout=timeout)
            s.ehlo("client.test")
        else:
            s = smtplib.SMTP("127.0.0.1", self.port(role), timeout=timeout)
            s.ehlo("client.test")
            if role == "submission":
                s.starttls(context=ctx)
                s.ehlo("client.test")
        if login:
            s.login(*login)
        return s


def parse_app_password(output: str) -> str:
    """The generated app password: 4 groups of 4 lower-case letters (spaces/dashes optional)."""
    pat = re.compile(r"(?<![A-Za-z])([a-z]{4})[ -]?([a-z]{4})[ -]?([a-z]{4})[ -]?([a-z]{4})(?![A-Za-z])")
    for line in output.splitlines():
        m = pat.fullmatch(line.strip())
        if m:
            return "".join(m.groups())
    for line in output.splitlines():
        stripped = line.strip()
        if ":" in stripped:
            m = pat.search(stripped.rsplit(":", 1)[1])
            if m:
                return "".join(m.groups())
    matches = pat.findall(output)
    if not matches:
        raise AssertionError(f"no app password in output: {output!r}")
    return "".join(matches[-1])


def send_with_smtplib(smtp, sender: str, rcpts: list[str], msg: bytes, mail_options=()) -> tuple[int, str]:
    """MAIL/RCPT/DATA with smtplib; returns the final (code, text) of end-of-data (with queue ID)."""
    code, resp = smtp.mail(sender, list(mail_options))
    if code != 250:
        raise AssertionError(f"MAIL refused: {code} {resp!r}")
    for r in rcpts:
        code, resp = smtp.rcpt(r)
        if code != 250:
            raise AssertionError(f"RCPT {r} refused: {code} {resp!r}")
    code, resp = smtp.data(msg)
    return code, resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp


def tls_versions_available() -> tuple[bool, str]:
    """Whether this Python/OpenSSL can still *offer* TLS 1.0/1.1 (checked against a local
    Python TLS server that accepts them), so a failed handshake against cartero means cartero
    refused and not that our own library did."""
    tmp = Path(tempfile.mkdtemp(prefix="tlscheck-"))
    try:
        pki = TestPKI(tmp)
        crt, key = pki.issue("s")
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(crt, key)
        try:
            sctx.set_ciphers("ALL:@SECLEVEL=0")
            sctx.minimum_version = ssl.TLSVersion.TLSv1
            sctx.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ssl.SSLError, ValueError) as e:
            return False, f"server side cannot enable TLS 1.0/1.1: {e}"
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        result: dict = {}

        def serve():
            try:
                c, _ = ls.accept()
                c.settimeout(5)
                with sctx.wrap_socket(c, server_side=True) as s:
                    result["ok"] = s.version()
            except Exception as e:  # noqa: BLE001
                result["err"] = repr(e)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            cctx = old_tls_client_context(pki.ca_cert)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with cctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    v = s.version()
            t.join(5)
            return True, v
        except Exception as e:  # noqa: BLE001
            t.join(5)
            return False, f"local OpenSSL cannot negotiate TLS 1.0/1.1 even with itself: {e}"
        finally:
            ls.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def old_tls_client_context(ca: Path | str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(ca))
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


# --------------------------------------------------------------------------- assertions shared by tests

def find_by_token(srv: Server, address: str, token: str) -> list[Delivered]:
    t = token.encode()
    return [d for d in srv.maildir_messages(address) if t in d.body]


def wait_for_token(srv: Server, address: str, token: str, timeout: float = 15.0) -> Delivered:
    """The one message in `address`'s Maildir that carries `token` (fails on 0 after timeout or >1)."""
    deadline = time.monotonic() + timeout
    while True:
        found = find_by_token(srv, address, token)
        if len(found) > 1:
            raise AssertionError(f"{address}: {len(found)} copies of message {token}, want 1")
        if found:
            time.sleep(0.2)   # a late duplicate would show up now
            found = find_by_token(srv, address, token)
            if len(found) != 1:
                raise AssertionError(f"{address}: {len(found)} copies of message {token}, want 1")
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"{address}: message {token} not delivered within {timeout}s\n"
                                 f"log tail:\n{srv.log_tail(30)}")
        time.sleep(0.05)


def check_delivered(tc, srv: Server, rcpt: str, sent: bytes, token: str, sender: str | None = None,
                    qid: str | None = None, kind: str | None = None, timeout: float = 15.0) -> Delivered:
    """Asserts that `sent` landed in rcpt's Maildir byte for byte after the trace headers, with
    Return-Path = sender, Delivered-To = rcpt, and a Received header naming the queue ID and the
    RFC 3848 'with' keyword (ESMTP / ESMTPS / ESMTPSA)."""
    d = wait_for_token(srv, rcpt, token, timeout)
    if d.body != sent:
        import difflib
        diff = "\n".join(difflib.unified_diff(sent.decode("latin-1").splitlines(),
                                              d.body.decode("latin-1").splitlines(), "sent", "stored",
                                              lineterm="", n=1))
        tc.fail(f"stored message differs from what was sent (len sent {len(sent)}, stored {len(d.body)}):\n"
                f"{diff[:3000]}\nraw head: {d.raw[:600]!r}")
    tc.assertIn("return-path", d.trace, f"no Return-Path: {d.raw[:400]!r}")
    tc.assertIn("received", d.trace, f"no Received: {d.raw[:400]!r}")
    tc.assertTrue(d.raw.startswith(b"Return-Path:"), f"Return-Path is not first: {d.raw[:200]!r}")
    if sender is not None:
        tc.assertEqual(d.trace["return-path"], f"<{sender}>")
    tc.assertIn(rcpt.lower(), d.trace.get("delivered-to", "").lower())
    if qid:
        tc.assertIn(qid, d.received, f"queue ID {qid} not in Received: {d.received}")
    if kind:
        tc.assertRegex(d.received, rf"\bwith {kind}\b", f"want 'with {kind}' in Received")
        if kind.startswith("ESMTPS"):
            # issue 2 section 3: the TLS version (and cipher) are recorded
            tc.assertRegex(d.received, r"TLSv1\.[23]", f"no TLS version in Received: {d.received}")
    tc.assertFalse(re.search(rb"(?<!\r)\n", d.raw), "stored message has a bare LF")
    return d


def data_dir_contains(srv: Server, needle: bytes) -> list[Path]:
    """Files under data_dir whose bytes contain needle (the spool keeps queued messages there)."""
    hits = []
    for p in srv.data_dir.rglob("*"):
        try:
            if p.is_file() and _file_contains(p, needle):
                hits.append(p)
        except OSError:
            pass
    return hits


def _file_contains(path: Path, needle: bytes, chunk: int = 4 << 20) -> bool:
    """Streams the file (spool segments may be large and preallocated)."""
    tail = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                return False
            if needle in tail + block:
                return True
            tail = block[-(len(needle) - 1):] if len(needle) > 1 else b""


# --------------------------------------------------------------------------- first-start banner

def printed_commands(banner: str) -> list[str]:
    """The shell commands in the server's start-up banner: indented lines that are not
    listener lines, with backslash-continued lines joined."""
    commands, current = [], ""
    for line in banner.splitlines():
        if not line.startswith("  ") or current == "" and re.match(r"\s+(mx|submissions?|local)\s", line):
            continue
        current += line.strip()
        if current.endswith("\\"):
            current = current[:-1].rstrip() + " "
            continue
        commands.append(current)
        current = ""
    return commands


def first_steps(banner: str) -> tuple[str, str, Path]:
    """The banner's `cartero user add` command, its swaks command and the Maildir new/
    directory it says the test message lands in."""
    commands = printed_commands(banner)
    user_add = [c for c in commands if " user add " in c]
    swaks = [c for c in commands if c.startswith("swaks ")]
    lands = re.search(r"It lands in (\S+)", banner)
    if not (user_add and swaks and lands):
        raise AssertionError(f"the banner lacks a user add command, a swaks command or the Maildir:\n{banner}")
    return user_add[0], swaks[0], Path(lands.group(1))


def send_yourself_a_test(banner: str, password: str, timeout: float = 20) -> Path:
    """Does what the first-start banner tells a new operator to do, typing the printed
    commands on a terminal; returns the Maildir new/ directory the message landed in."""
    user_add, swaks, new_dir = first_steps(banner)
    rc, out = run_in_terminal(user_add, [("New password", password), ("Repeat the password", password)])
    if rc != 0:
        raise AssertionError(f"{user_add} exited {rc}:\n{out}")
    time.sleep(0.5)  # the server picks up new accounts within its poll interval
    rc, out = run_in_terminal(swaks, [("Password", password)])
    if rc != 0 or "250 2.0.0 Ok: queued as" not in out:
        raise AssertionError(f"{swaks} exited {rc}:\n{out}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (new_dir.is_dir() and any(new_dir.iterdir())):
        time.sleep(0.1)
    if not (new_dir.is_dir() and any(new_dir.iterdir())):
        raise AssertionError(f"the test message did not land in {new_dir}")
    return new_dir


def _wait_for_echo_off(fd: int, limit: float = 2.0) -> None:
    """A program asking for a password turns terminal echo off after printing its prompt,
    often with TCSAFLUSH, which throws away whatever was typed before: answer only once
    echo is off (or after `limit`, for programs that never turn it off)."""
    import termios
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and termios.tcgetattr(fd)[3] & termios.ECHO:
        time.sleep(0.01)


def run_in_terminal(command: str, answers: list[tuple[str, str]], timeout: float = 60) -> tuple[int, str]:
    """Runs `command` with sh on a pseudo-terminal, as a user would type it, answering
    each prompt (in order) with its text; returns (exit status, everything printed)."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("sh", ["sh", "-c", command])
    output, pending = b"", list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            import select
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            if pending and pending[0][0].encode() in output.rsplit(b"\n", 1)[-1]:
                _wait_for_echo_off(fd)
                os.write(fd, (pending.pop(0)[1] + "\n").encode())
                output += b"\n"
    finally:
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")
