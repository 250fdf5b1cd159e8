"""A small authoritative DNS server for tests, on 127.0.0.1, UDP and TCP, one port.

Purpose: give cartero's resolver (dns.resolver = "127.0.0.1:PORT") the zones a test
needs — MX routing, null MX, A/AAAA fallback, DKIM keys, MTA-STS and TLSA records,
SRV records (RFC 6186/8314 submission, for `cartero discover`), SERVFAIL, timeouts — without touching the real DNS. Built on Debian's python3-dnslib
(/usr/bin/python3); nothing else.

Trust: test code. Binds 127.0.0.1 only, on a port picked at run time (or given).

Zones are a dict from a name to its records (names in any case, trailing dot optional):

    zones = {
        "example.test":      {"MX": ["10 mx1.example.test", [20, "mx2.example.test"]]},
        "mx1.example.test":  {"A": ["127.0.0.1"], "AAAA": ["::1"]},
        "mx2.example.test":  {"A": "127.0.0.2"},            # one value needs no list
        "null.test":         {"MX": ["0 ."]},                # RFC 7505 null MX
        "noMX.test":         {"A": ["127.0.0.3"]},           # MX question -> NODATA (implicit MX)
        "exists.test":       {},                             # exists, no records: NODATA for every type
        "sel._domainkey.example.test": {"TXT": ["v=DKIM1; k=rsa; p=MIIB..."]},
        "_mta-sts.example.test":       {"TXT": "v=STSv1; id=1"},
        "_25._tcp.mx1.example.test":   {"TLSA": ["3 1 1 2bb4...", [3, 0, 1, "abcd"]]},
        "_submissions._tcp.example.test": {"SRV": ["0 1 465 mail.example.test", [5, 0, 587, "."]]},
        "www.example.test":  {"CNAME": "mx1.example.test"},
        "broken.test":       "SERVFAIL",                     # every question answers SERVFAIL
        "refused.test":      "REFUSED",                      # every question answers REFUSED
        "slow.test":         "TIMEOUT",                      # every question is dropped
    }

  - A name not in the dict, with no name below it, answers NXDOMAIN; a name with names
    below it but none of its own (`_domainkey.example.test` above) answers NODATA
    (RFC 8020 empty non-terminal). Negative answers carry an SOA (RFC 2308).
  - MX values: "PREF HOST" or [PREF, HOST]. SRV: "PRIORITY WEIGHT PORT TARGET" or a
    list of the four (target "." = service not offered, RFC 2782). TLSA: "USAGE SELECTOR MTYPE HEX" or a list
    of the four. TXT: a string (split into 255-octet character-strings, RFC 1035
    3.3.14, as DKIM keys need) or a list of strings, each its own record; a record given
    as a list of strings ({"TXT": [["part1", "part2"]]}) keeps those strings as they are.
  - A CNAME is answered together with the records of its target when the target is in
    the zones (as authoritative servers do), the chain bounded at 8 links.
  - UDP answers larger than the client's EDNS buffer (512 without EDNS) are truncated
    (TC=1) so the client retries over TCP (RFC 7766).
  - TTL: `ttl` (default 0), so a resolver does not cache across record changes.

Python API:

    from dns_server import DnsServer
    with DnsServer(zones) as dns:                 # or dns = DnsServer(zones).start(); dns.stop()
        config = f'[dns]\\nresolver = "{dns.address}"'   # "127.0.0.1:PORT"; dns.port alone too
        dns.set("example.test", "MX", ["10 other.example.test"])   # replace one type
        dns.set_name("late.test", {"A": "127.0.0.9"})             # replace one name
        dns.set_name("example.test", "SERVFAIL")                  # fail a name
        dns.remove("late.test")                                    # back to NXDOMAIN
        dns.update(more_zones)                                     # several names
        dns.queries   # [("example.test", "MX", "udp"), ...] every question received
        dns.clear_queries()

Command line (JSON zone file with the same shape as the dict):

    /usr/bin/python3 tests/support/dns_server.py zones.json [--port 0] [--ttl 0] [--until-stdin-closes]

It prints "port N" on the first line of stdout once both sockets listen, then serves
until SIGINT/SIGTERM (or, with --until-stdin-closes, until its stdin reaches EOF, so a
test that dies takes the server with it).
"""
from __future__ import annotations

import argparse
import binascii
import json
import socket
import socketserver
import struct
import sys
import threading
from typing import Any

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, SOA, SRV, TLSA, TXT, A, DNSError, DNSRecord

__all__ = ["DnsServer", "parse_zones"]

