"""The emulator's own state: what no AWS write API can create, and what moto does not keep.

Everything else (detectors, config rules, permission sets, alarms...) is read from moto's
in-process backends, so state created through the real APIs is answered consistently.

Seed document (`POST /soc2-emulator/seed`, JSON; every key optional; a seed adds to what is
there, `POST /moto-api/reset` clears it with moto's state):

    {
      "account": "123456789012",              # the account the rest applies to (default moto's)
      "settings": {"max_page_size": 2},       # cap every page the emulator serves (test paging);
                                              # null or 0 removes the cap
      "iam": {"root": {                       # the credential report's <root_account> row and
        "mfa_active": true,                   #   GetAccountSummary's AccountMFAEnabled
        "access_key_active": false,           #   access_key_1_active, AccountAccessKeysPresent
        "password_last_used": "2026-11-20T08:00:00Z",   # or null: no_information
        "created": "2024-01-15T09:30:00Z"}},  # user_creation_time (default 2024-01-01)
      "access_analyzer": {"findings": [{      # findings of an analyzer (created, type ACCOUNT,
        "region": "us-east-1",                #   if no analyzer has that name yet)
        "analyzer": "account-analyzer",
        "id": "optional, generated",
        "status": "ACTIVE",                   # ACTIVE | ARCHIVED | RESOLVED
        "findingType": "ExternalAccess",      # ExternalAccess | UnusedIAMRole | ...
        "resource": "arn:aws:s3:::bucket", "resourceType": "AWS::S3::Bucket",
        "principal": {"AWS": "111122223333"}, "action": ["s3:GetObject"], "isPublic": false,
        "createdAt": "...", "updatedAt": "...", "analyzedAt": "..."}]},   # default: now
      "guardduty": {"findings": [{            # GuardDuty findings, in the API's JSON form
        "region": "us-east-1", "detectorId": "optional: the region's first detector",
        "type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8.0,
        "title": "...", "description": "...", "archived": false, "count": 3,
        "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0abc"}},
        "createdAt": "...", "updatedAt": "..."}]},
      "config": {"compliance": [{             # DescribeComplianceByConfigRule, per existing rule
        "region": "us-east-1", "rule": "s3-bucket-public-read-prohibited",
        "complianceType": "NON_COMPLIANT",    # COMPLIANT | NON_COMPLIANT | INSUFFICIENT_DATA
        "count": 2}]},                        # non-compliant resources (CappedCount)
      "identity_center": {"home_region": "us-east-1"}   # ListInstances is empty elsewhere
    }

The answer lists what was seeded, with the generated ids.
"""

from __future__ import annotations

import datetime as _dt
import secrets
import threading
import uuid

from shapes import parse_time

DEFAULT_ACCOUNT = "123456789012"
UTC = _dt.timezone.utc


