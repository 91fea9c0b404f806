"""AWS Config (awsJson 1.1): rule compliance and recorder/channel status, over moto's store.

- DescribeComplianceByConfigRule (moto: 500): every config rule moto holds in the region, with
  the seeded compliance (`state.py`; a rule without one is INSUFFICIENT_DATA, as a rule AWS has
  not evaluated yet); NON_COMPLIANT carries ComplianceContributorCount. ConfigRuleNames (an
  unknown name: NoSuchConfigRuleException), ComplianceTypes, pages of 25 with NextToken
  (InvalidNextTokenException when bad).
- DescribeConfigurationRecorderStatus: moto's answer, except that a recorder that is recording
  reports lastStatus SUCCESS instead of moto's everlasting PENDING (AWS moves to SUCCESS after
  the first delivery, minutes after StartConfigurationRecorder).
- DescribeDeliveryChannelStatus (moto: 500): each delivery channel moto holds; snapshot and
  history delivery SUCCESS (at the recorder's start) when a recorder of the region is recording,
  NOT_APPLICABLE otherwise; stream delivery NOT_APPLICABLE.
"""

from __future__ import annotations

import datetime as _dt
import json

from app import ApiError, Raw, page
from state import STATE

PAGE = 25


def _backend(ctx):
    from moto.config.models import config_backends

    return config_backends[ctx.account][ctx.region]


def describe_compliance_by_config_rule(ctx):
    p = ctx.params
    rules = _backend(ctx).config_rules
    names = p.get("ConfigRuleNames") or sorted(rules)
    for name in names:
        if name not in rules:
            raise ApiError("NoSuchConfigRuleException", f"The ConfigRule '{name}' provided in the request is invalid. "
                           "Please check the configRule name.")
    seeded = STATE.compliance.get((ctx.account, ctx.region), {})
    rows = []
    for name in names:
        c = seeded.get(name, {"ComplianceType": "INSUFFICIENT_DATA"})
        compliance = {"ComplianceType": c["ComplianceType"]}
        if c["ComplianceType"] == "NON_COMPLIANT":
            compliance["ComplianceContributorCount"] = {"CappedCount": int(c.get("Count") or 1),
                                                        "CapExceeded": bool(c.get("CapExceeded"))}
        rows.append({"ConfigRuleName": name, "Compliance": compliance})
    if p.get("ComplianceTypes"):
        rows = [r for r in rows if r["Compliance"]["ComplianceType"] in p["ComplianceTypes"]]
    rows, token = page(rows, p.get("NextToken"), None, default=PAGE, maximum=PAGE,
                       token_error="InvalidNextTokenException", limit_error="InvalidParameterValueException")
    return {"ComplianceByConfigRules": rows, "NextToken": token}


def describe_configuration_recorder_status(ctx):
    answer = ctx.forward()
    if answer.status != 200:
        return answer
    body = json.loads(answer.body or b"{}")
    for status in body.get("ConfigurationRecordersStatus", []):
        if status.get("recording") and status.get("lastStatus") in (None, "PENDING"):
            status["lastStatus"] = "SUCCESS"
    return Raw(answer.status, answer.headers, json.dumps(body).encode())


def describe_delivery_channel_status(ctx):
    backend = _backend(ctx)
    channels = backend.delivery_channels
    names = ctx.params.get("DeliveryChannelNames") or sorted(channels)
    for name in names:
        if name not in channels:
            raise ApiError("NoSuchDeliveryChannelException", f"Cannot find delivery channel with specified name '{name}'.")
    started = [r.status.last_start_time for r in backend.recorders.values() if r.status.recording]
    rows = []
    for name in names:
        if started:
            when = _dt.datetime.fromtimestamp(max(started), tz=_dt.timezone.utc)
            delivery = {"lastStatus": "SUCCESS", "lastAttemptTime": when, "lastSuccessfulTime": when}
        else:
            delivery = {"lastStatus": "NOT_APPLICABLE"}
        rows.append({
            "name": name,
            "configSnapshotDeliveryInfo": dict(delivery),
            "configHistoryDeliveryInfo": dict(delivery),
            "configStreamDeliveryInfo": {"lastStatus": "NOT_APPLICABLE"},
        })
    return {"DeliveryChannelsStatus": rows}


HANDLERS = {
    ("config", "DescribeComplianceByConfigRule"): describe_compliance_by_config_rule,
    ("config", "DescribeConfigurationRecorderStatus"): describe_configuration_recorder_status,
    ("config", "DescribeDeliveryChannelStatus"): describe_delivery_channel_status,
}
