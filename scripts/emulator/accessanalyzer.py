"""IAM Access Analyzer (REST-JSON), which moto does not have at all.

Served: CreateAnalyzer, ListAnalyzers, GetAnalyzer, DeleteAnalyzer, ListFindings,
ListFindingsV2, GetFinding, UpdateFindings. Analyzers live in the emulator's state (created by
CreateAnalyzer or by seeding findings); findings are seeded (`state.py`), since only AWS's
analysis creates them. Filters (`eq`, `neq`, `contains`, `exists`), sort, and
`maxResults`/`nextToken` paging as the API reference describes; errors ValidationException
(400), ResourceNotFoundException (404), ConflictException (409).
"""

from __future__ import annotations

from app import ApiError, page
from state import STATE

TYPES = {
    "ACCOUNT", "ORGANIZATION", "ACCOUNT_UNUSED_ACCESS", "ORGANIZATION_UNUSED_ACCESS",
    "ACCOUNT_INTERNAL_ACCESS", "ORGANIZATION_INTERNAL_ACCESS",
}
PAGE_DEFAULT = 100
PAGE_MAX = 1000
SUMMARY_V2 = ("analyzedAt", "createdAt", "error", "id", "resource", "resourceType",
              "resourceOwnerAccount", "status", "updatedAt", "findingType")
SUMMARY_V1 = ("id", "principal", "action", "resource", "isPublic", "resourceType", "condition",
              "createdAt", "analyzedAt", "updatedAt", "status", "resourceOwnerAccount", "error", "sources")


def _analyzers(ctx) -> dict:
    return STATE.analyzers.setdefault((ctx.account, ctx.region), {})


def _by_arn(ctx, arn) -> dict:
    if not arn:
        raise ApiError("ValidationException", "analyzerArn is required")
    for analyzer in _analyzers(ctx).values():
        if analyzer["arn"] == arn:
            return analyzer
    raise ApiError("ResourceNotFoundException", f"Analyzer {arn} not found", 404)


def create_analyzer(ctx):
    p = ctx.params
    name = p.get("analyzerName")
    kind = p.get("type")
    if not name or kind not in TYPES:
        raise ApiError("ValidationException", "analyzerName and a valid type are required")
    with STATE.lock:
        if name in _analyzers(ctx):
            raise ApiError("ConflictException", f"An analyzer with the name {name} already exists", 409)
        analyzer = STATE.analyzer(ctx.account, ctx.region, name, kind, p.get("tags"), p.get("configuration"))
    return {"arn": analyzer["arn"]}


def list_analyzers(ctx):
    p = ctx.params
    with STATE.lock:
        items = sorted(_analyzers(ctx).values(), key=lambda a: (a["createdAt"], a["name"]))
        if p.get("type"):
            items = [a for a in items if a["type"] == p["type"]]
        items, token = page(items, p.get("nextToken"), p.get("maxResults"), default=PAGE_DEFAULT, maximum=PAGE_MAX)
        return {"analyzers": [dict(a) for a in items], "nextToken": token}


def get_analyzer(ctx):
    name = ctx.params.get("analyzerName")
    with STATE.lock:
        analyzer = _analyzers(ctx).get(name)
        if analyzer is None:
            raise ApiError("ResourceNotFoundException", f"Analyzer {name} not found", 404)
        return {"analyzer": dict(analyzer)}


def delete_analyzer(ctx):
    name = ctx.params.get("analyzerName")
    with STATE.lock:
        analyzer = _analyzers(ctx).pop(name, None)
        if analyzer is None:
            raise ApiError("ResourceNotFoundException", f"Analyzer {name} not found", 404)
        STATE.aa_findings.get((ctx.account, ctx.region), {}).pop(analyzer["arn"], None)
    return {}


