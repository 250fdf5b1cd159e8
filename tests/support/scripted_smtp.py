"""A scripted SMTP server on loopback that answers with the exact texts real
providers send (client-config.md section 4), for `cartero check`'s diagnoses.

    with ScriptedSmtp(auth_reply="535-5.7.8 ...\\r\\n535 5.7.8 ...\\r\\n", tls=ctx) as s:
        s.port

Implicit TLS when `tls` (an ssl.SSLContext) is given. It greets, answers EHLO
with `ehlo` (the capability lines), answers AUTH with `auth_reply`, MAIL with
`mail_reply`, RCPT with `rcpt_reply`, and QUIT with 221. One session at a time;
the thread stops when the object is closed."""
import socket
import threading


class ScriptedSmtp:
    def __init__(self, greeting="220 smtp.example.com ESMTP ready", ehlo=("AUTH LOGIN PLAIN XOAUTH2",),
                 auth_reply="235 2.7.0 Accepted", mail_reply="250 2.1.0 OK", rcpt_reply="250 2.1.5 OK",
                 tls=None):
        self.greeting, self.ehlo, self.tls = greeting, ehlo, tls
        self.replies = {"AUTH": auth_reply, "MAIL": mail_reply, "RCPT": rcpt_reply}
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _wire(reply: str) -> bytes:
        return (reply.rstrip("\r\n") + "\r\n").encode()

    def _session(self, conn) -> None:
        if self.tls:
            conn = self.tls.wrap_socket(conn, server_side=True)
        f = conn.makefile("rb")
        conn.sendall(self._wire(self.greeting))
        for raw in f:
            verb = raw.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                lines = ["smtp.example.com", *self.ehlo]
                conn.sendall("".join(f"250{'-' if i < len(lines) - 1 else ' '}{l}\r\n"
                                     for i, l in enumerate(lines)).encode())
            elif verb in self.replies:
                conn.sendall(self._wire(self.replies[verb]))
            elif verb == "QUIT":
                conn.sendall(b"221 2.0.0 bye\r\n")
                break
            else:
                conn.sendall(b"250 2.0.0 OK\r\n")
        conn.close()

    def _serve(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(10)
            try:
                self._session(conn)
            except OSError:
                pass

    def close(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
