"""Durability (issue 2, sections 5-6; MISSION: nothing accepted is ever lost) and exactly
once into the Maildir (issue 8, section 5).

20 concurrent clients send a bounded number of messages over mx to a local user while the
server is killed with SIGKILL twice mid-stream, each time while it is delivering into the
Maildir, and restarted; once more after the clients are done if a delivery backlog is
left. Every message that got a 250 must be in the Maildir exactly as sent, and exactly
once: copies are counted per message by its unique token (in new/ and cur/). A crash
between a copy and its (lazily durable) done mark used to deliver it again after the
restart; the Maildir courier now names each copy after the queue ID and the mailbox and
finds the copy it already made (docs/queue.md), so no duplicate is tolerated.

Environment knobs: CARTERO_DURABILITY_TOTAL (default 2000), CARTERO_DURABILITY_THREADS (20).
"""
import os
import re
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import cartero_harness as h  # noqa: E402

BOB = "bob@example.test"
TOTAL = int(os.environ.get("CARTERO_DURABILITY_TOTAL", "2000"))
THREADS = int(os.environ.get("CARTERO_DURABILITY_THREADS", "20"))
SEND_DEADLINE = 180.0
DELIVERY_DEADLINE = 120.0
TOKEN_RE = re.compile(rb"X-Durability-Token: (d[0-9a-f]+)\r\n")


class Ledger:
    def __init__(self, total: int = TOTAL):
        self.total = total
        self.lock = threading.Lock()
        self.next = 0
        self.sent: dict[str, bytes] = {}          # token -> message bytes
        self.acked: dict[str, tuple[int, str]] = {}   # token -> (epoch when acked, queue id)
        self.uncertain: set[str] = set()          # in flight when the connection broke
        self.refused: dict[str, str] = {}         # token -> non-250 final reply
        self.epoch = 0                            # number of kills so far

    def take(self) -> str | None:
        with self.lock:
            if self.next >= self.total:
                return None
            self.next += 1
            return f"d{self.next:06d}{os.urandom(4).hex()}"


def worker(srv: h.Server, ledger: Ledger, stop: threading.Event, wid: int) -> None:
    c = None
    token = None
    in_flight = False
    while not stop.is_set():
        if token is None:
            token = ledger.take()
            if token is None:
                break
        try:
            if c is None:
                c = h.RawClient(srv.port("mx"), timeout=20)
                if c.reply().code != 220:
                    raise h.ConnectionClosed("no greeting")
                c.ehlo(f"w{wid}.client.test")
            msg = h.make_message(subject=f"durability {token}", token=token, sender=f"w{wid}@remote.test",
                                 rcpt=BOB, extra_headers=f"X-Durability-Token: {token}\r\n",
                                 body=f"worker {wid} message {token}\r\n.leading dot line\r\n".encode())
            with ledger.lock:
                ledger.sent[token] = msg
            in_flight = True
            c.send(f"MAIL FROM:<w{wid}@remote.test>\r\nRCPT TO:<{BOB}>\r\nDATA\r\n".encode())
            r1, r2, r3 = c.replies(3)
            if (r1.code, r2.code, r3.code) != (250, 250, 354):
                with ledger.lock:
                    ledger.refused[token] = f"{r1.last} / {r2.last} / {r3.last}"
                c.cmd("RSET")
                token, in_flight = None, False
                continue
            with ledger.lock:
                ledger.uncertain.add(token)
            stuffed = re.sub(rb"(?m)^\.", b"..", msg)
            c.send(stuffed + b".\r\n")
            r = c.reply(30)
            with ledger.lock:
                ledger.uncertain.discard(token)
                if r.code == 250:
                    ledger.acked[token] = (ledger.epoch, h.queue_id(r.last) or "")
                else:
                    ledger.refused[token] = r.last
            token, in_flight = None, False
        except (OSError, h.ConnectionClosed, h.ReplyTimeout, AssertionError):
            # connection broke (server killed): a message already sent stays "uncertain" and
            # is never resent (a fresh token is used, so outcomes never mix); a token not yet
            # sent is kept for the next connection.
            if c is not None:
                c.close()
            c = None
            if in_flight:
                with ledger.lock:
                    if token not in ledger.acked:
                        ledger.uncertain.add(token)
                token, in_flight = None, False
            time.sleep(0.05)
    if c is not None:
        c.close()


