#!/usr/bin/env python3
"""Seed a large AWS account into a local emulator (moto) for the soc2-evidence benchmark.

Usage: seed_scale.py --endpoint-url http://127.0.0.1:PORT [--threads 8] [--scale 1.0]
       seed_scale.py --print-regions

The scale account of issue 6 (sizes at --scale 1; smaller scales shrink every count but the
regions, for quick checks):
  IAM (global)
    300 customer managed policies (one "*" on "*" admin policy, the rest narrow)
    100 groups, each with 1-3 of those policies attached (group-000 has the admin policy)
    2,000 users, mixed: every 2nd has a console password, every 4th of those a virtual MFA
      device; 0, 1 or 2 access keys (by user number mod 3); 1-2 group memberships; every 10th
      a directly attached policy, every 25th an inline policy
    500 roles: service roles (ec2/lambda), same-account roles, and cross-account roles with and
      without an sts:ExternalId condition; 1-2 attached policies each, every 10th an inline one
    an account password policy
  In each of the 16 regions (--print-regions lists them)
    50 security groups in the default VPC with 3-5 ingress rules each (some open to 0.0.0.0/0 or
      ::/0 on 22, 3389 or 443)
    20 KMS keys: 16 symmetric (every other one rotated, every 4th aliased), 2 RSA_2048 signing
      keys, 1 disabled and 1 pending deletion
    a GuardDuty detector in 12 of the 16 regions
    20 instances (every other one IMDSv1, tokens optional; the rest IMDSv2 only), 5 VPCs (every
      other one with a flow log to CloudWatch Logs) and in each VPC a network ACL with 4 entries
      (a deny of 22 at rule 90 before an allow-all in every other one); EBS encryption by
      default on in every other region
    300 buckets in all, spread round-robin over the regions (some with a public-read ACL, some
      with a public bucket policy, some with a bucket-level public access block)
  CloudTrail: one multi-region trail (us-east-1) and single-region trails in 4 more regions, each
    logging to its own bucket
  The account-level S3 public access block (s3control), BlockPublicAcls only.
  A generated credential report (so every later collect finds it COMPLETE, as the first does not).

Calls run on --threads threads, each with its own boto3 session and clients (moto answers each
call slowly but serves several at once); roles are created by one thread, since moto's CreateRole
races with itself, and a request moto fails with its HTML 500 page is sent again. Prints how long seeding took and how many calls it made.
Refuses any endpoint whose host is not 127.0.0.1 or localhost. Dummy credentials only.
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

REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
]
HOME = "us-east-1"
EXTERNAL_ACCOUNT = "111122223333"
# A throwaway value for an emulator, never a real secret.
PASSWORD = "Bench-Emulator-Passw0rd!"


def doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class Retrying:
    """A boto3 client whose calls are retried when moto answers with its HTML 500 page.

    moto's IAM iterates a dict that other threads' requests may grow ("dictionary changed size
    during iteration"); the request fails before it changes anything, so sending it again is safe.
    botocore does not retry it (it fails to parse the page as XML).
    """

    def __init__(self, client, seeder: "Seeder"):
        self._client = client
        self._seeder = seeder

    def __getattr__(self, name):
        attr = getattr(self._client, name)
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
                    with self._seeder.lock:
                        self._seeder.retried += 1
                    time.sleep(0.05 * attempt)

        return call


def scaled(n: int, scale: float) -> int:
    return max(1, round(n * scale))


class Seeder:
    def __init__(self, endpoint_url: str, threads: int, scale: float):
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            os.environ.pop(var, None)
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        self.endpoint_url = endpoint_url
        self.threads = threads
        self.local = threading.local()
        self.lock = threading.Lock()
        self.calls = 0
        self.retried = 0
        self.users = scaled(2000, scale)
        self.roles = scaled(500, scale)
        self.groups = scaled(100, scale)
        self.policies = max(2, scaled(300, scale))
        self.sgs_per_region = scaled(50, scale)
        self.keys_per_region = max(4, scaled(20, scale))
        self.buckets = max(len(REGIONS), scaled(300, scale))
        self.instances_per_region = scaled(20, scale)
        self.vpcs_per_region = scaled(5, scale)
        self.account = self.client("sts", HOME).get_caller_identity()["Account"]

    # ---- clients: one boto3 session per thread (sessions are not thread-safe) ----

    def client(self, service: str, region: str = HOME):
        import boto3
        from botocore.config import Config

        cache = getattr(self.local, "clients", None)
        if cache is None:
            self.local.session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            cache = self.local.clients = {}
        key = (service, region)
        if key not in cache:
            cfg = Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=120,
                max_pool_connections=4,
            )
            client = self.local.session.client(
                service, endpoint_url=self.endpoint_url, region_name=region, config=cfg
            )
            client.meta.events.register("before-send", self._count)
            if service == "s3control":
                # boto3 puts the account id in front of the host (123456789012.127.0.0.1), which
                # cannot resolve: strip it just before the request is sent.
                prefix = f"://{self.account}."

                def to_emulator(request, **_):
                    request.url = request.url.replace(prefix, "://", 1)

                client.meta.events.register("before-send.s3-control", to_emulator)
            cache[key] = Retrying(client, self)
        return cache[key]

    def _count(self, **_):
        with self.lock:
            self.calls += 1

    def parallel(self, label: str, jobs: list) -> None:
        """Runs the jobs (callables) on the thread pool; fails with the first error."""
        t0 = time.monotonic()
        errors = []
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            futures = [pool.submit(job) for job in jobs]
            for future in as_completed(futures):
                try:
                    future.result()
                except Exception as e:  # reported together below
                    errors.append(e)
        print(f"  {label}: {len(jobs)} jobs in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
        if errors:
            for e in errors[:5]:
                print(f"  error: {type(e).__name__}: {e}", file=sys.stderr)
            raise SystemExit(f"seed_scale: {len(errors)} of {len(jobs)} {label} jobs failed")

    # ---- IAM ----

    def policy_name(self, i: int) -> str:
        return "bench-admin" if i == 0 else f"bench-policy-{i:03d}"

    def policy_arn(self, i: int) -> str:
        return f"arn:aws:iam::{self.account}:policy/{self.policy_name(i)}"

    def create_policy(self, i: int) -> None:
        if i == 0:
            document = doc([{"Effect": "Allow", "Action": "*", "Resource": "*"}])
        else:
            document = doc(
                [
                    {
                        "Effect": "Allow",
                        "Action": [f"s3:GetObject", f"s3:ListBucket", f"dynamodb:GetItem"],
                        "Resource": [
                            f"arn:aws:s3:::bench-data-{i:03d}",
                            f"arn:aws:s3:::bench-data-{i:03d}/*",
                            f"arn:aws:dynamodb:*:{self.account}:table/bench-{i:03d}",
                        ],
                    }
                ]
            )
        self.client("iam").create_policy(
            PolicyName=self.policy_name(i), PolicyDocument=document, Description=f"bench policy {i}"
        )

    def create_group(self, i: int) -> None:
        iam = self.client("iam")
        name = f"bench-group-{i:03d}"
        iam.create_group(GroupName=name)
        attached = {0} if i == 0 else {1 + (i * 7 + k * 13) % (self.policies - 1) for k in range(1 + i % 3)}
        for p in sorted(attached):
            iam.attach_group_policy(GroupName=name, PolicyArn=self.policy_arn(p))

    def create_user(self, i: int) -> None:
        iam = self.client("iam")
        name = f"bench-user-{i:04d}"
        iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": f"team-{i % 20}"}])
        if i % 2 == 0:
            iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=False)
            if i % 8 == 0:
                serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"][
                    "SerialNumber"
                ]
                iam.enable_mfa_device(
                    UserName=name,
                    SerialNumber=serial,
                    AuthenticationCode1="123456",
                    AuthenticationCode2="654321",
                )
        for _ in range(i % 3):
            iam.create_access_key(UserName=name)  # secret discarded, never printed
        groups = {i % self.groups} | ({(i * 7 + 3) % self.groups} if i % 2 else set())
        for g in sorted(groups):
            iam.add_user_to_group(GroupName=f"bench-group-{g:03d}", UserName=name)
        if i % 10 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=self.policy_arn(1 + i % (self.policies - 1)))
        if i % 25 == 0:
            iam.put_user_policy(
                UserName=name,
                PolicyName="inline-logs-read",
                PolicyDocument=doc([{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}]),
            )

    def role_name(self, i: int) -> str:
        return f"bench-role-{i:03d}"

    def create_roles(self) -> None:
        """All roles, one after another: moto's CreateRole iterates the role table while it runs,
        and a role created by another thread at that moment makes it fail."""
        iam = self.client("iam")
        for i in range(self.roles):
            kind = i % 4
            if kind == 0:
                principal = {"Service": "ec2.amazonaws.com"}
            elif kind == 1:
                principal = {"Service": "lambda.amazonaws.com"}
            elif kind == 2:
                principal = {"AWS": f"arn:aws:iam::{self.account}:root"}
            else:
                principal = {"AWS": f"arn:aws:iam::{EXTERNAL_ACCOUNT}:root"}
            statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
            if i % 8 == 3:
                statement["Condition"] = {"StringEquals": {"sts:ExternalId": f"bench-{i}"}}
            iam.create_role(
                RoleName=self.role_name(i),
                AssumeRolePolicyDocument=doc([statement]),
                Description=f"bench role {i}",
            )

    def role_policies(self, i: int) -> None:
        iam = self.client("iam")
        name = self.role_name(i)
        for p in sorted({1 + (i * 11) % (self.policies - 1), 1 + (i * 17 + 5) % (self.policies - 1)}):
            iam.attach_role_policy(RoleName=name, PolicyArn=self.policy_arn(p))
        if i % 10 == 0:
            iam.put_role_policy(
                RoleName=name,
                PolicyName="inline-sqs",
                PolicyDocument=doc([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]),
            )

    def password_policy(self) -> None:
        self.client("iam").update_account_password_policy(
            MinimumPasswordLength=14,
            RequireSymbols=True,
            RequireNumbers=True,
            RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=True,
            MaxPasswordAge=90,
            PasswordReusePrevention=24,
        )

    # ---- regional ----

    def create_security_group(self, region: str, i: int) -> None:
        ec2 = self.client("ec2", region)
        gid = ec2.create_security_group(GroupName=f"bench-sg-{i:02d}", Description=f"bench sg {i}")["GroupId"]
        rules = []
        for k in range(3 + i % 3):
            port = [443, 8080, 5432, 6379, 9200][k]
            rules.append(
                {
                    "IpProtocol": "tcp",
                    "FromPort": port,
                    "ToPort": port,
                    "IpRanges": [{"CidrIp": f"10.{i}.{k}.0/24"}],
                }
            )
        if i % 10 == 0:
            rules.append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
        if i % 10 == 1:
            rules.append(
                {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
            )
        if i % 10 == 2:
            rules.append({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)

    def create_instances(self, region: str) -> None:
        ec2 = self.client("ec2", region)
        for i in range(self.instances_per_region):
            tokens = "optional" if i % 2 == 0 else "required"
            ec2.run_instances(
                ImageId="ami-12345678",
                InstanceType="t3.micro",
                MinCount=1,
                MaxCount=1,
                MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled"},
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"bench-{i:02d}"}]}],
            )
        if REGIONS.index(region) % 2 == 0:
            ec2.enable_ebs_encryption_by_default()

    def create_vpc(self, region: str, i: int) -> None:
        ec2 = self.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock=f"10.{100 + i}.0.0/16")["Vpc"]["VpcId"]
        if i % 2 == 0:
            ec2.create_flow_logs(
                ResourceIds=[vpc],
                ResourceType="VPC",
                TrafficType="REJECT",
                LogDestinationType="cloud-watch-logs",
                LogGroupName=f"bench-flow-{i}",
                DeliverLogsPermissionArn=f"arn:aws:iam::{self.account}:role/bench-flow",
            )
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        entries = [(90, "6", "deny", (22, 22)), (100, "-1", "allow", None)] if i % 2 == 0 else [
            (100, "6", "allow", (443, 443)),
            (110, "6", "allow", (1024, 65535)),
        ]
        entries += [(120, "17", "allow", (53, 53)), (130, "1", "deny", None)]
        for number, protocol, action, ports in entries:
            args = dict(
                NetworkAclId=acl,
                RuleNumber=number,
                Protocol=protocol,
                RuleAction=action,
                Egress=False,
                CidrBlock="0.0.0.0/0",
            )
            if ports:
                args["PortRange"] = {"From": ports[0], "To": ports[1]}
            if protocol == "1":
                args["IcmpTypeCode"] = {"Type": -1, "Code": -1}
            ec2.create_network_acl_entry(**args)

    def create_key(self, region: str, i: int) -> None:
        kms = self.client("kms", region)
        n = self.keys_per_region
        if i >= n - 4 and i < n - 2:
            kid = kms.create_key(Description=f"bench signing {i}", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")[
                "KeyMetadata"
            ]["KeyId"]
        else:
            kid = kms.create_key(Description=f"bench key {i}", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
        if i < n - 4:
            if i % 2 == 0:
                kms.enable_key_rotation(KeyId=kid)
            if i % 4 == 0:
                kms.create_alias(AliasName=f"alias/bench-{i:02d}", TargetKeyId=kid)
        elif i == n - 2:
            kms.disable_key(KeyId=kid)
        elif i == n - 1:
            kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=30)

    def create_bucket(self, i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        s3 = self.client("s3", region)
        name = f"bench-{self.account}-{i:03d}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        if i % 20 == 1:
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
        elif i % 20 == 2:
            s3.put_bucket_policy(
                Bucket=name,
                Policy=doc(
                    [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{name}/*",
                        }
                    ]
                ),
            )
        elif i % 4 == 3:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )

    def trail_bucket(self, region: str) -> str:
        return f"bench-trail-{self.account}-{region}"

    def create_trail_bucket(self, region: str) -> None:
        s3 = self.client("s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=self.trail_bucket(region))
        else:
            s3.create_bucket(
                Bucket=self.trail_bucket(region), CreateBucketConfiguration={"LocationConstraint": region}
            )

    def create_trail(self, region: str) -> None:
        ct = self.client("cloudtrail", region)
        multi = region == HOME
        name = "bench-org-trail" if multi else f"bench-trail-{region}"
        ct.create_trail(
            Name=name,
            S3BucketName=self.trail_bucket(region),
            IsMultiRegionTrail=multi,
            EnableLogFileValidation=multi,
        )
        ct.start_logging(Name=name)

    def create_detector(self, region: str) -> None:
        self.client("guardduty", region).create_detector(Enable=True)

    def account_block(self) -> None:
        self.client("s3control", HOME).put_public_access_block(
            AccountId=self.account,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False,
            },
        )

    def run(self) -> None:
        trail_regions = [HOME, "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]
        detector_regions = REGIONS[:12]
        # Phase 1: everything without a dependency; the region jobs first so that moto's
        # per-region set-up (default VPCs) overlaps the IAM work.
        jobs = [lambda r=r: self.client("ec2", r).describe_security_groups() for r in REGIONS]
        self.parallel("regions (default VPCs)", jobs)
        jobs = [self.create_roles]  # first: it is one long serial job
        jobs += [lambda r=r, i=i: self.create_security_group(r, i) for r in REGIONS for i in range(self.sgs_per_region)]
        jobs += [lambda r=r, i=i: self.create_key(r, i) for r in REGIONS for i in range(self.keys_per_region)]
        jobs += [lambda i=i: self.create_bucket(i) for i in range(self.buckets)]
        jobs += [lambda r=r: self.create_instances(r) for r in REGIONS]
        jobs += [lambda r=r, i=i: self.create_vpc(r, i) for r in REGIONS for i in range(self.vpcs_per_region)]
        jobs += [lambda r=r: self.create_trail_bucket(r) for r in trail_regions]
        jobs += [lambda i=i: self.create_policy(i) for i in range(self.policies)]
        jobs += [self.password_policy, self.account_block]
        self.parallel("policies, roles, security groups, keys, buckets", jobs)
        # Phase 2: what needs the policies or the buckets. Detectors only now: they may create a
        # service-linked role, which must not race with CreateRole (see create_roles).
        jobs = [lambda i=i: self.create_group(i) for i in range(self.groups)]
        jobs += [lambda r=r: self.create_trail(r) for r in trail_regions]
        jobs += [lambda r=r: self.create_detector(r) for r in detector_regions]
        self.parallel("groups, trails, detectors", jobs)
        # Phase 3: users (need the groups and policies) and the roles' policies.
        jobs = [lambda i=i: self.create_user(i) for i in range(self.users)]
        jobs += [lambda i=i: self.role_policies(i) for i in range(self.roles)]
        self.parallel("users, role policies", jobs)
        # Moto answers the first GenerateCredentialReport with STARTED (the tool then waits its
        # first backoff, 1 s) and every later one with COMPLETE. Generate it here so that the
        # floor and the proxied run, which follow each other, see the same account state.
        self.client("iam").generate_credential_report()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint-url", help="emulator URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--threads", type=int, default=8, help="concurrent seeding threads (8)")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's sizes (1.0)")
    p.add_argument("--print-regions", action="store_true", help="print the 16 regions, one a line")
    args = p.parse_args(argv)
    if args.print_regions:
        return args
    if not args.endpoint_url:
        p.error("--endpoint-url is required")
    url = urlparse(args.endpoint_url)
    if url.scheme not in ("http", "https") or url.hostname not in ("127.0.0.1", "localhost"):
        p.error(f"refusing endpoint {args.endpoint_url!r}: only http(s)://127.0.0.1 or localhost emulators")
    if not 0 < args.scale <= 1 or args.threads < 1:
        p.error("--scale must be in (0, 1] and --threads >= 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.print_regions:
        print("\n".join(REGIONS))
        return 0
    t0 = time.monotonic()
    seeder = Seeder(args.endpoint_url, args.threads, args.scale)
    print(
        f"seed_scale: {seeder.users} users, {seeder.roles} roles, {seeder.groups} groups, "
        f"{seeder.policies} policies; per region ({len(REGIONS)}): {seeder.sgs_per_region} security "
        f"groups, {seeder.keys_per_region} KMS keys; {seeder.buckets} buckets; {args.threads} threads",
        file=sys.stderr,
        flush=True,
    )
    seeder.run()
    elapsed = time.monotonic() - t0
    retried = f", {seeder.retried} retried after a moto internal error" if seeder.retried else ""
    print(f"seeded in {elapsed:.1f} s with {seeder.calls} calls ({seeder.calls / elapsed:.0f} calls/s{retried})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
