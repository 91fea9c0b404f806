"""IAM Identity Center admin (sso-admin, awsJson 1.1, target SWBExternalService) over moto.

moto keeps instances, permission sets, policies and account assignments, and serves most list
calls with paging. What it gets wrong, fixed here:

- ListAccountsForProvisionedPermissionSet: moto returns its own account whatever the target;
  here: the accounts the permission set is assigned to (CreateAccountAssignment provisions, as
  in AWS) or was provisioned to (ProvisionPermissionSet with TargetType AWS_ACCOUNT).
  ProvisioningStatus LATEST_PERMISSION_SET_NOT_PROVISIONED is empty (every provisioning is the
  latest). MaxResults 1-100, NextToken.
- ListPermissionSetsProvisionedToAccount: moto ignores AccountId; here filtered by it.
- ProvisionPermissionSet: moto's answer names the caller's account; here the target account.
- Put/Get/DeletePermissionsBoundary(To|For|From)PermissionSet: moto has none (500).
- CreatePermissionSet/DescribePermissionSet: moto's default SessionDuration is the number 3600;
  AWS's is the ISO 8601 duration "PT1H" (a number breaks SDKs that expect a string).
- ListInstances: moto gives every region an instance; once the seed names the account's
  Identity Center home region, other regions list none, as in AWS.
"""

from __future__ import annotations

import json

from app import ApiError, Raw, page
from state import STATE

MAX = 100


def _backend(ctx):
    from moto.ssoadmin.models import ssoadmin_backends

    return ssoadmin_backends[ctx.account][ctx.region]


def _permission_set(ctx, require_ps: bool = True):
    backend = _backend(ctx)
    instance = ctx.params.get("InstanceArn")
    if not any(i.instance_arn == instance for i in backend.instances):
        raise ApiError("ResourceNotFoundException", f"Instance {instance} does not exist")
    arn = ctx.params.get("PermissionSetArn")
    if require_ps and not any(ps.permission_set_arn == arn and ps.instance_arn == instance for ps in backend.permission_sets):
        raise ApiError("ResourceNotFoundException", f"Could not find PermissionSet with id {arn}")
    return backend, instance, arn


def _pairs(ctx, backend, instance) -> set:
    """(permission set arn, account id) of every assignment and provisioning of the instance."""
    pairs = {(a.permission_set_arn, a.target_id) for a in backend.account_assignments
             if a.instance_arn == instance and a.target_type == "AWS_ACCOUNT"}
    pairs |= {(ps, acct) for ps, acct in STATE.provisioned.get((ctx.account, ctx.region), set())
              if ps.startswith(instance + "/")}
    return pairs


def list_accounts_for_provisioned_permission_set(ctx):
    backend, instance, arn = _permission_set(ctx)
    p = ctx.params
    accounts = sorted({acct for ps, acct in _pairs(ctx, backend, instance) if ps == arn})
    if p.get("ProvisioningStatus") == "LATEST_PERMISSION_SET_NOT_PROVISIONED":
        accounts = []
    accounts, token = page(accounts, p.get("NextToken"), p.get("MaxResults"), default=MAX, maximum=MAX)
    return {"AccountIds": accounts, "NextToken": token}


def list_permission_sets_provisioned_to_account(ctx):
    backend, instance, _ = _permission_set(ctx, require_ps=False)
    p = ctx.params
    if not p.get("AccountId"):
        raise ApiError("ValidationException", "AccountId is required")
    arns = sorted({ps for ps, acct in _pairs(ctx, backend, instance) if acct == p["AccountId"]})
    if p.get("ProvisioningStatus") == "LATEST_PERMISSION_SET_NOT_PROVISIONED":
        arns = []
    arns, token = page(arns, p.get("NextToken"), p.get("MaxResults"), default=MAX, maximum=MAX)
    return {"PermissionSets": arns, "NextToken": token}


def provision_permission_set(ctx):
    _permission_set(ctx)
    answer = ctx.forward()
    if answer.status != 200:
        return answer
    body = json.loads(answer.body or b"{}")
    status = body.get("PermissionSetProvisioningStatus", {})
    if ctx.params.get("TargetType") == "AWS_ACCOUNT" and ctx.params.get("TargetId"):
        with STATE.lock:
            STATE.provisioned.setdefault((ctx.account, ctx.region), set()).add(
                (ctx.params["PermissionSetArn"], ctx.params["TargetId"]))
        status["AccountId"] = ctx.params["TargetId"]
    else:
        status.pop("AccountId", None)
    return Raw(answer.status, answer.headers, json.dumps(body).encode())


def put_permissions_boundary(ctx):
    _, _, arn = _permission_set(ctx)
    boundary = ctx.params.get("PermissionsBoundary") or {}
    if bool(boundary.get("ManagedPolicyArn")) == bool(boundary.get("CustomerManagedPolicyReference")):
        raise ApiError("ValidationException", "give exactly one of ManagedPolicyArn and CustomerManagedPolicyReference")
    with STATE.lock:
        STATE.boundaries.setdefault((ctx.account, ctx.region), {})[arn] = boundary
    return {}


def get_permissions_boundary(ctx):
    _, _, arn = _permission_set(ctx)
    boundary = STATE.boundaries.get((ctx.account, ctx.region), {}).get(arn)
    if boundary is None:
        raise ApiError("ResourceNotFoundException", f"Could not find a permissions boundary for PermissionSet {arn}")
    return {"PermissionsBoundary": boundary}


def delete_permissions_boundary(ctx):
    _, _, arn = _permission_set(ctx)
    with STATE.lock:
        if STATE.boundaries.get((ctx.account, ctx.region), {}).pop(arn, None) is None:
            raise ApiError("ResourceNotFoundException", f"Could not find a permissions boundary for PermissionSet {arn}")
    return {}


def iso_duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return text if text != "PT" else "PT0S"


def fix_session_duration(ctx):
    answer = ctx.forward()
    if answer.status != 200:
        return answer
    body = json.loads(answer.body or b"{}")
    ps = body.get("PermissionSet") or {}
    if isinstance(ps.get("SessionDuration"), (int, float)):
        ps["SessionDuration"] = iso_duration(ps["SessionDuration"])
    return Raw(answer.status, answer.headers, json.dumps(body).encode())


def list_instances(ctx):
    home = STATE.ic_home.get(ctx.account)
    if home and home != ctx.region:
        return {"Instances": []}
    return None  # moto's


HANDLERS = {
    ("sso-admin", "ListAccountsForProvisionedPermissionSet"): list_accounts_for_provisioned_permission_set,
    ("sso-admin", "ListPermissionSetsProvisionedToAccount"): list_permission_sets_provisioned_to_account,
    ("sso-admin", "ProvisionPermissionSet"): provision_permission_set,
    ("sso-admin", "PutPermissionsBoundaryToPermissionSet"): put_permissions_boundary,
    ("sso-admin", "GetPermissionsBoundaryForPermissionSet"): get_permissions_boundary,
    ("sso-admin", "DeletePermissionsBoundaryFromPermissionSet"): delete_permissions_boundary,
    ("sso-admin", "CreatePermissionSet"): fix_session_duration,
    ("sso-admin", "DescribePermissionSet"): fix_session_duration,
    ("sso-admin", "ListInstances"): list_instances,
}
