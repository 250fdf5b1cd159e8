#!/usr/bin/python3
"""eod_latency: latency of the reply to the end of DATA ("." -> 250), per message.

Purpose: the latency figure of bench/ (issue 3). SESSIONS threads each open a
connection, send PER_CONN messages of SIZE octets (MAIL, RCPT, DATA, body, ".") and
reconnect, until COUNT messages are sent in all. For every message the time from the
moment the final ".\\r\\n" is written to the moment the complete 250 reply is read is
recorded. Prints one JSON line: count, errors, wall seconds, messages/s and the
p50/p90/p99/max latencies in milliseconds.

Trust: benchmark tool; connects only to the given loopback port.
Usage: eod_latency.py PORT [--sessions 20] [--count 2000] [--size 5120] [--per-conn 10]
"""
import argparse
import json
import socket
import threading
import time


def read_reply(sock: socket.socket, buf: bytearray) -> bytes:
    while True:
        end = buf.find(b"\r\n")
        while end >= 0:
            line = bytes(buf[:end])
            del buf[:end + 2]
            if len(line) >= 4 and line[3:4] == b" ":
                return line
            if len(line) < 4 or line[3:4] != b"-":
                return line
            end = buf.find(b"\r\n")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by server")
        buf += chunk


def expect(sock, buf, code: bytes) -> None:
    line = read_reply(sock, buf)
    if not line.startswith(code):
        raise ConnectionError(f"expected {code.decode()}, got {line.decode(errors='replace')}")


def make_body(size: int) -> bytes:
    head = (b"From: <from@bench.test>\r\nTo: <bob@bench.test>\r\nSubject: latency probe\r\n"
            b"Message-ID: <%d@bench.test>\r\n\r\n")
    line = b"x" * 78 + b"\r\n"
    body = line * (size // len(line) + 1)
    return head, body[:size - size % len(line)] if size >= len(line) else line


def worker(port, quota, per_conn, size, lat, errors, lock, seq):
    head, body = make_body(size)
    while True:
        with lock:
            if quota[0] <= 0:
                return
            n = min(per_conn, quota[0])
            quota[0] -= n
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = bytearray()
            expect(s, buf, b"220")
            s.sendall(b"EHLO latency.bench.test\r\n")
            expect(s, buf, b"250")
            for _ in range(n):
                s.sendall(b"MAIL FROM:<from@bench.test>\r\n")
                expect(s, buf, b"250")
                s.sendall(b"RCPT TO:<bob@bench.test>\r\n")
                expect(s, buf, b"250")
                s.sendall(b"DATA\r\n")
                expect(s, buf, b"354")
                with lock:
                    seq[0] += 1
                    mid = seq[0]
                s.sendall(head % mid + body)
                t0 = time.perf_counter()
                s.sendall(b".\r\n")
                expect(s, buf, b"250")
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
            s.sendall(b"QUIT\r\n")
            try:
                read_reply(s, buf)
            except (OSError, ConnectionError):
                pass
            s.close()
        except (OSError, ConnectionError) as e:
            with lock:
                errors.append(str(e))


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--size", type=int, default=5120)
    ap.add_argument("--per-conn", type=int, default=10)
    a = ap.parse_args()
    lat, errors, lock = [], [], threading.Lock()
    quota, seq = [a.count], [0]
    threads = [threading.Thread(target=worker, args=(a.port, quota, a.per_conn, a.size, lat,
                                                     errors, lock, seq))
               for _ in range(a.sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    lat.sort()
    ms = lambda v: None if v is None else round(v * 1000, 2)
    print(json.dumps({"count": len(lat), "errors": len(errors), "first_error": errors[:1],
                      "wall": round(wall, 3), "msgs_per_s": round(len(lat) / wall, 1),
                      "p50_ms": ms(pct(lat, 50)), "p90_ms": ms(pct(lat, 90)),
                      "p99_ms": ms(pct(lat, 99)), "max_ms": ms(lat[-1] if lat else None)}))


if __name__ == "__main__":
    main()
