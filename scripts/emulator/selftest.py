#!/usr/bin/env python3
"""Self-test of the test emulator: starts server.py on a free 127.0.0.1 port, exercises every
call it serves through boto3 (and CloudWatch's rpc-v2-cbor through raw HTTP with hand-made CBOR
bodies), checks shapes, errors and paging (2+ pages wherever the API pages), then stops the
server by its pid.

Usage: .venv/bin/python scripts/emulator/selftest.py [-v]
Exit status 0 when every check passes; the failures are listed otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cbor  # noqa: E402

ACCOUNT = "123456789012"
FAILURES: list[str] = []
VERBOSE = "-v" in sys.argv


def check(name: str, condition: bool, detail="") -> None:
    if condition:
        if VERBOSE:
            print(f"ok    {name}")
    else:
        FAILURES.append(f"{name}: {detail}")
        print(f"FAIL  {name}: {detail}")


def expect_error(name: str, fn, code: str, status: int | None = None) -> None:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - botocore ClientError carries the code
        got = getattr(e, "response", {}).get("Error", {}).get("Code")
        got_status = getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        check(name, got == code and (status is None or got_status == status), f"got {got} {got_status}: {e}")
        return
    check(name, False, f"no error, expected {code}")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pages(fn, result_key: str, token_in: str, token_out: str, **kw) -> tuple[list, int]:
    """Every item of a listing, following tokens by hand; (items, number of pages)."""
    items, count, token = [], 0, None
    while True:
        args = dict(kw)
        if token:
            args[token_in] = token
        answer = fn(**args)
        items += answer[result_key]
        count += 1
        token = answer.get(token_out)
        if not token or count > 50:
            return items, count


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def seed(url: str, doc: dict) -> dict:
    status, _, body = post(url + "/soc2-emulator/seed", json.dumps(doc).encode(), {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"seed failed: {status} {body!r}")
    return json.loads(body)


def cbor_call(url: str, op: str, body: bytes, region: str = "us-east-1"):
    headers = {
        "Content-Type": "application/cbor",
        "Accept": "application/cbor",
        "smithy-protocol": "rpc-v2-cbor",
        "X-Amz-Query-Mode": "true",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261129/{region}/monitoring/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    status, headers, raw = post(f"{url}/service/GraniteServiceVersion20100801/operation/{op}", body, headers)
    return status, {k.lower(): v for k, v in headers.items()}, cbor.decode(raw) if raw else {}


def text_cbor(text: str) -> bytes:
    """A CBOR text string, by hand (strings here are under 24 bytes)."""
    raw = text.encode()
    assert len(raw) < 24
    return bytes([0x60 | len(raw)]) + raw


def run(url: str) -> None:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    cfg = Config(retries={"max_attempts": 1})

    def client(service: str, region: str = "us-east-1"):
        return session.client(service, endpoint_url=url, region_name=region, config=cfg)

    # -- readiness, private endpoints, reset ----------------------------------------------
    with urllib.request.urlopen(url + "/moto-api/", timeout=10) as answer:
        check("GET /moto-api/ is 200", answer.status == 200)
    status, _, _ = post(url + "/soc2-emulator/seed", b"[1]", {"Content-Type": "application/json"})
    check("a bad seed document is 400", status == 400, status)

    # -- Access Analyzer --------------------------------------------------------------------
    aa = client("accessanalyzer")
    arn = aa.create_analyzer(analyzerName="acct", type="ACCOUNT", tags={"team": "sec"})["arn"]
    check("CreateAnalyzer arn", arn == f"arn:aws:access-analyzer:us-east-1:{ACCOUNT}:analyzer/acct", arn)
    aa.create_analyzer(analyzerName="unused", type="ACCOUNT_UNUSED_ACCESS",
                       configuration={"unusedAccess": {"unusedAccessAge": 90}})
    expect_error("CreateAnalyzer twice: ConflictException 409",
                 lambda: aa.create_analyzer(analyzerName="acct", type="ACCOUNT"), "ConflictException", 409)
    expect_error("GetAnalyzer unknown: ResourceNotFoundException 404",
                 lambda: aa.get_analyzer(analyzerName="nope"), "ResourceNotFoundException", 404)
    got = aa.get_analyzer(analyzerName="acct")["analyzer"]
    check("GetAnalyzer shape", got["status"] == "ACTIVE" and got["type"] == "ACCOUNT" and got["tags"] == {"team": "sec"}
          and isinstance(got["createdAt"], dt.datetime), got)
    listed, n = pages(aa.list_analyzers, "analyzers", "nextToken", "nextToken", maxResults=1)
    check("ListAnalyzers pages", [a["name"] for a in listed] == ["acct", "unused"] and n == 2, (listed, n))
    check("ListAnalyzers type filter", [a["name"] for a in aa.list_analyzers(type="ACCOUNT")["analyzers"]] == ["acct"])
    check("unused-access configuration kept",
          aa.get_analyzer(analyzerName="unused")["analyzer"]["configuration"]["unusedAccess"]["unusedAccessAge"] == 90)
    statuses = ["ACTIVE", "ACTIVE", "ARCHIVED", "RESOLVED"]
    seed(url, {"access_analyzer": {"findings": [
        {"region": "us-east-1", "analyzer": "acct", "id": f"f-{i}", "status": s, "resource": f"arn:aws:s3:::b{i}",
         "resourceType": "AWS::S3::Bucket", "principal": {"AWS": "*"}, "action": ["s3:GetObject"], "isPublic": i == 0,
         "createdAt": f"2026-0{i + 1}-01T00:00:00Z"} for i, s in enumerate(statuses)]}})
    findings, n = pages(aa.list_findings_v2, "findings", "nextToken", "nextToken", analyzerArn=arn, maxResults=3)
    check("ListFindingsV2 every status over 2 pages", sorted(f["status"] for f in findings) == sorted(statuses) and n == 2,
          (findings, n))
    f0 = findings[0]
    check("FindingSummaryV2 shape", f0["id"] == "f-0" and f0["findingType"] == "ExternalAccess"
          and f0["resourceOwnerAccount"] == ACCOUNT and isinstance(f0["analyzedAt"], dt.datetime), f0)
    active = aa.list_findings_v2(analyzerArn=arn, filter={"status": {"eq": ["ACTIVE"]}})["findings"]
    check("ListFindingsV2 status filter", [f["id"] for f in active] == ["f-0", "f-1"], active)
    v1, n = pages(aa.list_findings, "findings", "nextToken", "nextToken", analyzerArn=arn, maxResults=2,
                  filter={"isPublic": {"eq": ["true"]}})
    check("ListFindings (v1) isPublic filter", [f["id"] for f in v1] == ["f-0"] and v1[0]["isPublic"] is True
          and v1[0]["principal"] == {"AWS": "*"}, v1)
    desc = aa.list_findings_v2(analyzerArn=arn, sort={"attributeName": "createdAt", "orderBy": "DESC"})["findings"]
    check("ListFindingsV2 sort DESC", [f["id"] for f in desc] == ["f-3", "f-2", "f-1", "f-0"], desc)
    aa.update_findings(analyzerArn=arn, status="ARCHIVED", ids=["f-1"])
    check("UpdateFindings archives", aa.get_finding(analyzerArn=arn, id="f-1")["finding"]["status"] == "ARCHIVED")
    expect_error("ListFindingsV2 bad token: ValidationException",
                 lambda: aa.list_findings_v2(analyzerArn=arn, nextToken="garbage"), "ValidationException", 400)
    expect_error("ListFindingsV2 unknown analyzer: ResourceNotFoundException",
                 lambda: aa.list_findings_v2(analyzerArn=arn + "x"), "ResourceNotFoundException", 404)
    check("analyzers are regional", client("accessanalyzer", "eu-west-1").list_analyzers()["analyzers"] == [])

    # -- GuardDuty ---------------------------------------------------------------------------
    gd = client("guardduty")
    detector = gd.create_detector(Enable=True)["DetectorId"]
    check("moto still serves GetDetector", gd.get_detector(DetectorId=detector)["Status"] == "ENABLED")
    now = dt.datetime.now(dt.timezone.utc)
    old = (now - dt.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    specs = [(8.0, False, None), (9.1, False, None), (7.5, True, None), (5.0, False, None), (2.0, False, None),
             (8.5, True, old)]
    made = seed(url, {"guardduty": {"findings": [
        {"region": "us-east-1", "type": f"Test:EC2/Type{i}", "severity": sev, "archived": arch,
         "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": f"i-{i}"}},
         **({"createdAt": when, "updatedAt": when} if when else {})}
        for i, (sev, arch, when) in enumerate(specs)]}})["guardduty_findings"]
    check("seeded findings go to the region's detector", all(m["detectorId"] == detector for m in made), made)
    ids, n = pages(gd.list_findings, "FindingIds", "NextToken", "NextToken", DetectorId=detector, MaxResults=4)
    check("ListFindings pages", len(ids) == 6 and n == 2, (ids, n))
    open_severe = gd.list_findings(DetectorId=detector, FindingCriteria={"Criterion": {
        "service.archived": {"Equals": ["false"]}, "severity": {"GreaterThanOrEqual": 7}}})["FindingIds"]
    check("ListFindings unarchived severity >= 7", sorted(open_severe) == sorted([made[0]["id"], made[1]["id"]]), open_severe)
    since = int((now - dt.timedelta(days=365)).timestamp() * 1000)
    reviewed = gd.list_findings(DetectorId=detector, FindingCriteria={"Criterion": {
        "service.archived": {"Equals": ["true"]}, "severity": {"GreaterThanOrEqual": 7},
        "updatedAt": {"GreaterThanOrEqual": since}}})["FindingIds"]
    check("ListFindings archived within the lookback (updatedAt epoch ms)", reviewed == [made[2]["id"]], reviewed)
    legacy = gd.list_findings(DetectorId=detector, FindingCriteria={"Criterion": {"severity": {"Gte": 9}}})["FindingIds"]
    check("ListFindings legacy gte", legacy == [made[1]["id"]], legacy)
    details = gd.get_findings(DetectorId=detector, FindingIds=[made[0]["id"], made[2]["id"]])["Findings"]
    d0 = {f["Id"]: f for f in details}[made[0]["id"]]
    check("GetFindings shape", d0["Severity"] == 8.0 and d0["Service"]["Archived"] is False
          and d0["Resource"]["InstanceDetails"]["InstanceId"] == "i-0" and d0["AccountId"] == ACCOUNT
          and d0["Arn"].endswith(f"/finding/{made[0]['id']}") and d0["Service"]["DetectorId"] == detector, d0)
    expect_error("GetFindings > 50 ids: BadRequestException",
                 lambda: gd.get_findings(DetectorId=detector, FindingIds=[f"x{i}" for i in range(51)]), "BadRequestException", 400)
    stats = gd.get_findings_statistics(DetectorId=detector, GroupBy="SEVERITY", MaxResults=100, FindingCriteria={
        "Criterion": {"service.archived": {"Equals": ["false"]}}})["FindingStatistics"]["GroupedBySeverity"]
    check("GetFindingsStatistics by severity (unarchived)", sorted(g["Severity"] for g in stats) == [2.0, 5.0, 8.0, 9.1]
          and all(g["TotalFindings"] == 1 and isinstance(g["LastGeneratedAt"], dt.datetime) for g in stats), stats)
    legacy_stats = gd.get_findings_statistics(DetectorId=detector, FindingStatisticTypes=["COUNT_BY_SEVERITY"])
    check("GetFindingsStatistics COUNT_BY_SEVERITY", sum(legacy_stats["FindingStatistics"]["CountBySeverity"].values()) == 6,
          legacy_stats)
    by_type = gd.get_findings_statistics(DetectorId=detector, GroupBy="FINDING_TYPE", MaxResults=2)
    check("GetFindingsStatistics MaxResults", len(by_type["FindingStatistics"]["GroupedByFindingType"]) == 2, by_type)
    gd.archive_findings(DetectorId=detector, FindingIds=[made[0]["id"]])
    check("ArchiveFindings", gd.get_findings(DetectorId=detector, FindingIds=[made[0]["id"]])["Findings"][0]["Service"]["Archived"])
    gd.unarchive_findings(DetectorId=detector, FindingIds=[made[0]["id"]])
    expect_error("ListFindings unknown detector: BadRequestException",
                 lambda: gd.list_findings(DetectorId="0" * 32), "BadRequestException", 400)
    expect_error("ListFindings MaxResults 51: BadRequestException",
                 lambda: gd.list_findings(DetectorId=detector, MaxResults=51), "BadRequestException", 400)

    # -- IAM credential report and account summary ------------------------------------------
    iam = client("iam")
    iam.create_user(UserName="u1")
    iam.generate_credential_report()
    report = iam.get_credential_report()
    rows = report["Content"].decode().splitlines()
    check("credential report: root row first", rows[1].startswith(f"<root_account>,arn:aws:iam::{ACCOUNT}:root,")
          and rows[2].startswith("u1,"), rows[:3])
    root = dict(zip(rows[0].split(","), rows[1].split(",")))
    check("credential report: root sentinels", root["password_enabled"] == "not_supported"
          and root["password_last_changed"] == "not_supported" and root["password_next_rotation"] == "not_supported"
          and root["mfa_active"] == "false" and root["cert_2_last_rotated"] == "N/A" and len(root) == 22, root)
    age = abs((dt.datetime.now(dt.timezone.utc) - report["GeneratedTime"]).total_seconds())
    check("credential report: GeneratedTime is now", age < 120, report["GeneratedTime"])
    seed(url, {"iam": {"root": {"mfa_active": True, "password_last_used": "2026-11-01T10:00:00Z"}}})
    rows = iam.get_credential_report()["Content"].decode().splitlines()
    root = dict(zip(rows[0].split(","), rows[1].split(",")))
    check("credential report: seeded root", root["mfa_active"] == "true"
          and root["password_last_used"] == "2026-11-01T10:00:00+00:00", root)
    summary = iam.get_account_summary()["SummaryMap"]
    check("GetAccountSummary AccountMFAEnabled from the seed", summary["AccountMFAEnabled"] == 1
          and summary["AccountAccessKeysPresent"] == 0, summary)

    # -- CloudWatch: boto3 (awsJson) and raw rpc-v2-cbor -------------------------------------
    cw = client("cloudwatch")
    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    for i in range(5):
        cw.put_metric_alarm(AlarmName=f"cis-{i}", MetricName=f"M{i}", Namespace="CIS", Statistic="Sum", Period=300,
                            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                            AlarmActions=[topic] if i % 2 == 0 else [])
    cw.put_metric_alarm(AlarmName="other", MetricName="X", Namespace="N", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=0.5, ComparisonOperator="GreaterThanThreshold")
    alarms, n = pages(cw.describe_alarms, "MetricAlarms", "NextToken", "NextToken", MaxRecords=2)
    check("DescribeAlarms (awsJson) pages, sorted", [a["AlarmName"] for a in alarms] ==
          ["cis-0", "cis-1", "cis-2", "cis-3", "cis-4", "other"] and n == 3, ([a["AlarmName"] for a in alarms], n))
    both = cw.describe_alarms(AlarmNamePrefix="cis-", ActionPrefix="arn:aws:sns:")["MetricAlarms"]
    check("DescribeAlarms filters combine", [a["AlarmName"] for a in both] == ["cis-0", "cis-2", "cis-4"], both)
    check("DescribeAlarms StateValue", cw.describe_alarms(StateValue="ALARM")["MetricAlarms"] == [])
    expect_error("DescribeAlarms names and prefix: InvalidParameterCombination",
                 lambda: cw.describe_alarms(AlarmNames=["a"], AlarmNamePrefix="b"), "InvalidParameterCombination", 400)
    expect_error("DescribeAlarms bad token: InvalidNextToken",
                 lambda: cw.describe_alarms(NextToken="bad"), "InvalidNextToken", 400)

    # hand-made CBOR: {"MaxRecords": 2, "AlarmNamePrefix": "cis-"} as an indefinite-length map
    body = b"\xbf" + text_cbor("MaxRecords") + b"\x02" + text_cbor("AlarmNamePrefix") + text_cbor("cis-") + b"\xff"
    status, headers, first = cbor_call(url, "DescribeAlarms", body)
    check("CBOR DescribeAlarms 200 with smithy-protocol", status == 200 and headers.get("smithy-protocol") == "rpc-v2-cbor"
          and headers.get("content-type") == "application/cbor", (status, headers))
    a0 = first["MetricAlarms"][0]
    check("CBOR DescribeAlarms shape", [a["AlarmName"] for a in first["MetricAlarms"]] == ["cis-0", "cis-1"]
          and a0["AlarmActions"] == [topic] and a0["MetricName"] == "M0" and a0["Namespace"] == "CIS"
          and isinstance(a0["Threshold"], float) and isinstance(a0["Period"], int)
          and isinstance(a0["StateUpdatedTimestamp"], dt.datetime) and "NextToken" in first, first)
    token = first["NextToken"].encode()
    body = b"\xa3" + text_cbor("MaxRecords") + b"\x02" + text_cbor("AlarmNamePrefix") + text_cbor("cis-") \
        + text_cbor("NextToken") + bytes([0x60 | len(token)]) + token
    status, _, second = cbor_call(url, "DescribeAlarms", body)
    check("CBOR DescribeAlarms second page", status == 200 and [a["AlarmName"] for a in second["MetricAlarms"]] ==
          ["cis-2", "cis-3"], second)
    status, headers, error = cbor_call(url, "DescribeAlarms", b"\xa1" + text_cbor("NextToken") + text_cbor("nope"))
    check("CBOR error: 400, __type and x-amzn-query-error", status == 400 and error.get("__type", "").endswith("#InvalidNextToken")
          and headers.get("x-amzn-query-error", "").startswith("InvalidNextToken;"), (status, headers, error))
    put = cbor.encode({"AlarmName": "cbor-alarm", "MetricName": "RootAccountUsage", "Namespace": "CISBenchmark",
                       "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0,
                       "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": [topic]})
    status, _, _ = cbor_call(url, "PutMetricAlarm", put)
    check("CBOR PutMetricAlarm", status == 200, status)
    made_alarm = cw.describe_alarms(AlarmNames=["cbor-alarm"])["MetricAlarms"]
    check("an alarm put in CBOR is seen in awsJson", len(made_alarm) == 1 and made_alarm[0]["AlarmActions"] == [topic],
          made_alarm)
    status, _, error = cbor_call(url, "PutMetricAlarm", cbor.encode({"MetricName": "x"}))
    check("CBOR PutMetricAlarm without required fields: MissingParameter",
          status == 400 and error.get("__type", "").endswith("#MissingParameter"), (status, error))

    # -- CloudWatch Logs and SNS: moto's own --------------------------------------------------
    logs = client("logs")
    logs.create_log_group(logGroupName="trail")
    logs.put_metric_filter(logGroupName="trail", filterName="root", filterPattern='{ $.userIdentity.type = "Root" }',
                           metricTransformations=[{"metricName": "RootAccountUsage", "metricNamespace": "CIS",
                                                   "metricValue": "1"}])
    mf = logs.describe_metric_filters(logGroupName="trail")["metricFilters"]
    check("moto: DescribeMetricFilters by logGroupName", [f["filterName"] for f in mf] == ["root"], mf)
    sns = client("sns")
    topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="sec@example.com")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    check("moto: ListSubscriptionsByTopic", [s["Endpoint"] for s in subs] == ["sec@example.com"], subs)

    # -- CloudTrail default event selector -------------------------------------------------------
    client("s3").create_bucket(Bucket="selftest-trail-logs")
    ct = client("cloudtrail")
    ct.create_trail(Name="selftest-trail", S3BucketName="selftest-trail-logs", IsMultiRegionTrail=True)
    selectors = ct.get_event_selectors(TrailName="selftest-trail")["EventSelectors"]
    check("a new trail logs all management events", selectors and selectors[0]["ReadWriteType"] == "All"
          and selectors[0]["IncludeManagementEvents"] is True, selectors)

    # -- AWS Config -----------------------------------------------------------------------------
    config = client("config")
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    client("s3").create_bucket(Bucket="selftest-config")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "selftest-config"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]
    check("recorder status SUCCESS while recording", status["recording"] and status["lastStatus"] == "SUCCESS", status)
    channel = config.describe_delivery_channel_status()["DeliveryChannelsStatus"][0]
    check("DescribeDeliveryChannelStatus", channel["name"] == "default"
          and channel["configHistoryDeliveryInfo"]["lastStatus"] == "SUCCESS", channel)
    rules = [("r-compliant", "COMPLIANT"), ("r-noncompliant", "NON_COMPLIANT"), ("r-unevaluated", None)]
    for name, _ in rules:
        config.put_config_rule(ConfigRule={"ConfigRuleName": name, "Source": {
            "Owner": "AWS", "SourceIdentifier": "S3_BUCKET_PUBLIC_READ_PROHIBITED"}})
    seed(url, {"config": {"compliance": [{"region": "us-east-1", "rule": n, "complianceType": k, "count": 3}
                                         for n, k in rules if k]}})
    every = config.describe_compliance_by_config_rule()["ComplianceByConfigRules"]
    by = {r["ConfigRuleName"]: r["Compliance"] for r in every}
    check("DescribeComplianceByConfigRule", by["r-compliant"]["ComplianceType"] == "COMPLIANT"
          and by["r-noncompliant"]["ComplianceContributorCount"] == {"CappedCount": 3, "CapExceeded": False}
          and by["r-unevaluated"]["ComplianceType"] == "INSUFFICIENT_DATA", by)
    only = config.describe_compliance_by_config_rule(ComplianceTypes=["NON_COMPLIANT"])["ComplianceByConfigRules"]
    check("DescribeComplianceByConfigRule ComplianceTypes", [r["ConfigRuleName"] for r in only] == ["r-noncompliant"], only)
    expect_error("DescribeComplianceByConfigRule unknown rule: NoSuchConfigRuleException",
                 lambda: config.describe_compliance_by_config_rule(ConfigRuleNames=["nope"]), "NoSuchConfigRuleException")

    # -- Identity Center (sso-admin) and identitystore -------------------------------------------
    sso = client("sso-admin")
    instances = sso.list_instances()["Instances"]
    check("ListInstances", len(instances) == 1 and instances[0]["Status"] == "ACTIVE", instances)
    instance, store = instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]
    ps_arns = []
    for i in range(3):
        ps_arns.append(sso.create_permission_set(InstanceArn=instance, Name=f"ps{i}", Description=f"set {i}",
                                                 **({"SessionDuration": "PT8H"} if i else {}))
                       ["PermissionSet"]["PermissionSetArn"])
    listed, n = pages(sso.list_permission_sets, "PermissionSets", "NextToken", "NextToken", InstanceArn=instance, MaxResults=2)
    check("ListPermissionSets pages", sorted(listed) == sorted(ps_arns) and n == 2, (listed, n))
    described = sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=ps_arns[0])["PermissionSet"]
    check("DescribePermissionSet default SessionDuration is PT1H", described["SessionDuration"] == "PT1H"
          and described["Name"] == "ps0" and described["Description"] == "set 0", described)
    admin = ps_arns[0]
    for policy in ("AdministratorAccess", "ReadOnlyAccess", "SecurityAudit"):
        sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=admin,
                                                    ManagedPolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    managed, n = pages(sso.list_managed_policies_in_permission_set, "AttachedManagedPolicies", "NextToken", "NextToken",
                       InstanceArn=instance, PermissionSetArn=admin, MaxResults=2)
    check("ListManagedPoliciesInPermissionSet pages", len(managed) == 3 and n == 2, (managed, n))
    for name in ("cm-a", "cm-b"):
        sso.attach_customer_managed_policy_reference_to_permission_set(
            InstanceArn=instance, PermissionSetArn=admin, CustomerManagedPolicyReference={"Name": name, "Path": "/"})
    refs, n = pages(sso.list_customer_managed_policy_references_in_permission_set, "CustomerManagedPolicyReferences",
                    "NextToken", "NextToken", InstanceArn=instance, PermissionSetArn=admin, MaxResults=1)
    check("ListCustomerManagedPolicyReferencesInPermissionSet pages", len(refs) == 2 and n == 2, (refs, n))
    inline = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    sso.put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=admin, InlinePolicy=inline)
    check("GetInlinePolicyForPermissionSet",
          sso.get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=admin)["InlinePolicy"] == inline)
    expect_error("GetPermissionsBoundaryForPermissionSet without one: ResourceNotFoundException",
                 lambda: sso.get_permissions_boundary_for_permission_set(InstanceArn=instance, PermissionSetArn=admin),
                 "ResourceNotFoundException")
    sso.put_permissions_boundary_to_permission_set(InstanceArn=instance, PermissionSetArn=admin, PermissionsBoundary={
        "CustomerManagedPolicyReference": {"Name": "boundary", "Path": "/"}})
    boundary = sso.get_permissions_boundary_for_permission_set(InstanceArn=instance, PermissionSetArn=admin)
    check("GetPermissionsBoundaryForPermissionSet", boundary["PermissionsBoundary"]["CustomerManagedPolicyReference"]["Name"]
          == "boundary", boundary)

    identity = client("identitystore")
    users = [identity.create_user(IdentityStoreId=store, UserName=f"user{i}", DisplayName=f"User {i}",
                                  Name={"GivenName": "U", "FamilyName": str(i)})["UserId"] for i in range(3)]
    groups = [identity.create_group(IdentityStoreId=store, DisplayName=f"group{i}")["GroupId"] for i in range(2)]
    for u in users:
        identity.create_group_membership(IdentityStoreId=store, GroupId=groups[0], MemberId={"UserId": u})
    got_users, n = pages(identity.list_users, "Users", "NextToken", "NextToken", IdentityStoreId=store, MaxResults=2)
    check("moto: identitystore ListUsers pages", len(got_users) == 3 and n == 2, n)
    got_groups, n = pages(identity.list_groups, "Groups", "NextToken", "NextToken", IdentityStoreId=store, MaxResults=1)
    check("moto: identitystore ListGroups pages", len(got_groups) == 2 and n == 2, n)
    members, n = pages(identity.list_group_memberships, "GroupMemberships", "NextToken", "NextToken",
                       IdentityStoreId=store, GroupId=groups[0], MaxResults=2)
    check("moto: identitystore ListGroupMemberships pages", sorted(m["MemberId"]["UserId"] for m in members) == sorted(users)
          and n == 2, (members, n))

    member_account = "210987654321"
    sso.create_account_assignment(InstanceArn=instance, TargetId=ACCOUNT, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=admin, PrincipalType="GROUP", PrincipalId=groups[0])
    sso.create_account_assignment(InstanceArn=instance, TargetId=ACCOUNT, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=admin, PrincipalType="USER", PrincipalId=users[0])
    sso.create_account_assignment(InstanceArn=instance, TargetId=member_account, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=admin, PrincipalType="USER", PrincipalId=users[1])
    provisioned = sso.provision_permission_set(InstanceArn=instance, PermissionSetArn=ps_arns[1],
                                               TargetType="AWS_ACCOUNT", TargetId=member_account)
    check("ProvisionPermissionSet names the target account",
          provisioned["PermissionSetProvisioningStatus"]["AccountId"] == member_account, provisioned)
    accounts, n = pages(sso.list_accounts_for_provisioned_permission_set, "AccountIds", "NextToken", "NextToken",
                        InstanceArn=instance, PermissionSetArn=admin, MaxResults=1)
    check("ListAccountsForProvisionedPermissionSet: assigned accounts over 2 pages",
          accounts == sorted([ACCOUNT, member_account]) and n == 2, (accounts, n))
    check("ListAccountsForProvisionedPermissionSet: provisioned only",
          sso.list_accounts_for_provisioned_permission_set(InstanceArn=instance, PermissionSetArn=ps_arns[1])["AccountIds"]
          == [member_account])
    check("ListAccountsForProvisionedPermissionSet: never provisioned",
          sso.list_accounts_for_provisioned_permission_set(InstanceArn=instance, PermissionSetArn=ps_arns[2])["AccountIds"] == [])
    check("ListPermissionSetsProvisionedToAccount filters by account",
          sso.list_permission_sets_provisioned_to_account(InstanceArn=instance, AccountId=member_account)["PermissionSets"]
          == sorted([admin, ps_arns[1]]))
    expect_error("ListAccountsForProvisionedPermissionSet unknown set: ResourceNotFoundException",
                 lambda: sso.list_accounts_for_provisioned_permission_set(InstanceArn=instance, PermissionSetArn=admin + "x"),
                 "ResourceNotFoundException")
    assignments, n = pages(sso.list_account_assignments, "AccountAssignments", "NextToken", "NextToken",
                           InstanceArn=instance, AccountId=ACCOUNT, PermissionSetArn=admin, MaxResults=1)
    check("ListAccountAssignments per account x permission set, 2 pages",
          sorted(a["PrincipalType"] for a in assignments) == ["GROUP", "USER"] and n == 2, (assignments, n))
    check("ListInstances in eu-west-1 before a home region is seeded", len(client("sso-admin", "eu-west-1").list_instances()["Instances"]) == 1)
    seed(url, {"identity_center": {"home_region": "us-east-1"}})
    check("ListInstances outside the home region is empty", client("sso-admin", "eu-west-1").list_instances()["Instances"] == [])
    check("ListInstances in the home region", len(sso.list_instances()["Instances"]) == 1)

    # -- the page cap setting, then reset ---------------------------------------------------------
    seed(url, {"settings": {"max_page_size": 1}})
    compliance, n = pages(config.describe_compliance_by_config_rule, "ComplianceByConfigRules", "NextToken", "NextToken")
    check("DescribeComplianceByConfigRule pages (max_page_size 1)", len(compliance) == 3 and n == 3, n)
    seed(url, {"settings": {"max_page_size": None}})
    status, _, _ = post(url + "/moto-api/reset", b"", {})
    check("POST /moto-api/reset is 200", status == 200, status)
    check("reset clears the emulator's analyzers", aa.list_analyzers()["analyzers"] == [])
    check("reset clears moto", client("iam").list_users()["Users"] == [])
    rows = None
    try:
        iam.get_credential_report()
    except Exception as e:  # noqa: BLE001
        rows = getattr(e, "response", {}).get("Error", {}).get("Code")
    check("after reset the credential report is absent (moto's error passes through)", rows == "ReportNotPresent", rows)


def main() -> int:
    port = free_port()
    env = dict(os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false", AWS_EC2_METADATA_DISABLED="true")
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        env.pop(var, None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    log_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"soc2-emulator-selftest-{port}.log")
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "-H", "127.0.0.1", "-p", str(port)],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    print(f"the emulator did not start; log: {log_path}", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        run(url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    with open(log_path, "rb") as log:
        tracebacks = log.read().count(b"Traceback")
    check("no traceback in the emulator's log", tracebacks == 0, f"{tracebacks} in {log_path}")
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed; emulator log: {log_path}")
        return 1
    os.unlink(log_path)
    print("selftest: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