def now() -> _dt.datetime:
    return _dt.datetime.now(UTC)


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.settings: dict = {}
            # (account, region) -> name -> AnalyzerSummary (member names)
            self.analyzers: dict = {}
            # (account, region) -> analyzer arn -> id -> finding (member names)
            self.aa_findings: dict = {}
            # (account, region, detector id) -> id -> finding (wire form)
            self.gd_findings: dict = {}
            # (account, region) -> rule name -> {"ComplianceType", "Count", "CapExceeded"}
            self.compliance: dict = {}
            # account -> root row facts
            self.root: dict = {}
            # (account, region) -> set of (permission set arn, account id) provisioned
            self.provisioned: dict = {}
            # (account, region) -> permission set arn -> PermissionsBoundary
            self.boundaries: dict = {}
            # account -> Identity Center home region
            self.ic_home: dict = {}

    def max_page_size(self) -> int | None:
        return self.settings.get("max_page_size") or None

    # -- seeding -------------------------------------------------------------------------

    def seed(self, doc: dict) -> dict:
        if not isinstance(doc, dict):
            raise TypeError("the seed document must be a JSON object")
        account = str(doc.get("account") or DEFAULT_ACCOUNT)
        done: dict = {"account": account}
        with self.lock:
            if "settings" in doc:
                self.settings["max_page_size"] = (doc["settings"] or {}).get("max_page_size") or None
                done["settings"] = dict(self.settings)
            if "iam" in doc:
                root = (doc["iam"] or {}).get("root") or {}
                self.root.setdefault(account, {}).update(root)
                done["iam_root"] = self.root[account]
            if "identity_center" in doc:
                self.ic_home[account] = doc["identity_center"]["home_region"]
                done["identity_center_home_region"] = self.ic_home[account]
            for f in (doc.get("access_analyzer") or {}).get("findings", []):
                done.setdefault("access_analyzer_findings", []).append(self._aa_finding(account, f))
            for f in (doc.get("guardduty") or {}).get("findings", []):
                done.setdefault("guardduty_findings", []).append(self._gd_finding(account, f))
            for c in (doc.get("config") or {}).get("compliance", []):
                done.setdefault("config_compliance", []).append(self._compliance(account, c))
        return done

    def analyzer(self, account: str, region: str, name: str, kind: str = "ACCOUNT", tags=None,
                 configuration=None) -> dict:
        """Creates an analyzer (the caller checks it does not exist)."""
        analyzer = {
            "arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/{name}",
            "name": name,
            "type": kind,
            "createdAt": now(),
            "lastResourceAnalyzed": None,
            "lastResourceAnalyzedAt": None,
            "tags": tags or {},
            "status": "ACTIVE",
        }
        if configuration:
            analyzer["configuration"] = configuration
        self.analyzers.setdefault((account, region), {})[name] = analyzer
        return analyzer

    def _aa_finding(self, account: str, f: dict) -> dict:
        region = f["region"]
        name = f["analyzer"]
        analyzer = self.analyzers.get((account, region), {}).get(name) or self.analyzer(account, region, name)
        t = now()
        created = parse_time(f.get("createdAt", t))
        updated = parse_time(f.get("updatedAt", created))
        finding = {
            "id": f.get("id") or str(uuid.uuid4()),
            "status": f.get("status", "ACTIVE"),
            "findingType": f.get("findingType", "ExternalAccess"),
            "resource": f.get("resource"),
            "resourceType": f["resourceType"],
            "resourceOwnerAccount": f.get("resourceOwnerAccount", account),
            "createdAt": created,
            "updatedAt": updated,
            "analyzedAt": parse_time(f.get("analyzedAt", updated)),
            "principal": f.get("principal"),
            "action": f.get("action"),
            "isPublic": f.get("isPublic"),
            "condition": f.get("condition", {}),
            "error": f.get("error"),
            "sources": f.get("sources"),
        }
        if finding["status"] not in ("ACTIVE", "ARCHIVED", "RESOLVED"):
            raise ValueError(f"finding status {finding['status']!r}")
        per = self.aa_findings.setdefault((account, region), {}).setdefault(analyzer["arn"], {})
        per[finding["id"]] = finding
        previous = analyzer["lastResourceAnalyzedAt"]
        if previous is None or finding["analyzedAt"] >= previous:
            analyzer["lastResourceAnalyzed"] = finding["resource"]
            analyzer["lastResourceAnalyzedAt"] = finding["analyzedAt"]
        return {"region": region, "analyzer": analyzer["arn"], "id": finding["id"]}

    def _gd_finding(self, account: str, f: dict) -> dict:
        from moto.guardduty.models import guardduty_backends

        region = f["region"]
        detectors = guardduty_backends[account][region].detectors
        detector_id = f.get("detectorId") or (sorted(detectors)[0] if detectors else None)
        if detector_id is None or detector_id not in detectors:
            raise ValueError(f"no GuardDuty detector {detector_id or ''} in {region} of {account}: "
                             "create one with CreateDetector before seeding findings")
        t = now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        finding_id = f.get("id") or secrets.token_hex(16)
        created = f.get("createdAt", t)
        updated = f.get("updatedAt", t)
        finding = {
            "accountId": account,
            "arn": f"arn:aws:guardduty:{region}:{account}:detector/{detector_id}/finding/{finding_id}",
            "createdAt": created,
            "description": f.get("description", ""),
            "id": finding_id,
            "partition": "aws",
            "region": region,
            "resource": f.get("resource", {"resourceType": "Instance"}),
            "schemaVersion": "2.0",
            "service": {
                "archived": bool(f.get("archived", False)),
                "count": int(f.get("count", 1)),
                "detectorId": detector_id,
                "eventFirstSeen": f.get("eventFirstSeen", created),
                "eventLastSeen": f.get("eventLastSeen", updated),
                "resourceRole": "TARGET",
                "serviceName": "guardduty",
            },
            "severity": float(f["severity"]),
            "title": f.get("title", f.get("type", "")),
            "type": f["type"],
            "updatedAt": updated,
        }
        self.gd_findings.setdefault((account, region, detector_id), {})[finding_id] = finding
        return {"region": region, "detectorId": detector_id, "id": finding_id}

    def _compliance(self, account: str, c: dict) -> dict:
        from moto.config.models import config_backends

        region = c["region"]
        rule = c["rule"]
        if rule not in config_backends[account][region].config_rules:
            raise ValueError(f"no config rule {rule!r} in {region} of {account}: create it with PutConfigRule first")
        kind = c.get("complianceType", "COMPLIANT")
        if kind not in ("COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA", "NOT_APPLICABLE"):
            raise ValueError(f"complianceType {kind!r}")
        self.compliance.setdefault((account, region), {})[rule] = {
            "ComplianceType": kind,
            "Count": c.get("count"),
            "CapExceeded": bool(c.get("capExceeded", False)),
        }
        return {"region": region, "rule": rule, "complianceType": kind}

    def dump(self) -> dict:
        with self.lock:
            def keyed(d):
                return {"|".join(k) if isinstance(k, tuple) else k: v for k, v in d.items()}

            return {
                "settings": self.settings,
                "analyzers": keyed(self.analyzers),
                "access_analyzer_findings": keyed(self.aa_findings),
                "guardduty_findings": keyed(self.gd_findings),
                "config_compliance": keyed(self.compliance),
                "iam_root": self.root,
                "sso_provisioned": {k: sorted(v) for k, v in keyed(self.provisioned).items()},
                "sso_boundaries": keyed(self.boundaries),
                "identity_center_home_region": self.ic_home,
            }


STATE = State()
