"""Parses a DSN with Python's email package (an independent MIME parser) and prints
its structure as "key<TAB>value" lines (values with newlines escaped as \n), for
tests/unit/bounce/parse_test.cpp to compare.

Usage: check_dsn.py FILE   (the message bytes, CRLF line ends)
"""
import email
import email.policy
import sys


def fields(msg):
    return {k: str(v) for k, v in msg.items()}


def main() -> int:
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "defects": [type(d).__name__ for d in msg.defects],
        "content_type": msg.get_content_type(),
        "report_type": msg.get_param("report-type"),
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "to": str(msg["to"]),
        "auto_submitted": str(msg["auto-submitted"]),
        "has_date": msg["date"] is not None and msg["date"].datetime is not None,
        "message_id": str(msg["message-id"]),
        "parts": [],
    }
    parts = msg.get_payload() if msg.is_multipart() else []
    for part in parts:
        out["parts"].append(part.get_content_type())
        out["defects"] += [type(d).__name__ for d in part.defects]
    if len(parts) >= 1 and parts[0].get_content_maintype() == "text":
        out["text"] = parts[0].get_content()
    if len(parts) >= 2 and parts[1].get_content_type().endswith("delivery-status"):
        groups = parts[1].get_payload()
        out["per_message"] = fields(groups[0])
        out["recipients"] = [fields(g) for g in groups[1:]]
    if len(parts) >= 3:
        third = parts[2]
        if third.get_content_type() in ("message/rfc822", "message/global"):
            inner = third.get_payload()[0]
            out["original_subject"] = str(inner["subject"])
            out["original_body"] = inner.get_payload(decode=True).decode("utf-8", "replace") \
                if not inner.is_multipart() else ""
        else:
            out["original_headers"] = third.get_payload(decode=True).decode("utf-8", "replace")
    flat = {}
    for key, value in out.items():
        if key == "recipients":
            for i, group in enumerate(value):
                for name, v in group.items():
                    flat[f"recipient.{i}.{name}"] = v
            flat["recipients"] = str(len(value))
        elif key == "per_message":
            for name, v in value.items():
                flat[f"message.{name}"] = v
        elif isinstance(value, list):
            flat[key] = ",".join(value)
        else:
            flat[key] = str(value)
    for key, value in flat.items():
        value = value.replace("\r\n", "\n")  # line ends are checked by the C++ tests
        print(f"{key}\t" + value.replace("\\", "\\\\").replace("\n", "\\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
