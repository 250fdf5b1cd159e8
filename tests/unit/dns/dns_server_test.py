"""Checks tests/support/dns_server.py with dnslib's own client: answers, rcodes,
truncation and TCP, updates while running, the command line."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from dnslib import QTYPE, RCODE, DNSRecord

from dns_server import DnsServer

ZONES = {
    "Example.test.": {"MX": ["10 mx1.example.test", [20, "mx2.example.test"]]},
    "mx1.example.test": {"A": ["127.0.0.1"], "AAAA": "::1"},
    "null.test": {"MX": "0 ."},
    "www.example.test": {"CNAME": "mx1.example.test"},
    "dangling.example.test": {"CNAME": "gone.example.test"},
    "loop1.test": {"CNAME": "loop2.test"},
    "loop2.test": {"CNAME": "loop1.test"},
    "sel._domainkey.example.test": {"TXT": "p=" + "k" * 600},
    "parts.test": {"TXT": [["abc", "def"]]},
    "_25._tcp.mx1.example.test": {"TLSA": "3 1 1 abcd"},
    "_submissions._tcp.example.test": {"SRV": ["0 1 465 mail.example.test", [5, 0, 0, "."]]},
    "exists.test": {},
    "broken.test": "SERVFAIL",
    "refused.test": "refused",
    "silent.test": "TIMEOUT",
}


def ask(server, name, qtype, tcp=False, edns=False):
    q = DNSRecord.question(name, qtype)
    if edns:
        q.add_ar(__import__("dnslib").EDNS0(udp_len=4096))
    return DNSRecord.parse(q.send("127.0.0.1", server.port, tcp=tcp, timeout=3))


class DnsServerTest(unittest.TestCase):
    def setUp(self):
        self.server = DnsServer(ZONES).start()
        self.addCleanup(self.server.stop)

    def test_rcodes(self):
        cases = [
            ("example.test", "MX", RCODE.NOERROR, 2),
            ("EXAMPLE.TEST.", "MX", RCODE.NOERROR, 2),
            ("example.test", "A", RCODE.NOERROR, 0),          # NODATA
            ("exists.test", "TXT", RCODE.NOERROR, 0),
            ("_domainkey.example.test", "TXT", RCODE.NOERROR, 0),  # empty non-terminal
            ("nowhere.test", "A", RCODE.NXDOMAIN, 0),
            ("broken.test", "MX", RCODE.SERVFAIL, 0),
            ("refused.test", "MX", RCODE.REFUSED, 0),
            ("dangling.example.test", "A", RCODE.NXDOMAIN, 1),  # CNAME to nothing (RFC 6604)
            ("loop1.test", "A", RCODE.SERVFAIL, 9),
        ]
        for name, qtype, rcode, answers in cases:
            with self.subTest(name=name, qtype=qtype):
                reply = ask(self.server, name, qtype)
                self.assertEqual(reply.header.rcode, rcode, f"got {RCODE.get(reply.header.rcode)}")
                self.assertEqual(len(reply.rr), answers)
                self.assertTrue(reply.header.aa)
                if answers == 0 and rcode in (RCODE.NOERROR, RCODE.NXDOMAIN):
                    self.assertEqual(reply.auth[0].rtype, QTYPE.SOA, "negative answers carry an SOA (RFC 2308)")

    def test_records(self):
        self.assertEqual(sorted(str(r.rdata) for r in ask(self.server, "example.test", "MX").rr),
                         ["10 mx1.example.test.", "20 mx2.example.test."])
        self.assertEqual([str(r.rdata) for r in ask(self.server, "null.test", "MX").rr], ["0 ."])
        self.assertEqual([str(r.rdata) for r in ask(self.server, "mx1.example.test", "AAAA").rr], ["::1"])
        www = ask(self.server, "www.example.test", "A").rr
        self.assertEqual([(QTYPE.get(r.rtype), str(r.rdata)) for r in www],
                         [("CNAME", "mx1.example.test."), ("A", "127.0.0.1")])
        tlsa = ask(self.server, "_25._tcp.mx1.example.test", "TLSA").rr[0].rdata
        self.assertEqual((tlsa.cert_usage, tlsa.selector, tlsa.matching_type, tlsa.cert_data), (3, 1, 1, b"\xab\xcd"))
        self.assertEqual(ask(self.server, "parts.test", "TXT").rr[0].rdata.data, [b"abc", b"def"])
        srv = sorted((r.rdata.priority, r.rdata.weight, r.rdata.port, str(r.rdata.target))
                     for r in ask(self.server, "_submissions._tcp.example.test", "SRV").rr)
        self.assertEqual(srv, [(0, 1, 465, "mail.example.test."), (5, 0, 0, ".")])

    def test_long_txt_split_truncated_over_udp_whole_over_tcp(self):
        udp = ask(self.server, "sel._domainkey.example.test", "TXT")
        self.assertTrue(udp.header.tc, "a 600-octet answer does not fit 512 octets without EDNS")
        big = ask(self.server, "sel._domainkey.example.test", "TXT", edns=True)
        self.assertFalse(big.header.tc, "fits the 4096 octets EDNS allows")
        tcp = ask(self.server, "sel._domainkey.example.test", "TXT", tcp=True)
        self.assertEqual([len(s) for s in tcp.rr[0].rdata.data], [255, 255, 92])
        self.assertEqual(b"".join(tcp.rr[0].rdata.data), b"p=" + b"k" * 600)

    def test_timeout_name_is_dropped(self):
        with self.assertRaises(OSError):  # socket.timeout
            DNSRecord.question("silent.test", "A").send("127.0.0.1", self.server.port, timeout=0.5)

    def test_updates_while_running(self):
        self.assertEqual(ask(self.server, "late.test", "A").header.rcode, RCODE.NXDOMAIN)
        self.server.set_name("late.test", {"A": "127.0.0.9"})
        self.assertEqual(str(ask(self.server, "late.test", "A").rr[0].rdata), "127.0.0.9")
        self.server.set("late.test", "MX", ["5 mx.late.test"])
        self.assertEqual(len(ask(self.server, "late.test", "A").rr), 1, "set() keeps the other types")
        self.server.set_name("late.test", "SERVFAIL")
        self.assertEqual(ask(self.server, "late.test", "A").header.rcode, RCODE.SERVFAIL)
        self.server.remove("late.test")
        self.assertEqual(ask(self.server, "late.test", "A").header.rcode, RCODE.NXDOMAIN)
        self.server.update({"a.late.test": {"TXT": "x"}})
        self.assertEqual(ask(self.server, "late.test", "TXT").header.rcode, RCODE.NOERROR)
        self.assertIn(("late.test", "A", "udp"), self.server.queries)
        self.server.clear_queries()
        self.assertEqual(self.server.queries, [])

    def test_bad_zone_is_refused(self):
        for bad in ({"a.test": {"MX": "ten mx"}}, {"a.test": {"A": "::1"}}, {"a.test": "NOPE"},
                    {"a.test": {"CNAME": "b.test", "A": "127.0.0.1"}}, {"a.test": {"SRV": "x"}}):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                DnsServer(bad)

    def test_address_and_context_manager(self):
        with DnsServer({"x.test": {"A": "127.0.0.1"}}) as other:
            self.assertEqual(other.address, f"127.0.0.1:{other.port}")
            self.assertNotEqual(other.port, self.server.port)
            self.assertEqual(len(ask(other, "x.test", "A").rr), 1)


class CommandLineTest(unittest.TestCase):
    def test_prints_port_and_serves_until_stdin_closes(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"cli.test": {"MX": "10 mx.cli.test"}}, f)
        self.addCleanup(os.unlink, f.name)
        script = os.path.join(os.path.dirname(sys.modules["dns_server"].__file__), "dns_server.py")
        proc = subprocess.Popen([sys.executable, script, f.name, "--until-stdin-closes"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^port \d+$")
            port = int(line.split()[1])
            reply = DNSRecord.parse(DNSRecord.question("cli.test", "MX").send("127.0.0.1", port, timeout=3))
            self.assertEqual(str(reply.rr[0].rdata), "10 mx.cli.test.")
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=10), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
