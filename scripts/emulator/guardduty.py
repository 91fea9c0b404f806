"""GuardDuty findings and statistics (REST-JSON), over moto's detectors.

moto serves CreateDetector/ListDetectors/GetDetector/UpdateDetector; it answers 404 to every
findings call. Served here: ListFindings (FindingCriteria with eq/neq/gt/gte/lt/lte and their
newer names equals/notEquals/greaterThan/greaterThanOrEqual/lessThan/lessThanOrEqual, on any
dotted field such as `service.archived`, `severity`, `updatedAt` (epoch milliseconds), `type`,
`resource.instanceDetails.instanceId`; SortCriteria; MaxResults 1-50, NextToken),
GetFindings (at most 50 ids), GetFindingsStatistics (COUNT_BY_SEVERITY and GroupBy ACCOUNT,
DATE, FINDING_TYPE, RESOURCE, SEVERITY; OrderBy; MaxResults 1-100), ArchiveFindings and
UnarchiveFindings. Findings are seeded (`state.py`). A detector id that moto does not know is a
BadRequestException, as in AWS.
"""

from __future__ import annotations

import collections

import shapes
from app import ApiError, page
from state import STATE

TIME_FIELDS = {"createdAt", "updatedAt", "service.eventFirstSeen", "service.eventLastSeen"}


def _detector(ctx) -> str:
    from moto.guardduty.models import guardduty_backends

    detector_id = ctx.params.get("DetectorId")
    if detector_id not in guardduty_backends[ctx.account][ctx.region].detectors:
        raise ApiError("BadRequestException",
                       "The request is rejected because the input detectorId is not owned by the current account.")
    return detector_id


def _store(ctx, detector_id) -> dict:
    return STATE.gd_findings.setdefault((ctx.account, ctx.region, detector_id), {})


def _values(finding: dict, path: str) -> list:
    current = [finding]
    for part in path.split("."):
        following = []
        for item in current:
            value = item.get(part) if isinstance(item, dict) else None
            if isinstance(value, list):
                following.extend(value)
            elif value is not None:
                following.append(value)
        current = following
    if path in TIME_FIELDS:
        return [shapes.parse_time(v).timestamp() * 1000 for v in current]
    return current


