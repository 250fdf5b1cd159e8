#!/usr/bin/python3
"""A hostile SMTP server that trickles: it answers one octet at a time, slowly, so
that a client whose timer restarts on every read never times out (issue 8, section
7). Used by tests/unit/delivery/smtp_connection_test.cpp and the integration tests.

    trickle_peer.py PORT_FILE MODE [INTERVAL]

Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE (atomically),
and serves every connection in a thread of its own until killed. MODE:
  greeting   an endless greeting: "220-trickle.test\\r\\n" for ever, one octet
             every INTERVAL seconds (0.5 by default)
  lines      the same continuation lines, one whole line every INTERVAL
  data       a normal dialogue up to the final dot of the message; the reply to
             that is endless, one octet every INTERVAL

Every connection accepted is counted on stderr ("connection N") for the test log.
"""
import os
import socket
import sys
import threading
import time

CONTINUATION = b"220-trickle.test\r\n"


def trickle_forever(sock: socket.socket, text: bytes, interval: float, whole_lines: bool) -> None:
    while True:
        if whole_lines:
            sock.sendall(text)
            time.sleep(interval)
            continue
        for octet in text:
            sock.sendall(bytes([octet]))
            time.sleep(interval)


def read_line(sock: socket.socket, buf: bytearray) -> bytes | None:
    while b"\n" not in buf:
        got = sock.recv(65536)
        if not got:
            return None
        buf += got
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line.rstrip(b"\r")


def dialogue_then_trickle(sock: socket.socket, interval: float) -> None:
    sock.sendall(b"220 trickle.test ESMTP\r\n")
    buf = bytearray()
    in_data = False
    while True:
        line = read_line(sock, buf)
        if line is None:
            return
        if in_data:
            if line == b".":
                trickle_forever(sock, b"250-still thinking\r\n", interval, False)
            continue
        verb = line[:4].upper()
        if verb == b"EHLO":
            sock.sendall(b"250-trickle.test\r\n250 PIPELINING\r\n")
        elif verb == b"DATA":
            in_data = True
            sock.sendall(b"354 go ahead\r\n")
        elif verb == b"QUIT":
            sock.sendall(b"221 bye\r\n")
            return
        else:
            sock.sendall(b"250 ok\r\n")


def serve(sock: socket.socket, mode: str, interval: float) -> None:
    try:
        if mode == "data":
            dialogue_then_trickle(sock, interval)
        else:
            trickle_forever(sock, CONTINUATION, interval, mode == "lines")
    except OSError:
        pass
    finally:
        sock.close()


def main() -> None:
    port_file, mode = sys.argv[1], sys.argv[2]
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    if mode not in ("greeting", "lines", "data"):
        sys.exit(f"unknown mode {mode}")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    count = 0
    while True:
        conn, _ = listener.accept()
        count += 1
        print(f"connection {count}", file=sys.stderr, flush=True)
        threading.Thread(target=serve, args=(conn, mode, interval), daemon=True).start()


if __name__ == "__main__":
    main()