_FAILURES = ("SERVFAIL", "REFUSED", "TIMEOUT")
_TYPES = ("MX", "A", "AAAA", "TXT", "TLSA", "SRV", "CNAME")
_MAX_CNAME_CHAIN = 8
_MAX_TCP_QUERIES = 100       # questions served on one TCP connection
_TCP_IDLE_SECONDS = 5.0      # an idle TCP connection is closed after this
_MAX_QUERY_LOG = 100_000     # entries kept in DnsServer.queries
_BIND_ATTEMPTS = 50          # UDP port 0 then the same TCP port: retry when TCP is taken


# --------------------------------------------------------------------------- zones

def _name(name: str) -> str:
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") and name != "." else name


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _split_txt(text: str | bytes) -> list[bytes]:
    data = text.encode() if isinstance(text, str) else text
    return [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]


def _rdata(rtype: str, value: Any):
    """One record's dnslib RDATA from the test's compact form; ValueError if bad."""
    if rtype == "MX":
        pref, host = value.split(None, 1) if isinstance(value, str) else value
        return MX(host.strip(), int(pref))
    if rtype == "A":
        socket.inet_pton(socket.AF_INET, value)
        return A(value)
    if rtype == "AAAA":
        socket.inet_pton(socket.AF_INET6, value)
        return AAAA(value)
    if rtype == "TXT":
        if isinstance(value, list):  # explicit character-strings
            parts = [p.encode() if isinstance(p, str) else p for p in value]
            if any(len(p) > 255 for p in parts):
                raise ValueError("a TXT character-string is longer than 255 octets")
            return TXT(parts)
        return TXT(_split_txt(value))
    if rtype == "TLSA":
        usage, selector, mtype, data = value.split(None, 3) if isinstance(value, str) else value
        return TLSA(int(usage), int(selector), int(mtype), binascii.unhexlify("".join(str(data).split())))
    if rtype == "SRV":
        priority, weight, port, target = value.split(None, 3) if isinstance(value, str) else value
        return SRV(int(priority), int(weight), int(port), str(target).strip())
    if rtype == "CNAME":
        return CNAME(value)
    raise ValueError(f"record type {rtype} is not supported (use {', '.join(_TYPES)})")


def _parse_entry(name: str, spec: Any):
    if isinstance(spec, str):
        if spec.upper() not in _FAILURES:
            raise ValueError(f"{name}: a string entry must be one of {_FAILURES}, got {spec!r}")
        return spec.upper()
    if not isinstance(spec, dict):
        raise ValueError(f"{name}: records must be a dict of type -> values")
    records = {}
    for rtype, values in spec.items():
        rtype = rtype.upper()
        try:
            records[rtype] = [_rdata(rtype, v) for v in _listify(values)]
        except (ValueError, TypeError, OSError, binascii.Error) as e:
            raise ValueError(f"{name} {rtype}: {e}") from None
    if "CNAME" in records and (len(records) > 1 or len(records["CNAME"]) != 1):
        raise ValueError(f"{name}: a CNAME must be alone at its name (RFC 1034 3.6.2)")
    return records


def parse_zones(zones: dict) -> dict:
    """The server's internal form of a zones dict; raises ValueError on a bad entry."""
    return {_name(n): _parse_entry(n, spec) for n, spec in zones.items()}


# --------------------------------------------------------------------------- answers

class _Zones:
    def __init__(self, zones: dict, ttl: int):
        self.lock = threading.Lock()
        self.names = parse_zones(zones)
        self.ttl = ttl
        self.queries: list[tuple[str, str, str]] = []

    def _exists(self, name: str) -> bool:
        return name in self.names or any(n.endswith("." + name) for n in self.names)

    def _soa(self, qname: str) -> RR:
        labels = qname.split(".")
        apex = ".".join(labels[-2:]) if len(labels) >= 2 else qname
        return RR(apex, QTYPE.SOA, ttl=self.ttl,
                  rdata=SOA("ns." + apex, "hostmaster." + apex, (1, 60, 60, 600, self.ttl)))

    def answer(self, request: DNSRecord, protocol: str) -> DNSRecord | None:
        """The reply to `request`, or None to drop it."""
        reply = request.reply(ra=1, aa=1)
        q = request.q
        qname, qtype = _name(str(q.qname)), QTYPE.get(q.qtype)
        with self.lock:
            if len(self.queries) < _MAX_QUERY_LOG:
                self.queries.append((qname, str(qtype), protocol))
            name = qname
            for _ in range(_MAX_CNAME_CHAIN + 1):
                entry = self.names.get(name)
                if isinstance(entry, str):
                    if entry == "TIMEOUT":
                        return None
                    reply.header.rcode = getattr(RCODE, entry)
                    return reply
                if entry is None:
                    if not self._exists(name):
                        reply.header.rcode = RCODE.NXDOMAIN
                    reply.add_auth(self._soa(qname))
                    return reply
                if "CNAME" in entry and qtype != "CNAME":
                    target = entry["CNAME"][0]
                    reply.add_answer(RR(name, QTYPE.CNAME, ttl=self.ttl, rdata=target))
                    name = _name(str(target.label))
                    continue
                records = entry.get(str(qtype), [])
                for rdata in records:
                    reply.add_answer(RR(name, q.qtype, ttl=self.ttl, rdata=rdata))
                if not records:
                    reply.add_auth(self._soa(qname))
                return reply
            reply.header.rcode = RCODE.SERVFAIL  # CNAME chain too long or a loop
            return reply