def _text(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _matches(finding: dict, criteria: dict) -> bool:
    for path, condition in (criteria or {}).items():
        values = _values(finding, path)
        texts = [_text(v) for v in values]
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        for key in ("Eq", "Equals"):
            if key in condition and not any(
                t in condition[key] or (_number(t) is not None and _number(t) in {_number(c) for c in condition[key]})
                for t in texts
            ):
                return False
        for key in ("Neq", "NotEquals"):
            if key in condition and any(t in condition[key] for t in texts):
                return False
        for key, test in (("Gt", float.__gt__), ("GreaterThan", float.__gt__),
                          ("Gte", float.__ge__), ("GreaterThanOrEqual", float.__ge__),
                          ("Lt", float.__lt__), ("LessThan", float.__lt__),
                          ("Lte", float.__le__), ("LessThanOrEqual", float.__le__)):
            if key in condition and not any(test(n, float(condition[key])) for n in numbers):
                return False
    return True


def _selected(ctx, detector_id) -> list:
    criteria = (ctx.params.get("FindingCriteria") or {}).get("Criterion")
    items = [f for f in _store(ctx, detector_id).values() if _matches(f, criteria)]
    sort = ctx.params.get("SortCriteria") or {}
    if sort.get("AttributeName"):
        def key(f):
            values = _values(f, sort["AttributeName"])
            return (0, values[0], f["id"]) if values and _number(values[0]) is not None else (1, _text(values[0]) if values else "", f["id"])
        items.sort(key=key, reverse=sort.get("OrderBy") == "DESC")
    else:
        items.sort(key=lambda f: (f["createdAt"], f["id"]))
    return items


def list_findings(ctx):
    with STATE.lock:
        detector_id = _detector(ctx)
        items = _selected(ctx, detector_id)
        items, token = page(items, ctx.params.get("NextToken"), ctx.params.get("MaxResults"), default=50, maximum=50,
                            token_error="BadRequestException", limit_error="BadRequestException")
        return {"FindingIds": [f["id"] for f in items], "NextToken": token}


def get_findings(ctx):
    ids = ctx.params.get("FindingIds") or []
    if len(ids) > 50:
        raise ApiError("BadRequestException", "The request is rejected because findingIds has more than 50 items.")
    shape = shapes.model("guardduty").shape_for("Finding")
    with STATE.lock:
        store = _store(ctx, _detector(ctx))
        found = [store[i] for i in ids if i in store]
        findings = [shapes.from_wire(f, shape, "rest-json") for f in found]
    sort = ctx.params.get("SortCriteria") or {}
    if sort.get("AttributeName"):
        order = {f["id"]: n for n, f in enumerate(_selected_order(found, sort))}
        findings.sort(key=lambda f: order[f["Id"]])
    return {"Findings": findings}


def _selected_order(found, sort):
    def key(f):
        values = _values(f, sort["AttributeName"])
        return _text(values[0]) if values else ""
    return sorted(found, key=key, reverse=sort.get("OrderBy") == "DESC")


def get_findings_statistics(ctx):
    p = ctx.params
    group_by = p.get("GroupBy")
    kinds = p.get("FindingStatisticTypes") or []
    if not group_by and not kinds:
        raise ApiError("BadRequestException", "Either groupBy or findingStatisticTypes is required.")
    limit = p.get("MaxResults", 25)
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ApiError("BadRequestException", "maxResults must be between 1 and 100.")
    with STATE.lock:
        items = _selected(ctx, _detector(ctx))
    stats: dict = {}
    if "COUNT_BY_SEVERITY" in kinds:
        counts = collections.Counter(str(float(f["severity"])) for f in items)
        stats["CountBySeverity"] = dict(counts)
    if group_by:
        key_of = {
            "ACCOUNT": lambda f: (f["accountId"],),
            "DATE": lambda f: (shapes.parse_time(f["updatedAt"]).strftime("%Y-%m-%d"),),
            "FINDING_TYPE": lambda f: (f["type"],),
            "RESOURCE": lambda f: (f["accountId"], _resource_id(f), f["resource"].get("resourceType")),
            "SEVERITY": lambda f: (float(f["severity"]),),
        }.get(group_by)
        if key_of is None:
            raise ApiError("BadRequestException", f"groupBy {group_by!r} is not valid.")
        groups: dict = {}
        for f in items:
            groups.setdefault(key_of(f), []).append(f)
        rows = []
        for key, members in groups.items():
            last = max(shapes.parse_time(m["updatedAt"]) for m in members)
            row = {"TotalFindings": len(members), "LastGeneratedAt": last}
            if group_by == "ACCOUNT":
                row["AccountId"] = key[0]
            elif group_by == "DATE":
                row.update(Date=key[0], Severity=max(float(m["severity"]) for m in members))
            elif group_by == "FINDING_TYPE":
                row["FindingType"] = key[0]
            elif group_by == "RESOURCE":
                row.update(AccountId=key[0], ResourceId=key[1], ResourceType=key[2])
            else:
                row.update(Severity=key[0], Percentage=round(100.0 * len(members) / len(items), 2))
            rows.append(row)
        rows.sort(key=lambda r: (r["TotalFindings"], str(r)), reverse=p.get("OrderBy", "DESC") != "ASC")
        rows = rows[:limit]
        name = {"ACCOUNT": "GroupedByAccount", "DATE": "GroupedByDate", "FINDING_TYPE": "GroupedByFindingType",
                "RESOURCE": "GroupedByResource", "SEVERITY": "GroupedBySeverity"}[group_by]
        stats[name] = rows
    return {"FindingStatistics": stats}


def _resource_id(f: dict) -> str:
    r = f.get("resource") or {}
    for path in ("instanceDetails.instanceId", "accessKeyDetails.accessKeyId", "s3BucketDetails.name",
                 "eksClusterDetails.name", "lambdaDetails.functionName"):
        values = _values(r, path)
        if values:
            return str(values[0])
    return ""


def _archive(flag: bool):
    def handler(ctx):
        ids = ctx.params.get("FindingIds") or []
        if not 1 <= len(ids) <= 50:
            raise ApiError("BadRequestException", "findingIds must have between 1 and 50 items.")
        with STATE.lock:
            store = _store(ctx, _detector(ctx))
            for i in ids:
                if i in store:
                    store[i]["service"]["archived"] = flag
        return {}
    return handler


HANDLERS = {
    ("guardduty", "ListFindings"): list_findings,
    ("guardduty", "GetFindings"): get_findings,
    ("guardduty", "GetFindingsStatistics"): get_findings_statistics,
    ("guardduty", "ArchiveFindings"): _archive(True),
    ("guardduty", "UnarchiveFindings"): _archive(False),
}