def _field(finding: dict, key: str):
    """The value(s) of a filter key: `status`, `principal.AWS`, `condition.aws:SourceIp`..."""
    head, _, rest = key.partition(".")
    value = finding.get(head)
    if rest:
        value = (value or {}).get(rest) if isinstance(value, dict) else None
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def _matches(finding: dict, criteria: dict) -> bool:
    for key, criterion in (criteria or {}).items():
        values = _field(finding, key)
        if "eq" in criterion and not any(v in criterion["eq"] for v in values):
            return False
        if "neq" in criterion and any(v in criterion["neq"] for v in values):
            return False
        if "contains" in criterion and not any(c in v for c in criterion["contains"] for v in values):
            return False
        if "exists" in criterion and bool(values) != criterion["exists"]:
            return False
    return True


def _findings(ctx):
    p = ctx.params
    analyzer = _by_arn(ctx, p.get("analyzerArn"))
    items = list(STATE.aa_findings.get((ctx.account, ctx.region), {}).get(analyzer["arn"], {}).values())
    items = [f for f in items if _matches(f, p.get("filter"))]
    sort = p.get("sort") or {}
    attribute = sort.get("attributeName") or "createdAt"
    items.sort(key=lambda f: (str(f.get(attribute) or ""), f["id"]), reverse=sort.get("orderBy") == "DESC")
    return analyzer, items


def list_findings_v2(ctx):
    with STATE.lock:
        _, items = _findings(ctx)
        items, token = page(items, ctx.params.get("nextToken"), ctx.params.get("maxResults"),
                            default=PAGE_DEFAULT, maximum=PAGE_MAX)
        return {"findings": [{k: f.get(k) for k in SUMMARY_V2} for f in items], "nextToken": token}


def list_findings(ctx):
    with STATE.lock:
        analyzer, items = _findings(ctx)
        if analyzer["type"].endswith("UNUSED_ACCESS"):
            raise ApiError("ValidationException", "ListFindings does not serve unused access analyzers; use ListFindingsV2")
        items, token = page(items, ctx.params.get("nextToken"), ctx.params.get("maxResults"),
                            default=PAGE_DEFAULT, maximum=PAGE_MAX)
        summaries = []
        for f in items:
            s = {k: f.get(k) for k in SUMMARY_V1}
            s["condition"] = s["condition"] or {}
            summaries.append(s)
        return {"findings": summaries, "nextToken": token}


def get_finding(ctx):
    with STATE.lock:
        analyzer = _by_arn(ctx, ctx.params.get("analyzerArn"))
        finding = STATE.aa_findings.get((ctx.account, ctx.region), {}).get(analyzer["arn"], {}).get(ctx.params.get("id"))
        if finding is None:
            raise ApiError("ResourceNotFoundException", f"Finding {ctx.params.get('id')} not found", 404)
        out = {k: finding.get(k) for k in SUMMARY_V1}
        out["condition"] = out["condition"] or {}
        return {"finding": out}


def update_findings(ctx):
    p = ctx.params
    status = p.get("status")
    if status not in ("ACTIVE", "ARCHIVED"):
        raise ApiError("ValidationException", "status must be ACTIVE or ARCHIVED")
    with STATE.lock:
        analyzer = _by_arn(ctx, p.get("analyzerArn"))
        findings = STATE.aa_findings.get((ctx.account, ctx.region), {}).get(analyzer["arn"], {})
        chosen = [findings[i] for i in p.get("ids") or [] if i in findings]
        if p.get("resourceArn"):
            chosen += [f for f in findings.values() if f["resource"] == p["resourceArn"]]
        from state import now

        for f in chosen:
            if f["status"] != "RESOLVED":
                f["status"] = status
                f["updatedAt"] = now()
    return {}


HANDLERS = {
    ("accessanalyzer", "CreateAnalyzer"): create_analyzer,
    ("accessanalyzer", "ListAnalyzers"): list_analyzers,
    ("accessanalyzer", "GetAnalyzer"): get_analyzer,
    ("accessanalyzer", "DeleteAnalyzer"): delete_analyzer,
    ("accessanalyzer", "ListFindingsV2"): list_findings_v2,
    ("accessanalyzer", "ListFindings"): list_findings,
    ("accessanalyzer", "GetFinding"): get_finding,
    ("accessanalyzer", "UpdateFindings"): update_findings,
}