def _udp_limit(request: DNSRecord) -> int:
    # RFC 6891 6.2.3: the requestor's UDP payload size is the OPT record's CLASS;
    # without EDNS the limit is 512 (RFC 1035 4.2.1).
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return max(512, int(rr.rclass))
    return 512


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            request = DNSRecord.parse(data)
        except DNSError:
            return
        reply = self.server.zones.answer(request, "udp")
        if reply is None:
            return
        packed = reply.pack()
        if len(packed) > _udp_limit(request):
            packed = reply.truncate().pack()
        sock.sendto(packed, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def _read(self, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def handle(self):
        self.request.settimeout(_TCP_IDLE_SECONDS)
        try:
            for _ in range(_MAX_TCP_QUERIES):
                prefix = self._read(2)
                if prefix is None:
                    return
                data = self._read(struct.unpack("!H", prefix)[0])
                if data is None:
                    return
                try:
                    request = DNSRecord.parse(data)
                except DNSError:
                    return
                reply = self.server.zones.answer(request, "tcp")
                if reply is None:
                    continue
                packed = reply.pack()
                self.request.sendall(struct.pack("!H", len(packed)) + packed)
        except OSError:
            return


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


# --------------------------------------------------------------------------- API

class DnsServer:
    """An authoritative test DNS server; see the module docstring."""

    def __init__(self, zones: dict | None = None, host: str = "127.0.0.1", port: int = 0, ttl: int = 0):
        self._zones = _Zones(zones or {}, ttl)
        self._host = host
        self._want_port = port
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self.port = 0

    # -- lifecycle
    def start(self) -> "DnsServer":
        for _ in range(_BIND_ATTEMPTS):
            udp = _UDPServer((self._host, self._want_port), _UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = _TCPServer((self._host, port), _TCPHandler)
            except OSError:
                udp.server_close()
                if self._want_port:
                    raise
                continue
            break
        else:
            raise RuntimeError("no port free for both UDP and TCP")
        self.port = port
        for server in (udp, tcp):
            server.zones = self._zones
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> "DnsServer":
        return self.start() if not self._servers else self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """"127.0.0.1:PORT", the form cartero's dns.resolver takes."""
        return f"{self._host}:{self.port}"

    # -- records
    def set(self, name: str, rtype: str, values: Any) -> None:
        """Replaces the records of one type at `name` (creating the name)."""
        rtype = rtype.upper()
        parsed = [_rdata(rtype, v) for v in _listify(values)]
        with self._zones.lock:
            entry = self._zones.names.get(_name(name))
            entry = dict(entry) if isinstance(entry, dict) else {}
            entry[rtype] = parsed
            if not parsed:
                del entry[rtype]
            self._zones.names[_name(name)] = entry

    def set_name(self, name: str, spec: Any) -> None:
        """Replaces everything at `name`: a records dict or "SERVFAIL"/"REFUSED"/"TIMEOUT"."""
        parsed = _parse_entry(name, spec)
        with self._zones.lock:
            self._zones.names[_name(name)] = parsed

    def update(self, zones: dict) -> None:
        parsed = parse_zones(zones)
        with self._zones.lock:
            self._zones.names.update(parsed)

    def remove(self, name: str) -> None:
        with self._zones.lock:
            self._zones.names.pop(_name(name), None)

    @property
    def queries(self) -> list[tuple[str, str, str]]:
        """(name, type, "udp"|"tcp") of every question received, oldest first."""
        with self._zones.lock:
            return list(self._zones.queries)

    def clear_queries(self) -> None:
        with self._zones.lock:
            self._zones.queries.clear()


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="authoritative test DNS server (127.0.0.1, UDP+TCP)")
    parser.add_argument("zones", help="JSON file: {name: {TYPE: [values]} | \"SERVFAIL\" | ...}")
    parser.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    parser.add_argument("--ttl", type=int, default=0)
    parser.add_argument("--until-stdin-closes", action="store_true",
                        help="exit when stdin reaches EOF (the parent test went away)")
    args = parser.parse_args(argv)
    with open(args.zones, encoding="utf-8") as f:
        zones = json.load(f)
    server = DnsServer(zones, port=args.port, ttl=args.ttl).start()
    print(f"port {server.port}", flush=True)
    stop = threading.Event()
    import signal
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.until_stdin_closes:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