def files_in_maildir(srv: h.Server) -> int:
    md = srv.maildir(BOB)
    return sum(len(os.listdir(md / sub)) for sub in ("new", "cur") if (md / sub).is_dir())


def wait_until_delivering(srv: h.Server, timeout: float = 3.0) -> bool:
    """True once copies are landing in the Maildir right now (a kill then hits deliveries
    whose done marks are not durable yet, the window of a duplicate)."""
    deadline = time.monotonic() + timeout
    before = files_in_maildir(srv)
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = files_in_maildir(srv)
        if now > before:
            return True
        before = now
    return False


def scan(srv: h.Server) -> tuple[dict[str, int], dict[str, list[bytes]], list[Path]]:
    counts: dict[str, int] = {}
    bodies: dict[str, list[bytes]] = {}
    unparsable = []
    md = srv.maildir(BOB)
    for sub in ("new", "cur"):
        d = md / sub
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if p.name.startswith("."):
                continue
            raw = p.read_bytes()
            m = TOKEN_RE.search(raw)
            if not m:
                unparsable.append(p)
                continue
            t = m.group(1).decode()
            counts[t] = counts.get(t, 0) + 1
            bodies.setdefault(t, []).append(h.split_trace(raw)[1])
    return counts, bodies, unparsable


class DurabilityTest(unittest.TestCase):
    def test_concurrent_sessions_do_not_mix(self):
        """No kill: 20 concurrent sessions, 600 messages; each lands once, byte for byte, and no
        session ever sees another's bytes (replies stay in step with commands)."""
        with h.Server(users={BOB: "bob-pw-1234"}, roles=("mx",), name="concurrent",
                      config={"limits": {"connections_per_ip": 200}}) as srv:
            ledger = Ledger(total=600)
            stop = threading.Event()
            threads = [threading.Thread(target=worker, args=(srv, ledger, stop, i), daemon=True)
                       for i in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            stop.set()
            self.assertEqual(ledger.refused, {}, "replies out of step or refused: sessions mixed?")
            self.assertEqual(sorted(ledger.uncertain), [], "connections broke without a kill")
            self.assertEqual(len(ledger.acked), 600)
            deadline = time.monotonic() + 60
            while True:
                counts, bodies, unparsable = scan(srv)
                if all(t in counts for t in ledger.acked) or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            time.sleep(0.5)
            counts, bodies, unparsable = scan(srv)
            corrupt = [t for t, bs in bodies.items() if t in ledger.sent and any(b != ledger.sent[t] for b in bs)]
            self.assertEqual(corrupt, [], f"{len(corrupt)} messages stored with bytes from elsewhere, e.g. "
                             f"{bodies[corrupt[0]][0][:200] if corrupt else b''!r}")
            self.assertEqual([t for t in ledger.acked if t not in counts], [], "accepted messages missing")
            self.assertEqual({t: n for t, n in counts.items() if n > 1}, {}, "duplicates without a crash")
            self.assertEqual(unparsable, [])

    def test_kill9_mid_stream_loses_nothing(self):
        with h.Server(users={BOB: "bob-pw-1234"}, roles=("mx",), name="durable",
                      config={"limits": {"connections_per_ip": 200, "messages_per_session": 100000}}) as srv:
            ledger = Ledger()
            stop = threading.Event()
            threads = [threading.Thread(target=worker, args=(srv, ledger, stop, i), daemon=True)
                       for i in range(THREADS)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            kill_points = [int(TOTAL * 0.30), int(TOTAL * 0.65)]
            kills = 0
            for point in kill_points:
                while time.monotonic() - t0 < SEND_DEADLINE:
                    with ledger.lock:
                        n = len(ledger.acked)
                    if n >= point or not any(t.is_alive() for t in threads):
                        break
                    time.sleep(0.01)
                delivering = wait_until_delivering(srv)
                with ledger.lock:
                    ledger.epoch += 1
                srv.kill9()
                kills += 1
                print(f"kill -9 #{kills} after {len(ledger.acked)} acked, {files_in_maildir(srv)} in the Maildir, "
                      f"delivering: {delivering}", flush=True)
                time.sleep(0.3)
                srv.start()
            while any(t.is_alive() for t in threads) and time.monotonic() - t0 < SEND_DEADLINE:
                time.sleep(0.1)
            stop.set()
            for t in threads:
                t.join(35)
            send_time = time.monotonic() - t0
            # No more accepting: if deliveries are still running, kill in the middle of them.
            with ledger.lock:
                backlog = len(ledger.acked) - files_in_maildir(srv)
            if backlog > 0 and wait_until_delivering(srv, timeout=1.0):
                srv.kill9()
                kills += 1
                print(f"kill -9 #{kills} while delivering only, backlog {backlog}", flush=True)
                time.sleep(0.3)
                srv.start()

            acked = dict(ledger.acked)
            self.assertGreater(len(acked), TOTAL // 2,
                               f"only {len(acked)} of {TOTAL} messages accepted in {send_time:.0f}s "
                               f"(refused: {list(ledger.refused.items())[:5]})")
            # wait until every acked message is delivered (or the deadline)
            deadline = time.monotonic() + DELIVERY_DEADLINE
            while True:
                counts, bodies, unparsable = scan(srv)
                missing = [t for t in acked if t not in counts]
                if not missing or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            time.sleep(1.0)   # let late duplicates land before counting
            counts, bodies, unparsable = scan(srv)
            missing = sorted(t for t in acked if t not in counts)
            dups = {t: n for t, n in counts.items() if n > 1}
            uncertain_delivered = [t for t in ledger.uncertain if t in counts]
            unknown = [t for t in counts if t not in ledger.sent]
            corrupt = [t for t, bs in bodies.items() if t in ledger.sent and any(b != ledger.sent[t] for b in bs)]
            print(f"\ndurability: sent {ledger.next}, acked {len(acked)}, refused {len(ledger.refused)}, "
                  f"in flight at a kill {len(ledger.uncertain)} (delivered {len(uncertain_delivered)}), "
                  f"delivered distinct {len(counts)}, duplicates {len(dups)}, missing {len(missing)}, "
                  f"corrupt {len(corrupt)}, unparsable files {len(unparsable)}, send time {send_time:.1f}s",
                  flush=True)
            if dups:
                print(f"duplicates (token: copies): {dict(list(dups.items())[:20])}", flush=True)
            if ledger.refused:
                print(f"refused (token: reply): {dict(list(ledger.refused.items())[:10])}", flush=True)
            if corrupt:
                t = corrupt[0]
                print(f"corrupt e.g. {t}: sent {ledger.sent[t][:300]!r}\n stored {bodies[t][0][:300]!r}", flush=True)
            self.assertEqual(missing, [], f"{len(missing)} acknowledged messages lost, e.g. "
                             f"{[(t, acked[t]) for t in missing[:10]]}\nlog tail:\n{srv.log_tail(40)}")
            self.assertEqual(corrupt, [], "delivered bytes differ from what was sent")
            self.assertEqual(unparsable, [], "unparsable files in the Maildir")
            self.assertEqual(unknown, [], "messages never sent appeared")
            self.assertEqual(dups, {}, "messages delivered into the Maildir more than once "
                             "(a crash between a copy and its done mark must not make a second copy)")
            self.assertEqual(ledger.refused, {}, "the server refused messages")
            self.assertTrue(srv.running())


if __name__ == "__main__":
    unittest.main()
