"""IAM fixes over moto (query protocol, XML): moto answers, the emulator rewrites.

- GetCredentialReport: moto's report has no `<root_account>` row and a fixed GeneratedTime
  (2015-02-02). The emulator puts the root row first, as AWS does (`not_supported` for root's
  password_enabled, password_last_changed and password_next_rotation; mfa_active,
  access_key_1_active, password_last_used and user_creation_time from the seeded root, else MFA
  off, no key, `no_information`), and sets GeneratedTime to now: moto builds the report's content
  at the time of the call.
- GetAccountSummary: AccountMFAEnabled and AccountAccessKeysPresent from the seeded root (moto
  always says 0).
"""

from __future__ import annotations

import base64
import datetime as _dt
import re

from app import Raw
from state import STATE

ROOT_USER = "<root_account>"
CSV_TIME = "%Y-%m-%dT%H:%M:%S+00:00"


def _root_row(account: str) -> str:
    from shapes import parse_time

    root = STATE.root.get(account, {})
    created = parse_time(root.get("created", "2024-01-01T00:00:00Z")).strftime(CSV_TIME)
    used = root.get("password_last_used")
    used = parse_time(used).strftime(CSV_TIME) if used else "no_information"
    mfa = "true" if root.get("mfa_active") else "false"
    key = "true" if root.get("access_key_active") else "false"
    key_rotated = created if root.get("access_key_active") else "N/A"
    fields = [
        ROOT_USER, f"arn:aws:iam::{account}:root", created,
        "not_supported", used, "not_supported", "not_supported", mfa,
        key, key_rotated, "N/A", "N/A", "N/A",
        "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "false", "N/A",
    ]
    return ",".join(fields)


def _replace(xml: str, tag: str, value: str) -> str:
    return re.sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>", xml, count=1)


def get_credential_report(ctx):
    answer = ctx.forward()
    if answer.status != 200:
        return answer
    xml = answer.body.decode()
    found = re.search(r"<Content>([^<]*)</Content>", xml)
    if not found:
        return answer
    report = base64.b64decode(found.group(1)).decode()
    lines = report.split("\n")
    if not any(line.startswith(ROOT_USER + ",") for line in lines):
        lines.insert(1, _root_row(ctx.account))
    content = base64.b64encode("\n".join(lines).encode()).decode()
    xml = _replace(xml, "Content", content)
    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = _replace(xml, "GeneratedTime", generated)
    return Raw(answer.status, answer.headers, xml.encode())


def get_account_summary(ctx):
    answer = ctx.forward()
    root = STATE.root.get(ctx.account)
    if answer.status != 200 or not root:
        return answer
    xml = answer.body.decode()
    for key, on in (("AccountMFAEnabled", root.get("mfa_active")), ("AccountAccessKeysPresent", root.get("access_key_active"))):
        xml = re.sub(f"(<key>{key}</key>\\s*<value>)[^<]*(</value>)", f"\\g<1>{1 if on else 0}\\g<2>", xml)
    return Raw(answer.status, answer.headers, xml.encode())


HANDLERS = {
    ("iam", "GetCredentialReport"): get_credential_report,
    ("iam", "GetAccountSummary"): get_account_summary,
}
