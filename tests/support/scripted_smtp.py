"""A scripted SMTP server for tests: it answers each command with the reply the test
gives for that verb, so a test can play any server — a provider's exact refusal texts,
a broken MX that answers DATA with 250, one that refuses every connection with 554.

    with ScriptedSmtp(replies={"MAIL": "550 5.7.1 no"}) as peer:
        ... connect to peer.port ...
        peer.commands  # every command line received, in order, per connection

Replies are full reply texts without the final CRLF ("250-a\\r\\n250 b" for multiline).
Verbs: the first word of the command in upper case ("EHLO", "MAIL", "RCPT", "DATA",
"AUTH", "QUIT", ...); "." is the reply to the end of the message text after a 354. A
verb the script does not name gets a sensible default (below). greeting=None accepts and
then says nothing; close_after_greeting closes right after the greeting. With `tls` (a
server ssl.SSLContext) every connection speaks implicit TLS (port 465 style) first.
Threads only; loopback; the server stops when the `with` block ends.
"""
from __future__ import annotations

import socket
import ssl  # noqa: F401 (the tls parameter's type)
import threading

DEFAULTS = {
    "EHLO": "250-scripted.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES",
    "HELO": "250 scripted.test",
    "MAIL": "250 2.1.0 Ok",
    "RCPT": "250 2.1.5 Ok",
    "DATA": "354 End data with <CR><LF>.<CR><LF>",
    ".": "250 2.0.0 Ok: queued as SCRIPTED1",
    "RSET": "250 2.0.0 Ok",
    "NOOP": "250 2.0.0 Ok",
    "QUIT": "221 2.0.0 Bye",
}


class ScriptedSmtp:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, greeting: str | None = "220 scripted.test ESMTP",
                 replies: dict[str, str] | None = None, close_after_greeting: bool = False,
                 tls: "ssl.SSLContext | None" = None):
        self.tls = tls
        self.replies = {**DEFAULTS, **(replies or {})}
        self.greeting = greeting
        self.close_after_greeting = close_after_greeting
        self.commands: list[str] = []
        self.messages: list[bytes] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self.host, self.port = self._listener.getsockname()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            reader = conn.makefile("rb")
            if self.greeting is None:
                reader.read()  # silent: wait for the client to give up
                return
            conn.sendall(self.greeting.encode() + b"\r\n")
            if self.close_after_greeting:
                return
            for raw in reader:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self._lock:
                    self.commands.append(line)
                verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
                reply = self.replies.get(verb, "502 5.5.2 Error: command not recognized")
                conn.sendall(reply.encode() + b"\r\n")
                if verb == "DATA" and reply.startswith("354"):
                    message = bytearray()
                    for data_line in reader:
                        if data_line == b".\r\n":
                            break
                        message += data_line
                    with self._lock:
                        self.messages.append(bytes(message))
                    conn.sendall(self.replies["."].encode() + b"\r\n")
                if verb == "QUIT" or reply.startswith("421"):
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> "ScriptedSmtp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
