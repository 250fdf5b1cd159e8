#!/usr/bin/python3
"""cartero vs Postfix, side by side on loopback (issue 3, section 1).

Purpose: runs each scenario against a fresh cartero and a fresh private Postfix
instance in turn (A B A B ...), several rounds, and prints per scenario each
server's figure, the ratio per round and the median ratio, as Markdown. The
durability of both is their default: cartero sends 250 after its group-commit
fdatasync; Postfix's cleanup fsyncs every queue file before smtpd answers 250.

Started by bench/run, which builds cartero and installs Postfix first; see
bench/README.md for the scenarios and how to read the output.

Trust: benchmark tool, run as root on a machine set aside for it. It writes only
under its work directory (a fresh temporary directory), starts servers that
listen only on 127.0.0.1, and stops every process it started.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
FROM = "from@bench.test"
RCPT = "bob@bench.test"          # local user: Maildir delivery (e2e, latency)
DISCARD_DOMAIN = "discard.bench.test"
DISCARD_RCPT = f"load@{DISCARD_DOMAIN}"  # accept-only scenarios: both servers discard
SMTP_SOURCE = "/usr/sbin/smtp-source"


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(512)  # the banner: the server is really answering
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


def proc_stat(pid: int) -> tuple[int, int, int, int, int] | None:
    """(ppid, utime, stime, cutime, cstime) in clock ticks, or None if gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[11]), int(rest[12]), int(rest[13]), int(rest[14])


def children_of(ppid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] == ppid:
                out.append(int(d))
    return out


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def count_files(d: Path) -> int:
    try:
        return sum(1 for _ in os.scandir(d))
    except FileNotFoundError:
        return 0


def drop_dirty() -> None:
    """Writes back dirty pages so one run's leftovers do not slow the next."""
    os.sync()
    time.sleep(0.5)


# --------------------------------------------------------------------------- servers

class Server:
    name = "?"

    def __init__(self, work: Path, discard: bool = False):
        self.work = work
        self.port = free_port()
        # the recipient smtp-source sends to: both servers are configured alike in every
        # scenario (a local user in bench.test, and discard.bench.test routed to a discard
        # transport); the accept-only scenarios send to the discarded domain.
        self.discard = discard
        self.rcpt = DISCARD_RCPT if discard else RCPT

    def pids(self) -> list[int]:
        raise NotImplementedError

    def cpu_seconds(self) -> float:
        raise NotImplementedError

    def rss_kib(self) -> tuple[int, int, int]:
        """(sum of RSS, sum of PSS, number of processes) of the server's processes."""
        ps = self.pids()
        return sum(rss_kib(p) for p in ps), sum(pss_kib(p) for p in ps), len(ps)

    def maildir_new(self) -> Path:
        raise NotImplementedError

    def sent_logged(self) -> int | None:
        """Deliveries/discards the server logged as done (status=sent); read after stop."""
        try:
            with open(self.logfile(), "rb") as f:
                return sum(line.count(b"status=sent") for line in f)
        except OSError:
            return None

    def logfile(self) -> Path:
        raise NotImplementedError


