#!/usr/bin/python3
"""idle_conns: open COUNT SMTP connections, send EHLO on each, and hold them idle.

Purpose: the memory scenario of bench/ (issue 3, scenario 5). Connections are opened
one after another (bounded: never more than one handshake in flight), each reads the
220 banner, sends EHLO and reads the whole 250 reply; with --tls it then sends
STARTTLS, completes the TLS handshake and sends EHLO again. When all are open it prints
"READY <count>" on stdout and waits for a line on stdin, then closes everything.
On any failure it prints "ERROR <opened> <reason>" and exits 1.

Trust: benchmark tool; connects only to the given loopback port.
Usage: idle_conns.py PORT COUNT [--tls] [--timeout SECONDS]
"""
import resource
import socket
import ssl
import sys
import time


def read_reply(sock: socket.socket) -> bytes:
    """Reads one SMTP reply (possibly multi-line); returns it, raises on a non-2xx code."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed by server")
        data += chunk
        lines = data.split(b"\r\n")
        complete = lines[:-1]
        if complete and len(complete[-1]) >= 4 and complete[-1][3:4] == b" ":
            if not complete[-1][:1] == b"2":
                raise ConnectionError("unexpected reply: " + complete[-1].decode(errors="replace"))
            return data


def main() -> int:
    port = int(sys.argv[1])
    count = int(sys.argv[2])
    use_tls = "--tls" in sys.argv
    timeout = 30.0
    if "--timeout" in sys.argv:
        timeout = float(sys.argv[sys.argv.index("--timeout") + 1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
    ctx = None
    if use_tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    held = []
    t0 = time.monotonic()
    try:
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            read_reply(s)
            s.sendall(b"EHLO idle.bench.test\r\n")
            read_reply(s)
            if ctx is not None:
                s.sendall(b"STARTTLS\r\n")
                read_reply(s)
                s = ctx.wrap_socket(s, server_hostname="localhost")
                s.sendall(b"EHLO idle.bench.test\r\n")
                read_reply(s)
            held.append(s)
    except Exception as e:  # report how far we got; the caller records it
        print(f"ERROR {len(held)} {type(e).__name__}: {e}", flush=True)
        return 1
    print(f"READY {len(held)} {time.monotonic() - t0:.2f}", flush=True)
    sys.stdin.readline()
    for s in held:
        try:
            s.close()
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
