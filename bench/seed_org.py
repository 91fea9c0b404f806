#!/usr/bin/env python3
"""Seed an AWS Organization of small accounts into a local emulator (moto) for bench/org.

Usage: seed_org.py --endpoint-url http://127.0.0.1:PORT [--accounts 30] [--role-name NAME]
                   [--threads 8]
       seed_org.py --print-regions

From the management account (the dummy credentials' account, 123456789012 in moto):
  the organization (all features, SCPs enabled), 2 OUs under the root (bench-prod, bench-dev),
  --accounts member accounts spread round-robin over the OUs, and one service control policy
  (deny leaving the organization and stopping CloudTrail) attached to bench-prod.
In every account, the management account and each member (through sts:AssumeRole into
arn:aws:iam::<id>:role/--role-name; moto does not check that the role exists), a small account:
  IAM (global)   3 users: one with an access key, one with a console password, one with only a
                 directly attached policy; a role trusted by the account itself with that policy
                 and an inline one; one customer managed policy; a generated credential report
                 (so that every later collect finds it COMPLETE, as the first one would not)
  S3             2 buckets: the trail's in us-east-1, a data bucket in eu-west-1 (public-read
                 ACL in every 5th account)
  per region     a security group with 2 ingress rules (22 open to 0.0.0.0/0 in every 3rd
  (2 regions)    account) and a KMS key (rotation enabled in us-east-1 only)
  CloudTrail     one multi-region trail in us-east-1, logging
The management account is seeded like the members: its `collect` is part of both the org run
and the serial loop.

Organizations calls run one after another (moto's organization is one list); the accounts are
seeded on --threads threads, one account per job, each thread with its own boto3 session per
account. A request moto fails with its HTML 500 page (its IAM and EC2 iterate dicts that other
threads' requests may grow) is sent again: it failed before changing anything.

Prints the member account ids on stdout as one JSON list (the order they were created in); the
progress and the totals go to stderr. Refuses any endpoint whose host is not 127.0.0.1 or
localhost. Dummy credentials only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from urllib.parse import urlparse

REGIONS = ["us-east-1", "eu-west-1"]
HOME = "us-east-1"
OUS = ["bench-prod", "bench-dev"]
# A throwaway value for an emulator, never a real secret.
PASSWORD = "Bench-Emulator-Passw0rd!"


def doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class Seeder:
    def __init__(self, endpoint_url: str, threads: int, role_name: str):
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            os.environ.pop(var, None)
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        self.endpoint_url = endpoint_url
        self.threads = threads
        self.role_name = role_name
        self.local = threading.local()
        self.lock = threading.Lock()
        self.calls = 0
        self.retried = 0
        self.management_creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.management = self.client(self.management_creds, "sts").get_caller_identity()["Account"]

    # ---- clients: per thread, per account (boto3 sessions are not thread-safe) ----

    def client(self, creds: dict, service: str, region: str = HOME):
        import boto3
        from botocore.config import Config

        cache = getattr(self.local, "clients", None)
        if cache is None:
            cache = self.local.clients = {}
        key = (creds["aws_access_key_id"], service, region)
        if key not in cache:
            session = boto3.session.Session(**creds)
            cfg = Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=120,
                max_pool_connections=2,
            )
            client = session.client(service, endpoint_url=self.endpoint_url, region_name=region, config=cfg)
            client.meta.events.register("before-send", self._count)
            cache[key] = self._retrying(client)
        return cache[key]

    def _count(self, **_):
        with self.lock:
            self.calls += 1

    def _retrying(self, client):
        """The client, its calls sent again when moto answers with its HTML 500 page (which
        botocore fails to parse and so does not retry)."""
        seeder = self

        class Retrying:
            def __getattr__(self, name):
                attr = getattr(client, name)
                if not callable(attr) or name.startswith("_") or name in ("get_paginator", "can_paginate"):
                    return attr
                from botocore.parsers import ResponseParserError

                def call(*args, **kwargs):
                    for attempt in range(1, 6):
                        try:
                            return attr(*args, **kwargs)
                        except ResponseParserError:
                            if attempt == 5:
                                raise
                            with seeder.lock:
                                seeder.retried += 1
                            time.sleep(0.05 * attempt)

                return call

        return Retrying()

    # ---- the organization (management account, one call after another) ----

    def organization(self, members: int) -> list[str]:
        org = self.client(self.management_creds, "organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        policy_types = {t["Type"] for t in org.list_roots()["Roots"][0].get("PolicyTypes", [])}
        if "SERVICE_CONTROL_POLICY" not in policy_types:
            org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
        ous = [org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"] for name in OUS]
        scp = org.create_policy(
            Name="bench-guardrails",
            Description="bench: keep accounts in the organization and trails running",
            Type="SERVICE_CONTROL_POLICY",
            Content=doc(
                [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
                        "Resource": "*",
                    },
                ]
            ),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=scp, TargetId=ous[0])
        ids = []
        for i in range(members):
            status = org.create_account(AccountName=f"bench-member-{i:03d}", Email=f"bench-member-{i:03d}@example.com")[
                "CreateAccountStatus"
            ]
            if status.get("State") != "SUCCEEDED" or not status.get("AccountId"):
                raise SystemExit(f"seed_org: create_account {i} answered {status}")
            ids.append(status["AccountId"])
            org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=ous[i % len(ous)])
        return ids

    def member_creds(self, account: str) -> dict:
        creds = self.client(self.management_creds, "sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{self.role_name}", RoleSessionName="bench-seed-org"
        )["Credentials"]
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }

    # ---- one small account ----

    def seed_account(self, account: str, n: int, creds: dict) -> None:
        iam = self.client(creds, "iam")
        policy_arn = iam.create_policy(
            PolicyName="bench-read-data",
            PolicyDocument=doc(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::bench-{account}-data", f"arn:aws:s3:::bench-{account}-data/*"],
                    }
                ]
            ),
        )["Policy"]["Arn"]
        for name in ("bench-ci", "bench-alice", "bench-auditor"):
            iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": f"team-{n % 4}"}])
        iam.create_access_key(UserName="bench-ci")  # secret discarded, never printed
        iam.create_login_profile(UserName="bench-alice", Password=PASSWORD, PasswordResetRequired=False)
        iam.attach_user_policy(UserName="bench-auditor", PolicyArn=policy_arn)
        iam.create_role(
            RoleName="bench-app",
            AssumeRolePolicyDocument=doc(
                [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]
            ),
            Description="bench application role",
        )
        iam.attach_role_policy(RoleName="bench-app", PolicyArn=policy_arn)
        iam.put_role_policy(
            RoleName="bench-app",
            PolicyName="inline-logs-read",
            PolicyDocument=doc([{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}]),
        )

        trail_bucket = f"bench-{account}-trail"
        self.client(creds, "s3", HOME).create_bucket(Bucket=trail_bucket)
        data_bucket = f"bench-{account}-data"
        s3 = self.client(creds, "s3", "eu-west-1")
        s3.create_bucket(Bucket=data_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        if n % 5 == 1:
            s3.put_bucket_acl(Bucket=data_bucket, ACL="public-read")

        for region in REGIONS:
            ec2 = self.client(creds, "ec2", region)
            gid = ec2.create_security_group(GroupName="bench-web", Description="bench web tier")["GroupId"]
            rules = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]
            ssh_from = "0.0.0.0/0" if n % 3 == 0 else "10.1.0.0/24"
            rules.append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": ssh_from}]})
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
            kms = self.client(creds, "kms", region)
            kid = kms.create_key(Description=f"bench key {region}", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
            if region == HOME:
                kms.enable_key_rotation(KeyId=kid)

        ct = self.client(creds, "cloudtrail", HOME)
        ct.create_trail(Name="bench-trail", S3BucketName=trail_bucket, IsMultiRegionTrail=True, EnableLogFileValidation=True)
        ct.start_logging(Name="bench-trail")
        # moto answers the first GenerateCredentialReport with STARTED (collect then waits its
        # first backoff, 1 s) and every later one with COMPLETE: generate it here so that every
        # run of the benchmark sees the same account state.
        iam.generate_credential_report()

    def seed_all(self, members: list[str]) -> None:
        t0 = time.monotonic()
        accounts = [(self.management, 0, self.management_creds)]
        accounts += [(a, n + 1, self.member_creds(a)) for n, a in enumerate(members)]
        errors = []
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            futures = {pool.submit(self.seed_account, *a): a[0] for a in accounts}
            for future in as_completed(futures):
                try:
                    future.result()
                except Exception as e:  # reported together below
                    errors.append((futures[future], e))
        print(f"  accounts: {len(accounts)} seeded in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
        if errors:
            for account, e in errors[:5]:
                print(f"  error in {account}: {type(e).__name__}: {e}", file=sys.stderr)
            raise SystemExit(f"seed_org: {len(errors)} of {len(accounts)} accounts failed")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint-url", help="emulator URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--accounts", type=int, default=30, help="member accounts (30)")
    p.add_argument("--role-name", default="soc2-evidence-read", help="role assumed in the members")
    p.add_argument("--threads", type=int, default=8, help="accounts seeded at once (8)")
    p.add_argument("--print-regions", action="store_true", help="print the 2 regions, one a line")
    args = p.parse_args(argv)
    if args.print_regions:
        return args
    if not args.endpoint_url:
        p.error("--endpoint-url is required")
    url = urlparse(args.endpoint_url)
    if url.scheme not in ("http", "https") or url.hostname not in ("127.0.0.1", "localhost"):
        p.error(f"refusing endpoint {args.endpoint_url!r}: only http(s)://127.0.0.1 or localhost emulators")
    if args.accounts < 1 or args.threads < 1:
        p.error("--accounts and --threads must be >= 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.print_regions:
        print("\n".join(REGIONS))
        return 0
    t0 = time.monotonic()
    seeder = Seeder(args.endpoint_url, args.threads, args.role_name)
    print(
        f"seed_org: an organization of {args.accounts} members and the management account "
        f"{seeder.management}, {len(OUS)} OUs, regions {', '.join(REGIONS)}; {args.threads} threads",
        file=sys.stderr,
        flush=True,
    )
    members = seeder.organization(args.accounts)
    seeder.seed_all(members)
    elapsed = time.monotonic() - t0
    retried = f", {seeder.retried} retried after a moto internal error" if seeder.retried else ""
    print(
        f"seed_org: seeded in {elapsed:.1f} s with {seeder.calls} calls ({seeder.calls / elapsed:.0f} calls/s{retried})",
        file=sys.stderr,
    )
    print(json.dumps(members))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
