"""CloudWatch in the Smithy RPC v2 CBOR protocol, and DescribeAlarms as AWS documents it.

The Rust aws-sdk-cloudwatch speaks rpc-v2-cbor (`POST /service/GraniteServiceVersion20100801/
operation/<Op>`, `smithy-protocol: rpc-v2-cbor`, CBOR bodies), which moto answers 404; boto3
speaks awsJson 1.0 to CloudWatch, which moto serves. Here:

- every CBOR call is decoded with botocore's model (a missing required member is
  MissingParameter, which moto does not check), sent to moto as the same call in awsJson,
  and moto's answer (or error, as `__type` plus `x-amzn-query-error`) encoded back in CBOR:
  PutMetricAlarm, DeleteAlarms, ListMetrics, ... work in both protocols over moto's one store;
- DescribeAlarms, in both protocols, reads every alarm from moto and applies the filters
  together (moto applies only the first it finds and never pages): AlarmNames or
  AlarmNamePrefix (not both: InvalidParameterCombination), ActionPrefix (on alarm, OK and
  insufficient-data actions), StateValue, AlarmTypes (default MetricAlarm only), sorted by name,
  MaxRecords 1-100 (default 50) and NextToken (InvalidNextToken when bad).
  ChildrenOfAlarmName/ParentsOfAlarmName are not emulated (answered as if absent).
"""

from __future__ import annotations

import shapes
from app import ApiError, page

TARGET = "GraniteServiceVersion20100801"


def _moto(ctx, op: str, params: dict) -> dict:
    model = shapes.operation("cloudwatch", op)
    payload = shapes.to_wire(params, model.input_shape, "json") if model.input_shape else {}
    status, body = ctx.moto_json(f"{TARGET}.{op}", payload)
    if status >= 400:
        code = str(body.get("__type") or body.get("code") or "InternalFailure").split("#")[-1]
        raise ApiError(code, str(body.get("message") or body.get("Message") or ""), status)
    return shapes.from_wire(body, model.output_shape, "json") if model.output_shape else {}


def via_moto(ctx):
    """Any CBOR call: answered by moto through awsJson. JSON calls go to moto untouched."""
    if ctx.protocol != "cbor":
        return None
    shape = shapes.operation("cloudwatch", ctx.op).input_shape
    missing = [m for m in (shape.required_members if shape is not None else []) if ctx.params.get(m) is None]
    if missing:
        raise ApiError("MissingParameter", f"The request must contain the parameter {missing[0]}.")
    return _moto(ctx, ctx.op, ctx.params)


def describe_alarms(ctx):
    p = ctx.params
    if p.get("AlarmNames") and p.get("AlarmNamePrefix"):
        raise ApiError("InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be specified together")
    everything = _moto(ctx, "DescribeAlarms", {"AlarmTypes": ["CompositeAlarm", "MetricAlarm"]})
    types = p.get("AlarmTypes") or ["MetricAlarm"]
    alarms = []
    if "MetricAlarm" in types:
        alarms += [("MetricAlarms", a) for a in everything.get("MetricAlarms") or []]
    if "CompositeAlarm" in types:
        alarms += [("CompositeAlarms", a) for a in everything.get("CompositeAlarms") or []]

    def keep(alarm: dict) -> bool:
        if p.get("AlarmNames") and alarm["AlarmName"] not in p["AlarmNames"]:
            return False
        if p.get("AlarmNamePrefix") and not alarm["AlarmName"].startswith(p["AlarmNamePrefix"]):
            return False
        if p.get("StateValue") and alarm.get("StateValue") != p["StateValue"]:
            return False
        if p.get("ActionPrefix"):
            actions = (alarm.get("AlarmActions") or []) + (alarm.get("OKActions") or []) + (
                alarm.get("InsufficientDataActions") or [])
            if not any(a.startswith(p["ActionPrefix"]) for a in actions):
                return False
        return True

    alarms = sorted((x for x in alarms if keep(x[1])), key=lambda x: (x[1]["AlarmName"], x[0]))
    chosen, token = page(alarms, p.get("NextToken"), p.get("MaxRecords"), default=50, maximum=100,
                         token_error="InvalidNextToken", limit_error="InvalidParameterValue")
    result = {"MetricAlarms": [], "CompositeAlarms": [], "NextToken": token}
    for kind, alarm in chosen:
        result[kind].append(alarm)
    return result


HANDLERS = {
    ("cloudwatch", "DescribeAlarms"): describe_alarms,
    ("cloudwatch", "*"): via_moto,
}
