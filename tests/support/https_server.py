"""An HTTPS server for tests, on 127.0.0.1 and a port picked at run time: Python's
http.server + ssl with a certificate from the test's CA (cartero_harness.TestPKI).

Purpose: serve the small documents cartero fetches from a domain's web server — the
MTA-STS policy (tests/integration/test_mta_sts.py) and mail autoconfig files
(tests/integration/test_discover.py) — so the real HTTPS client (TLS, certificate
checks, redirects refused, Content-Type checks) is tested end to end.

    def respond(host: str, path: str) -> tuple[int, str, bytes]:   # status, Content-Type, body
        return (200, "text/plain", b"...") if path == "/x" else (404, "text/plain", b"")
    with HttpsServer(cert, key, respond) as web:
        web.port          # where it listens
        web.requests      # [(path with query, Host header), ...] every GET received

A 3xx status gets a Location header pointing elsewhere, so a client that followed
redirects would be seen to. Trust: test code; binds 127.0.0.1 only.
"""
from __future__ import annotations

import http.server
import ssl
import threading
from pathlib import Path
from typing import Callable

__all__ = ["HttpsServer"]

REDIRECT_TARGET = "https://elsewhere.test/moved"


class HttpsServer:
    def __init__(self, cert: Path, key: Path, respond: Callable[[str, str], tuple[int, str, bytes]]):
        self.respond = respond
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                host = self.headers.get("Host", "")
                outer.requests.append((self.path, host))
                status, content_type, body = outer.respond(host.split(":")[0], self.path.split("?")[0])
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if 300 <= status < 400:
                    self.send_header("Location", REDIRECT_TARGET)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread: threading.Thread | None = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(10)
            self.thread = None

    def __enter__(self) -> "HttpsServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