class Cartero(Server):
    name = "cartero"

    def __init__(self, work: Path, binary: str, tls: bool = False, discard: bool = False,
                 io_threads: int = 0):
        super().__init__(work, discard)
        self.io_threads = io_threads
        self.binary = binary
        self.data = work / "data"
        self.config = work / "cartero.toml"
        self.log = work / "cartero.log"
        self.proc: subprocess.Popen | None = None
        self.tls = tls

    def write_config(self) -> None:
        lines = [
            'hostname = "bench.invalid"',
            f'data_dir = "{self.data}"',
            'local_domains = ["bench.test"]',
            "",
            # accept-only target: spooled and synced before the 250 like any message,
            # then thrown away (Postfix: the same domain to its discard: transport)
            "[[route]]",
            f'domain = "{DISCARD_DOMAIN}"',
            'transport = "discard"',
            "",
            "[[listener]]",
            'role = "mx"',
            f'address = "127.0.0.1:{self.port}"',
            "",
            "[limits]",
            "connections_per_ip = 100000",
            "connections_total = 100000",
            # one loopback client plays every sender of the internet: no per-address rates
            "client_connections_per_minute = 1000000",
            "client_messages_per_minute = 1000000",
            "",
            "[server]",
            f"io_threads = {self.io_threads}",
            "",
            "[log]",
            'level = "info"',
            f'file = "{self.log}"',
        ]
        if self.tls:
            cert, key = self.work / "cert.pem", self.work / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
                            "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"],
                           check=True, capture_output=True)
            lines += ["", "[tls]", f'cert = "{cert}"', f'key = "{key}"']
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(exist_ok=True)
        self.write_config()
        subprocess.run([self.binary, "user", "add", RCPT, "--password-stdin", "--config",
                        str(self.config)], input="bench-password\n", text=True, check=True,
                       capture_output=True)
        self.stderr = open(self.work / "cartero.stderr", "w")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", str(self.config)],
                                     stdout=self.stderr, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.proc = None
            raise RuntimeError(f"cartero exited on its own with status {rc} (see {self.work})")
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.alive() else []

    def cpu_seconds(self) -> float:
        st = proc_stat(self.proc.pid)
        return (st[1] + st[2]) / CLK_TCK if st else float("nan")

    def maildir_new(self) -> Path:
        return self.data / "mail" / "bench.test" / "bob" / "new"

    def logfile(self) -> Path:
        return self.log


MASTER_CF = """\
# private benchmark instance: nothing chrooted, smtpd only on loopback
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
# private benchmark instance (bench/bench.py); defaults everywhere else, in particular
# the durability: cleanup fsyncs each queue file before smtpd answers 250.
compatibility_level = 3.6
queue_directory = {work}/queue
data_directory = {work}/data
maillog_file = {work}/maillog
myhostname = bench.invalid
mydomain = bench.invalid
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtpd_banner = $myhostname ESMTP
default_process_limit = {process_limit}
virtual_mailbox_domains = bench.test
virtual_mailbox_base = {work}/vmail
virtual_mailbox_maps = texthash:{work}/conf/vmailbox
virtual_minimum_uid = 100
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_transport = virtual
# accept-only target: any address in discard.bench.test, no recipient check (as
# cartero's [[route]]), queued and fsynced by cleanup, then the discard: transport
relay_domains = {discard_domain}
transport_maps = texthash:{work}/conf/transport
"""


class Postfix(Server):
    name = "postfix"
    UID = GID = 65534  # nobody/nogroup own the benchmark Maildir

    def __init__(self, work: Path, discard: bool = False, process_limit: int = 200):
        super().__init__(work, discard)
        self.conf = work / "conf"
        self.process_limit = process_limit
        self.master_pid: int | None = None

    def postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/usr/sbin/postfix", "-c", str(self.conf), *args],
                              capture_output=True, text=True)

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work, 0o755)
        self.conf.mkdir(exist_ok=True)
        (self.work / "queue").mkdir(exist_ok=True)  # root-owned; postfix makes the rest
        (self.work / "data").mkdir(exist_ok=True)
        import pwd
        pw = pwd.getpwnam("postfix")
        os.chown(self.work / "data", pw.pw_uid, pw.pw_gid)
        vmail = self.work / "vmail"
        vmail.mkdir(exist_ok=True)
        os.chown(vmail, self.UID, self.GID)
        (self.conf / "main.cf").write_text(MAIN_CF.format(
            work=self.work, uid=self.UID, gid=self.GID, process_limit=self.process_limit,
            discard_domain=DISCARD_DOMAIN))
        (self.conf / "master.cf").write_text(MASTER_CF.format(port=self.port))
        (self.conf / "vmailbox").write_text(f"{RCPT} bench.test/bob/\n")
        (self.conf / "transport").write_text(f"{DISCARD_DOMAIN} discard:\n")
        r = self.postfix("start")
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stdout}{r.stderr}")
        wait_port(self.port)
        pidfile = self.work / "queue" / "pid" / "master.pid"
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.05)
        self.master_pid = int(pidfile.read_text().strip())

    def stop(self) -> None:
        if self.master_pid is None:
            return
        self.postfix("stop")
        for _ in range(200):
            if proc_stat(self.master_pid) is None:
                break
            time.sleep(0.05)
        else:
            self.postfix("abort")
        self.master_pid = None

    def pids(self) -> list[int]:
        if self.master_pid is None or proc_stat(self.master_pid) is None:
            return []
        return [self.master_pid] + children_of(self.master_pid)

    def cpu_seconds(self) -> float:
        """Master (with its reaped children) plus every live child."""
        st = proc_stat(self.master_pid)
        total = st[1] + st[2] + st[3] + st[4]
        for pid in children_of(self.master_pid):
            c = proc_stat(pid)
            if c:
                total += c[1] + c[2]
        return total / CLK_TCK

    def maildir_new(self) -> Path:
        return self.work / "vmail" / "bench.test" / "bob" / "new"

    def logfile(self) -> Path:
        return self.work / "maillog"


