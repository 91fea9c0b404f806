#!/usr/bin/env python3
"""The serial per-entity evidence script that engineers and public scanners use today (boto3).

Usage: baseline.py --endpoint-url http://127.0.0.1:PORT --regions us-east-1,eu-west-1,...
                   [--sample 1.0] [--json FILE]

One call after another, the calls of the classic evidence scripts:
  iam    ListUsers, then per user ListAttachedUserPolicies, ListUserPolicies,
         ListGroupsForUser, ListAccessKeys, ListMFADevices;
         ListRoles, then per role GetRole, ListAttachedRolePolicies
  ec2    per region DescribeSecurityGroups
  s3     ListBuckets, then per bucket GetPublicAccessBlock, GetBucketPolicyStatus, GetBucketAcl
  kms    per region ListKeys, then per key DescribeKey and GetKeyRotationStatus
Every list call is paginated with boto3's paginators and their default page sizes. Answers
such as NoSuchPublicAccessBlockConfiguration or a rotation status refused for an asymmetric key
are caught and counted like any other call. Every HTTP request sent is counted (retries too).

--sample F (0 < F <= 1) reads every listing in full but makes the per-entity calls for only the
first ceil(F x n) users, roles, buckets and keys (of each region); the time and calls of each
per-entity family are then extrapolated linearly to all n entities (listings and per-region
calls are measured, never extrapolated). The report says which figures are measured and which
are extrapolated. --json FILE writes the figures for bench/run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from urllib.parse import urlparse


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, **_):
        self.calls += 1


class Family:
    """One per-entity call family: how many entities exist, how many were read, at what cost."""

    def __init__(self, name: str):
        self.name = name
        self.total = 0
        self.sampled = 0
        self.seconds = 0.0
        self.calls = 0

    def extrapolated(self) -> tuple[float, float]:
        if self.sampled == 0:
            return 0.0, 0.0
        factor = self.total / self.sampled
        return self.seconds * factor, self.calls * factor


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint-url", required=True)
    p.add_argument("--regions", required=True, help="comma-separated regions")
    p.add_argument("--sample", type=float, default=1.0, help="fraction of entities read per entity (1.0)")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    url = urlparse(args.endpoint_url)
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost"):
        p.error(f"refusing endpoint {args.endpoint_url!r}: only http://127.0.0.1 or localhost")
    if not 0 < args.sample <= 1:
        p.error("--sample must be in (0, 1]")
    regions = [r for r in args.regions.split(",") if r]

    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(var, None)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    cfg = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=120)
    count = Counter()

    def client(service: str, region: str = regions[0]):
        c = session.client(service, endpoint_url=args.endpoint_url, region_name=region, config=cfg)
        c.meta.events.register("before-send", count)
        return c

    def pages(c, op: str, key: str, **kw) -> list:
        out = []
        for page in c.get_paginator(op).paginate(**kw):
            out.extend(page.get(key, []))
        return out

    def answer(fn, **kw):
        """A call whose AWS error is an answer of the script (no block, no policy, ...)."""
        try:
            return fn(**kw)
        except ClientError as e:
            return {"Error": e.response.get("Error", {}).get("Code")}

    def take(items: list) -> list:
        return items[: math.ceil(len(items) * args.sample)] if items else []

    evidence: dict = {"users": {}, "roles": {}, "security_groups": {}, "buckets": {}, "keys": {}}
    families = {n: Family(n) for n in ("users", "roles", "buckets", "keys")}
    listing_seconds = 0.0
    listing_calls = 0
    t_start = time.monotonic()

    def timed_listing(fn):
        nonlocal listing_seconds, listing_calls
        t0, c0 = time.monotonic(), count.calls
        result = fn()
        listing_seconds += time.monotonic() - t0
        listing_calls += count.calls - c0
        return result

    def timed_family(family: Family, items: list, per_item) -> None:
        family.total += len(items)
        chosen = take(items)
        family.sampled += len(chosen)
        t0, c0 = time.monotonic(), count.calls
        for item in chosen:
            per_item(item)
        family.seconds += time.monotonic() - t0
        family.calls += count.calls - c0

    # IAM users
    iam = client("iam")
    users = timed_listing(lambda: pages(iam, "list_users", "Users"))

    def per_user(u):
        name = u["UserName"]
        evidence["users"][name] = {
            "attached": pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name),
            "inline": pages(iam, "list_user_policies", "PolicyNames", UserName=name),
            "groups": pages(iam, "list_groups_for_user", "Groups", UserName=name),
            "keys": pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name),
            "mfa": pages(iam, "list_mfa_devices", "MFADevices", UserName=name),
        }

    timed_family(families["users"], users, per_user)

    # IAM roles
    roles = timed_listing(lambda: pages(iam, "list_roles", "Roles"))

    def per_role(r):
        name = r["RoleName"]
        evidence["roles"][name] = {
            "role": iam.get_role(RoleName=name)["Role"],
            "attached": pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name),
        }

    timed_family(families["roles"], roles, per_role)

    # Security groups, per region
    for region in regions:
        ec2 = client("ec2", region)
        evidence["security_groups"][region] = timed_listing(
            lambda: pages(ec2, "describe_security_groups", "SecurityGroups")
        )

    # S3 buckets
    s3 = client("s3")
    buckets = timed_listing(lambda: s3.list_buckets().get("Buckets", []))

    def per_bucket(b):
        name = b["Name"]
        evidence["buckets"][name] = {
            "block": answer(s3.get_public_access_block, Bucket=name),
            "policy_status": answer(s3.get_bucket_policy_status, Bucket=name),
            "acl": answer(s3.get_bucket_acl, Bucket=name),
        }

    timed_family(families["buckets"], buckets, per_bucket)

    # KMS keys, per region
    for region in regions:
        kms = client("kms", region)
        keys = timed_listing(lambda: pages(kms, "list_keys", "Keys"))

        def per_key(k, kms=kms, region=region):
            kid = k["KeyId"]
            evidence["keys"][f"{region}/{kid}"] = {
                "metadata": answer(kms.describe_key, KeyId=kid),
                "rotation": answer(kms.get_key_rotation_status, KeyId=kid),
            }

        timed_family(families["keys"], keys, per_key)

    measured_seconds = time.monotonic() - t_start
    measured_calls = count.calls
    sampled = args.sample < 1
    est_seconds = measured_seconds - sum(f.seconds for f in families.values()) + sum(
        f.extrapolated()[0] for f in families.values()
    )
    est_calls = measured_calls - sum(f.calls for f in families.values()) + sum(
        f.extrapolated()[1] for f in families.values()
    )
    report = {
        "sample": args.sample,
        "measured_seconds": round(measured_seconds, 3),
        "measured_calls": measured_calls,
        "seconds": round(est_seconds, 3),
        "calls": round(est_calls),
        "extrapolated": sampled,
        "listing_seconds": round(listing_seconds, 3),
        "listing_calls": listing_calls,
        "families": {
            f.name: {
                "entities": f.total,
                "sampled": f.sampled,
                "seconds": round(f.seconds, 3),
                "calls": f.calls,
                "extrapolated_seconds": round(f.extrapolated()[0], 3),
                "extrapolated_calls": round(f.extrapolated()[1]),
            }
            for f in families.values()
        },
    }
    lines = [
        f"baseline: {len(users)} users, {len(roles)} roles, {len(buckets)} buckets, "
        f"{families['keys'].total} keys, {len(regions)} regions",
        f"  listings and per-region calls: {listing_calls} calls in {listing_seconds:.1f} s (measured)",
    ]
    for f in families.values():
        line = f"  per {f.name[:-1]}: {f.sampled} of {f.total} read, {f.calls} calls in {f.seconds:.1f} s"
        if sampled and f.sampled:
            est = f.extrapolated()
            line += f" -> all {f.total}: {est[1]:.0f} calls, {est[0]:.1f} s (extrapolated)"
        lines.append(line)
    lines.append(f"  measured: {measured_calls} calls in {measured_seconds:.1f} s")
    if sampled:
        lines.append(
            f"  whole account (extrapolated from a {args.sample:g} sample): {est_calls:.0f} calls "
            f"in {est_seconds:.1f} s"
        )
    print("\n".join(lines), file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