# --------------------------------------------------------------------------- load

def smtp_source(port: int, sessions: int, count: int, size: int, per_conn: int,
                rcpt: str = RCPT, timeout: float = 120) -> float:
    """Sends COUNT messages with smtp-source; returns the wall time in seconds.

    per_conn == 1: one invocation, one message per connection. per_conn > 1:
    invocations of `-d -s S -m S*per_conn` (-d keeps each session sending until the
    invocation's count is used up, so each connection carries about per_conn messages).
    """
    base = [SMTP_SOURCE, "-s", str(sessions), "-l", str(size), "-f", FROM, "-t", rcpt,
            "-M", "client.bench.test"]
    if per_conn <= 1:
        runs = [base + ["-m", str(count)]]
    else:
        batch = sessions * per_conn
        runs = [base + ["-d", "-m", str(batch)] for _ in range(count // batch)]
        if count % batch:
            runs.append(base + ["-d", "-m", str(count % batch)])
    t0 = time.monotonic()
    for cmd in runs:
        try:
            r = subprocess.run(cmd + [f"127.0.0.1:{port}"], capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"smtp-source made no progress: still running after {timeout:.0f} s"
                               " (server stalled?)")
        if r.returncode != 0:
            raise RuntimeError(f"smtp-source failed ({r.returncode}): {r.stderr.strip()[:500]}")
    return time.monotonic() - t0


def wait_delivered(server: Server, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    d = server.maildir_new()
    while time.monotonic() < deadline:
        if count_files(d) >= count:
            return True
        time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- scenarios
# Each scenario function takes (server_factory(name) -> Server started, args) and returns
# {"value": float, "unit": str, ...extra}. Higher is better unless "lower_better".

def sc_accept(sessions, per_conn, size, nfactor=1.0):
    def run(server: Server, a) -> dict:
        n = max(1, int(a.n * nfactor))
        cpu0 = server.cpu_seconds()
        wall = smtp_source(server.port, sessions, n, size, per_conn, server.rcpt)
        cpu = server.cpu_seconds() - cpu0
        return {"value": n / wall, "n": n, "wall": wall, "cpu_s": cpu,
                "cpu_per_10k": cpu * 10000 / n}
    return run


def sc_end_to_end(server: Server, a) -> dict:
    n = a.n
    cpu0 = server.cpu_seconds()
    t0 = time.monotonic()
    smtp_source(server.port, 20, n, 5120, 1)
    accepted = time.monotonic() - t0
    ok = wait_delivered(server, n, a.timeout)
    total = time.monotonic() - t0
    time.sleep(0.5)  # let the last DONE/removal work finish before reading CPU
    cpu = server.cpu_seconds() - cpu0
    got = count_files(server.maildir_new())
    return {"value": n / total if ok else float("nan"), "n": n, "wall": total,
            "accept_wall": accepted, "delivered": got, "cpu_s": cpu,
            "cpu_per_10k": cpu * 10000 / n}


def sc_latency(server: Server, a) -> dict:
    n = max(200, a.n // 5)
    r = subprocess.run([sys.executable, str(BENCH / "eod_latency.py"), str(server.port),
                        "--sessions", "20", "--count", str(n), "--per-conn", "10"],
                       capture_output=True, text=True, timeout=a.timeout)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["value"] = res["p99_ms"]
    return res


def sc_idle_cmd(port, count, tls):
    cmd = [sys.executable, str(BENCH / "idle_conns.py"), str(port), str(count)]
    return cmd + (["--tls"] if tls else [])


def sc_idle(count, tls=False):
    def run(server: Server, a) -> dict:
        time.sleep(0.5)
        rss0, pss0, _ = server.rss_kib()
        p = subprocess.Popen(sc_idle_cmd(server.port, count, tls), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().strip()
        time.sleep(1.0)
        rss1, pss1, nproc = server.rss_kib()
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait(timeout=300)
        if not line.startswith("READY"):
            return {"value": float("nan"), "error": line, "rss0_kib": rss0, "rss_kib": rss1}
        opened = int(line.split()[1])
        return {"value": (rss1 - rss0) / opened, "ratio_value": (pss1 - pss0) / opened,
                "opened": opened,
                "open_s": float(line.split()[2]), "rss0_kib": rss0, "rss_kib": rss1,
                "pss_per_conn": round((pss1 - pss0) / opened, 1), "procs": nproc}
    return run


# name, title, unit, lower_better, function, which servers, server options
def scenarios(a) -> list[dict]:
    big = 102400
    out = [
        dict(key="accept-s20", title="accept, 5 KB, 1 msg/conn, 20 sessions", unit="msg/s",
             fn=sc_accept(20, 1, 5120), discard=True),
        dict(key="accept-s100", title="accept, 5 KB, 1 msg/conn, 100 sessions", unit="msg/s",
             fn=sc_accept(100, 1, 5120), discard=True),
        dict(key="accept-s20-r10", title="accept, 5 KB, 10 msg/conn, 20 sessions",
             unit="msg/s", fn=sc_accept(20, 10, 5120), discard=True),
        dict(key="accept-s100-r10", title="accept, 5 KB, 10 msg/conn, 100 sessions",
             unit="msg/s", fn=sc_accept(100, 10, 5120), discard=True),
        dict(key="accept-100k", title="accept, 100 KB, 1 msg/conn, 20 sessions", unit="msg/s",
             fn=sc_accept(20, 1, big, nfactor=0.2), discard=True),
        dict(key="e2e", title="end to end into Maildir, 5 KB, 20 sessions", unit="msg/s",
             fn=sc_end_to_end, discard=False),
        dict(key="latency", title="end-of-data reply latency p99, 5 KB, 20 sessions",
             unit="ms", fn=sc_latency, discard=False, lower_better=True),
        dict(key="idle-1k", title=f"idle connections after EHLO: {a.idle_small:,}", unit="KiB/conn",
             fn=sc_idle(a.idle_small), discard=True, lower_better=True, rounds=1),
        dict(key="idle-10k", title=f"idle connections after EHLO: {a.idle_large:,}",
             unit="KiB/conn",
             fn=sc_idle(a.idle_large), discard=True, lower_better=True, rounds=1,
             servers=("cartero",) if a.idle_large > a.postfix_idle_max else None),
    ]
    if a.tls_idle:
        out.append(dict(key="idle-10k-tls", title="idle connections after EHLO+STARTTLS+EHLO",
                        unit="KiB/conn", fn=sc_idle(a.idle_large, tls=True), discard=True,
                        lower_better=True, rounds=1, servers=("cartero",), tls=True))
    return out


def make_server(name: str, sc: dict, a, work: Path) -> Server:
    if name == "cartero":
        return Cartero(work, a.cartero, tls=sc.get("tls", False), discard=sc["discard"],
                       io_threads=a.io_threads)
    limit = max(200, a.postfix_idle_max + 100)
    return Postfix(work, discard=sc["discard"], process_limit=limit)


def fmt(v, unit="") -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"
    return f"{v:,}"


def run_all(a) -> dict:
    results: dict = {}
    base = Path(tempfile.mkdtemp(prefix="cartero-bench-", dir=a.workdir))
    os.chmod(base, 0o755)
    chosen = [s for s in scenarios(a) if not a.only or s["key"] in a.only]
    for sc in chosen:
        servers = sc.get("servers") or ("cartero", "postfix")
        rounds = sc.get("rounds", a.rounds) if not a.only_rounds else a.rounds
        res = results.setdefault(sc["key"], {"title": sc["title"], "unit": sc["unit"],
                                             "lower_better": sc.get("lower_better", False),
                                             "rounds": []})
        for rnd in range(rounds):
            row = {}
            for name in servers:
                work = base / f"{sc['key']}-{rnd}-{name}"
                srv = make_server(name, sc, a, work)
                print(f"# {sc['key']} round {rnd + 1}/{rounds}: {name} ...", file=sys.stderr,
                      flush=True)
                profiler = None
                try:
                    srv.start()
                    profiler = start_perf(a, srv, f"{sc['key']}-{rnd + 1}-{name}")
                    r = sc["fn"](srv, a)
                    if name == "cartero" and not srv.alive():
                        r["error"] = "cartero died during the run"
                except Exception as e:  # a failing run is a result, not the end of the bench
                    r = {"value": float("nan"), "error": f"{type(e).__name__}: {e}"}
                finally:
                    stop_perf(profiler)
                    try:
                        srv.stop()
                    except Exception as e:
                        r["error"] = f"stop: {e}"
                if "n" in r:  # how many the server logged as sent/discarded by its stop
                    r["sent_logged"] = srv.sent_logged()
                print(f"#   {name}: {json.dumps(r)}", file=sys.stderr, flush=True)
                row[name] = r
                # By default a run's files stay until the whole benchmark ends: ext4
                # without a journal (this VM's disk) skips inodes freed in the last
                # 30 s when it allocates new ones, one inode-table lookup each, so
                # tens of thousands of files deleted just before a run slow every
                # file the next server creates (see RESULTS.md). --delete-each is
                # the old behaviour, for comparison.
                if a.delete_each and not a.keep:
                    shutil.rmtree(work, ignore_errors=True)
                drop_dirty()
            res["rounds"].append(row)
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)
    return results


def start_perf(a, srv: Server, label: str) -> subprocess.Popen | None:
    """--perf DIR: records cartero's call graphs during the scenario (perf record -g)."""
    if not a.perf or srv.name != "cartero" or not srv.pids():
        return None
    Path(a.perf).mkdir(parents=True, exist_ok=True)
    out = Path(a.perf) / f"{label}.data"
    p = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-p", str(srv.pids()[0]),
                          "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # perf attaches to every thread before the load starts
    return p


def stop_perf(p: subprocess.Popen | None) -> None:
    if p is None:
        return
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def ratio(sc: dict, row: dict) -> float | None:
    key = "ratio_value" if any("ratio_value" in v for v in row.values()) else "value"
    c, p = row.get("cartero", {}).get(key), row.get("postfix", {}).get(key)
    if c is None or p is None or c != c or p != p or c == 0 or p == 0:
        return None
    return p / c if sc["lower_better"] else c / p


def logged(v: dict) -> str:
    """How many messages the server's log showed as sent (delivered or discarded)."""
    if v.get("sent_logged") is None:
        return ""
    return f"; {v['sent_logged']:,} logged status=sent by the server's stop"


def report(results: dict) -> str:
    out = ["| scenario | round | cartero | postfix | ratio (cartero advantage) |",
           "|---|---|---|---|---|"]
    for key, sc in results.items():
        ratios = []
        for i, row in enumerate(sc["rounds"]):
            r = ratio(sc, row)
            if r is not None:
                ratios.append(r)
            cells = []
            for name in ("cartero", "postfix"):
                v = row.get(name)
                if v is None:
                    cells.append("-")
                elif "error" in v:
                    cells.append(f"{fmt(v.get('value'))} (error: {v['error'][:80]})")
                else:
                    cells.append(f"{fmt(v['value'])} {sc['unit']}")
            out.append(f"| {key} | {i + 1} | {cells[0]} | {cells[1]} | "
                       f"{'-' if r is None else f'{r:.2f}×'} |")
        if ratios:
            out.append(f"| **{key}** | median | | | **{statistics.median(ratios):.2f}×** |")
    out.append("")
    out.append("Ratio: cartero/Postfix for rates, Postfix/cartero for latency and memory "
               "(so > 1 always means cartero is better). Memory: the table shows RSS growth "
               "per connection; the ratio compares PSS growth (Postfix's RSS sum counts "
               "shared pages once per process).")
    # extra figures
    extra = []
    for key in ("e2e",):
        for i, row in enumerate(results.get(key, {}).get("rounds", [])):
            for name, v in row.items():
                if "cpu_per_10k" in v:
                    extra.append(f"- {key} round {i + 1} {name}: {v['n']} msgs all in Maildir "
                                 f"after {v['wall']:.2f} s (accept done at "
                                 f"{v['accept_wall']:.2f} s), server CPU {v['cpu_s']:.2f} s = "
                                 f"**{v['cpu_per_10k']:.1f} CPU-s per 10,000 messages**"
                                 + logged(v))
    for key, sc in results.items():
        if key.startswith("accept"):
            for i, row in enumerate(sc["rounds"]):
                for name, v in row.items():
                    if "cpu_per_10k" in v:
                        extra.append(f"- {key} round {i + 1} {name}: {v['n']} msgs in "
                                     f"{v['wall']:.2f} s, server CPU during the run "
                                     f"{v['cpu_s']:.2f} s = {v['cpu_per_10k']:.1f} CPU-s "
                                     f"per 10,000 messages" + logged(v))
    for key in ("latency",):
        for i, row in enumerate(results.get(key, {}).get("rounds", [])):
            for name, v in row.items():
                if "p50_ms" in v:
                    extra.append(f"- {key} round {i + 1} {name}: {v['count']} msgs, "
                                 f"{v['errors']} errors, p50 {v['p50_ms']} ms, p90 "
                                 f"{v['p90_ms']} ms, p99 {v['p99_ms']} ms, max {v['max_ms']} ms, "
                                 f"{v['msgs_per_s']} msg/s")
    for key in ("idle-1k", "idle-10k", "idle-10k-tls"):
        for i, row in enumerate(results.get(key, {}).get("rounds", [])):
            for name, v in row.items():
                if "opened" in v:
                    extra.append(f"- {key} {name}: {v['opened']} connections open "
                                 f"(in {v['open_s']} s), RSS {v['rss0_kib']} KiB idle → "
                                 f"{v['rss_kib']} KiB, {v['value']:.1f} KiB RSS and "
                                 f"{v['pss_per_conn']} KiB PSS per connection, "
                                 f"{v['procs']} process(es)")
                elif "error" in v:
                    extra.append(f"- {key} {name}: error {v['error']}")
    if extra:
        out += ["", "Details:", ""] + extra
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cartero", default=str(ROOT / "build-release" / "cartero"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", "--n", type=int, default=10000, help="messages per run")
    ap.add_argument("--quick", action="store_true",
                    help="small run for development: n=500, 1 round, 200/1000 idle conns")
    ap.add_argument("--only", nargs="*", help="scenario keys to run")
    ap.add_argument("--only-rounds", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--idle-small", type=int, default=1000)
    ap.add_argument("--idle-large", type=int, default=10000)
    ap.add_argument("--postfix-idle-max", type=int, default=1000,
                    help="largest idle test run against Postfix (one process per session)")
    ap.add_argument("--tls-idle", action="store_true", help="also run cartero's TLS idle case")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--io-threads", type=int, default=0,
                    help="cartero [server] io_threads (0 = its default, one per core)")
    ap.add_argument("--workdir", default="/var/tmp")
    ap.add_argument("--keep", action="store_true", help="keep work directories")
    ap.add_argument("--delete-each", action="store_true",
                    help="delete each run's files right after it (default: all at the end)")
    ap.add_argument("--perf", metavar="DIR",
                    help="perf record -g cartero during each run into DIR/<scenario>-<round>-cartero.data")
    ap.add_argument("--json", help="also write the raw results here")
    a = ap.parse_args()
    if a.quick:
        a.n, a.rounds, a.idle_small, a.idle_large = 500, 1, 200, 1000
    results = run_all(a)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    print(report(results))


if __name__ == "__main__":
    main()
