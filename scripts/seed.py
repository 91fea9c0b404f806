#!/usr/bin/env python3
"""Seed a sample AWS account into a local emulator (moto) for soc2-evidence demos.

Usage: seed.py --endpoint-url http://127.0.0.1:PORT

Creates, in us-east-1, using dummy credentials and only the given local endpoint:
  - an account password policy (length 14, all character classes, reuse 24, max age 90 days)
  - groups `admins` (customer managed policy AdministratorAccessCustom: "*" on "*") and `developers`
    (KeyRotationHelper: iam:CreateAccessKey on every user, a privilege-escalation method)
  - users
      alice  console password + enabled virtual MFA device, in admins
      bob    console password, no MFA, one access key, in developers
      carol  no console, two access keys, an inline user policy
      dave   no console, no keys, a directly attached customer managed policy
  - roles
      ci-deployer       trusts external account 111122223333 without an ExternalId condition
      auditor-readonly  trusts this account's root with an sts:ExternalId condition
      automation        trusts this account's root; one policy per other family of
                        privilege-escalation methods (policy versions, attaching policies, role
                        trust, group membership, passing a role to Lambda, updating a Glue
                        endpoint)
      power-user        trusts this account's root; PowerUserCustom (NotAction iam:*)
    each with attached customer managed policies
and, for the regional collectors, in us-east-1 and eu-west-1:
  - security groups open to the world on 22 and 443 (us-east-1) and 3389 (eu-west-1), and one
    reachable only from 10.0.0.0/8
  - KMS keys: symmetric with and without rotation (us-east-1), asymmetric and disabled (eu-west-1)
  - a multi-region trail with log file validation (us-east-1) and a single-region trail without
    (eu-west-1), with their log buckets
  - buckets with a public-read ACL, a public bucket policy, and a full bucket-level block; an
    account-level public access block that blocks ACLs only
  - a GuardDuty detector in us-east-1 only

Entities that already exist are skipped (reported as "exists"), so running it twice is harmless.
Refuses any endpoint whose host is not 127.0.0.1 or localhost. Never prints secrets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import urlparse

REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
EXTERNAL_ACCOUNT = "111122223333"
AUDITOR_EXTERNAL_ID = "soc2-audit-7f3c1e"
# Satisfies the password policy below; a throwaway value for an emulator, never a real secret.
DEMO_PASSWORD = "Demo-Emulator-Passw0rd!"

PASSWORD_POLICY = dict(
    MinimumPasswordLength=14,
    RequireSymbols=True,
    RequireNumbers=True,
    RequireUppercaseCharacters=True,
    RequireLowercaseCharacters=True,
    AllowUsersToChangePassword=True,
    MaxPasswordAge=90,
    PasswordReusePrevention=24,
)


def doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


POLICIES = {
    "AdministratorAccessCustom": (
        "Full access (customer managed copy of AdministratorAccess)",
        doc([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
    ),
    "ReportsReadOnly": (
        "Read the reports bucket",
        doc(
            [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": ["arn:aws:s3:::example-reports", "arn:aws:s3:::example-reports/*"],
                }
            ]
        ),
    ),
    "CiDeployerPolicy": (
        "Deploy application artifacts and update services",
        doc(
            [
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "ecs:UpdateService", "ecs:DescribeServices"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": "arn:aws:iam::*:role/app-*",
                },
            ]
        ),
    ),
    "AuditorReadOnlyCustom": (
        "Read-only access for the external auditor",
        doc(
            [
                {
                    "Effect": "Allow",
                    "Action": [
                        "iam:Get*",
                        "iam:List*",
                        "iam:GenerateCredentialReport",
                        "cloudtrail:Describe*",
                        "cloudtrail:Get*",
                        "config:Describe*",
                        "guardduty:Get*",
                        "guardduty:List*",
                    ],
                    "Resource": "*",
                }
            ]
        ),
    ),
}


def allow_all(actions: list[str]) -> str:
    return doc([{"Effect": "Allow", "Action": actions, "Resource": "*"}])


# One policy per family of privilege-escalation methods (soc2-evidence's privilege-escalation
# rule), and one that grants everything but IAM (not-action-allow).
POLICIES.update(
    {
        "KeyRotationHelper": (
            "Rotate any user's access keys (lets its holder create keys for other users)",
            allow_all(["iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:ListAccessKeys"]),
        ),
        "GroupMembershipManager": (
            "Manage group membership",
            allow_all(["iam:AddUserToGroup", "iam:RemoveUserFromGroup"]),
        ),
        "PolicyVersionEditor": (
            "Publish new versions of managed policies",
            allow_all(["iam:CreatePolicyVersion", "iam:ListPolicyVersions"]),
        ),
        "PermissionsManager": (
            "Grant policies to users",
            allow_all(["iam:AttachUserPolicy", "iam:PutUserPolicy"]),
        ),
        "TrustPolicyEditor": (
            "Edit role trust policies and try them out",
            allow_all(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]),
        ),
        "LambdaDeployer": (
            "Deploy Lambda functions with any role",
            allow_all(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]),
        ),
        "GlueEndpointMaintainer": (
            "Maintain Glue development endpoints",
            allow_all(["glue:UpdateDevEndpoint", "glue:GetDevEndpoints"]),
        ),
        "PowerUserCustom": (
            "Everything but IAM, Organizations and Account (customer managed PowerUserAccess)",
            doc(
                [
                    {
                        "Effect": "Allow",
                        "NotAction": ["iam:*", "organizations:*", "account:*"],
                        "Resource": "*",
                    }
                ]
            ),
        ),
    }
)

AUTOMATION_POLICIES = [
    "GroupMembershipManager",
    "PolicyVersionEditor",
    "PermissionsManager",
    "TrustPolicyEditor",
    "LambdaDeployer",
    "GlueEndpointMaintainer",
]

CAROL_INLINE_NAME = "carol-logs-read"
CAROL_INLINE = doc(
    [
        {
            "Effect": "Allow",
            "Action": ["logs:GetLogEvents", "logs:DescribeLogStreams"],
            "Resource": "*",
        }
    ]
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint-url", required=True, help="emulator URL, e.g. http://127.0.0.1:5000")
    args = p.parse_args(argv)
    url = urlparse(args.endpoint_url)
    if url.scheme not in ("http", "https") or url.hostname not in ("127.0.0.1", "localhost"):
        p.error(
            f"refusing endpoint {args.endpoint_url!r}: only http(s)://127.0.0.1 or localhost "
            "emulators may be seeded"
        )
    return args


class Seeder:
    def __init__(self, endpoint_url: str):
        # Never let a profile, config file or real credentials take part.
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            os.environ.pop(var, None)
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=REGION,
        )
        cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)
        self.iam = session.client("iam", endpoint_url=endpoint_url, config=cfg)
        self.sts = session.client("sts", endpoint_url=endpoint_url, config=cfg)
        self.account = self.sts.get_caller_identity()["Account"]
        self.created = 0
        self.skipped = 0
        self.lines: list[str] = []

    def _try(self, fn, **kw) -> bool:
        """Call fn; True if it created something, False if the entity already existed."""
        try:
            fn(**kw)
            self.created += 1
            return True
        except self.iam.exceptions.EntityAlreadyExistsException:
            self.skipped += 1
            return False

    def policy_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:policy/{name}"

    def ensure_policy(self, name: str) -> None:
        description, document = POLICIES[name]
        self._try(
            self.iam.create_policy,
            PolicyName=name,
            PolicyDocument=document,
            Description=description,
        )

    def ensure_group(self, name: str, policies: list[str]) -> None:
        self._try(self.iam.create_group, GroupName=name)
        for p in policies:
            self.iam.attach_group_policy(GroupName=name, PolicyArn=self.policy_arn(p))

    def ensure_user(self, name: str, console: bool, keys: int, groups: list[str]) -> None:
        self._try(self.iam.create_user, UserName=name, Tags=[{"Key": "team", "Value": "demo"}])
        if console:
            self._try(
                self.iam.create_login_profile,
                UserName=name,
                Password=DEMO_PASSWORD,
                PasswordResetRequired=False,
            )
        have = len(self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"])
        for _ in range(max(0, keys - have)):
            self.iam.create_access_key(UserName=name)  # secret is discarded, never printed
            self.created += 1
        for g in groups:
            self.iam.add_user_to_group(GroupName=g, UserName=name)

    def ensure_virtual_mfa(self, user: str) -> None:
        if self.iam.list_mfa_devices(UserName=user)["MFADevices"]:
            self.skipped += 1
            return
        serial = None
        try:
            serial = self.iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"][
                "SerialNumber"
            ]
        except self.iam.exceptions.EntityAlreadyExistsException:
            for dev in self.iam.list_virtual_mfa_devices()["VirtualMFADevices"]:
                if dev["SerialNumber"].endswith(f":mfa/{user}"):
                    serial = dev["SerialNumber"]
            if serial is None:
                raise
        self.iam.enable_mfa_device(
            UserName=user,
            SerialNumber=serial,
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
        self.created += 1

    def ensure_role(self, name: str, trust: dict, policy: str | list[str], description: str) -> None:
        self._try(
            self.iam.create_role,
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=description,
        )
        for p in [policy] if isinstance(policy, str) else policy:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=self.policy_arn(p))

    def run(self) -> None:
        iam = self.iam
        try:
            iam.get_account_password_policy()
            self.skipped += 1
        except iam.exceptions.NoSuchEntityException:
            iam.update_account_password_policy(**PASSWORD_POLICY)
            self.created += 1

        for name in POLICIES:
            self.ensure_policy(name)

        self.ensure_group("admins", ["AdministratorAccessCustom"])
        self.ensure_group("developers", ["KeyRotationHelper"])

        self.ensure_user("alice", console=True, keys=0, groups=["admins"])
        self.ensure_virtual_mfa("alice")
        self.ensure_user("bob", console=True, keys=1, groups=["developers"])
        self.ensure_user("carol", console=False, keys=2, groups=[])
        iam.put_user_policy(UserName="carol", PolicyName=CAROL_INLINE_NAME, PolicyDocument=CAROL_INLINE)
        self.ensure_user("dave", console=False, keys=0, groups=[])
        iam.attach_user_policy(UserName="dave", PolicyArn=self.policy_arn("ReportsReadOnly"))

        self.ensure_role(
            "ci-deployer",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{EXTERNAL_ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "CiDeployerPolicy",
            "Assumed by the CI system in another account (no ExternalId)",
        )
        self.ensure_role(
            "auditor-readonly",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"sts:ExternalId": AUDITOR_EXTERNAL_ID}},
                    }
                ],
            },
            "AuditorReadOnlyCustom",
            "Read-only role for the auditor (requires sts:ExternalId)",
        )
        own_account = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        self.ensure_role(
            "automation",
            own_account,
            AUTOMATION_POLICIES,
            "Internal automation with IAM write access (privilege-escalation paths)",
        )
        self.ensure_role(
            "power-user",
            own_account,
            "PowerUserCustom",
            "Everything but IAM (NotAction)",
        )

    def regional(self, endpoint_url: str) -> None:
        """Resources of the regional collectors. Skips what exists (by name), like the rest."""
        import boto3
        from botocore.config import Config

        cfg = Config(retries={"max_attempts": 2, "mode": "standard"})
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

        def client(service: str, region: str):
            return session.client(service, endpoint_url=endpoint_url, region_name=region, config=cfg)

        # Security groups in the default VPC of each region.
        groups = {
            REGION: [("web-public", [(443, "0.0.0.0/0"), (22, "0.0.0.0/0")]), ("db-internal", [(5432, "10.0.0.0/8")])],
            SECOND_REGION: [("rdp-open", [(3389, "0.0.0.0/0")])],
        }
        for region, specs in groups.items():
            ec2 = client("ec2", region)
            existing = {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
            for name, rules in specs:
                if name in existing:
                    self.skipped += 1
                    continue
                group_id = ec2.create_security_group(GroupName=name, Description=f"demo {name}")["GroupId"]
                ec2.authorize_security_group_ingress(
                    GroupId=group_id,
                    IpPermissions=[
                        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}
                        for port, cidr in rules
                    ],
                )
                self.created += 1

        # KMS keys, found again by their alias.
        keys = {
            REGION: [("alias/app-data", {}, True, True), ("alias/legacy-exports", {}, False, True)],
            SECOND_REGION: [
                ("alias/code-signing", {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}, False, True),
                ("alias/retired", {}, False, False),
            ],
        }
        for region, specs in keys.items():
            kms = client("kms", region)
            aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
            for alias, create_args, rotate, enabled in specs:
                if alias in aliases:
                    self.skipped += 1
                    continue
                key_id = kms.create_key(Description=f"demo {alias}", **create_args)["KeyMetadata"]["KeyId"]
                kms.create_alias(AliasName=alias, TargetKeyId=key_id)
                if rotate:
                    kms.enable_key_rotation(KeyId=key_id)
                if not enabled:
                    kms.disable_key(KeyId=key_id)
                self.created += 1

        # Buckets (each in its region), then trails writing to the log buckets.
        buckets = [
            ("demo-cloudtrail-logs", REGION),
            ("demo-eu-trail-logs", SECOND_REGION),
            ("demo-public-assets", REGION),
            ("demo-public-website", REGION),
            ("demo-private-data", SECOND_REGION),
        ]
        s3 = client("s3", REGION)
        have = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        for name, region in buckets:
            if name in have:
                self.skipped += 1
                continue
            regional_s3 = client("s3", region)
            if region == "us-east-1":
                regional_s3.create_bucket(Bucket=name)
            else:
                regional_s3.create_bucket(
                    Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
                )
            self.created += 1
        client("s3", REGION).put_bucket_acl(Bucket="demo-public-assets", ACL="public-read")
        client("s3", REGION).put_bucket_policy(
            Bucket="demo-public-website",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::demo-public-website/*",
                        }
                    ],
                }
            ),
        )
        client("s3", SECOND_REGION).put_public_access_block(
            Bucket="demo-private-data",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        # The account-level block. boto3's s3control puts the account id in front of the host
        # (123456789012.127.0.0.1), which cannot resolve: strip it just before the request is sent.
        s3control = client("s3control", REGION)
        prefix = f"{self.account}."

        def to_emulator(request, **_):
            request.url = request.url.replace(f"://{prefix}", "://", 1)

        s3control.meta.events.register("before-send.s3-control", to_emulator)
        s3control.put_public_access_block(
            AccountId=self.account,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False,
            },
        )

        trails = [
            ("org-audit", REGION, "demo-cloudtrail-logs", True, True),
            ("eu-app", SECOND_REGION, "demo-eu-trail-logs", False, False),
        ]
        for name, region, bucket, multi_region, validation in trails:
            ct = client("cloudtrail", region)
            if any(t["Name"] == name for t in ct.describe_trails(includeShadowTrails=False)["trailList"]):
                self.skipped += 1
                continue
            ct.create_trail(
                Name=name,
                S3BucketName=bucket,
                IsMultiRegionTrail=multi_region,
                EnableLogFileValidation=validation,
            )
            ct.start_logging(Name=name)
            self.created += 1

        guardduty = client("guardduty", REGION)
        if guardduty.list_detectors()["DetectorIds"]:
            self.skipped += 1
        else:
            guardduty.create_detector(Enable=True)
            self.created += 1

    def summary(self, endpoint_url: str) -> str:
        return "\n".join(
            [
                f"Seeded sample account {self.account} at {endpoint_url} ({REGION}): "
                f"{self.created} created, {self.skipped} already existed",
                "  password policy: min length 14, symbols/numbers/upper/lower, reuse 24, max age 90",
                "  groups:  admins (AdministratorAccessCustom: * on *), developers "
                "(KeyRotationHelper: iam:CreateAccessKey on *)",
                "  users:   alice (console, virtual MFA, admins)",
                "           bob   (console, no MFA, 1 access key, developers)",
                f"           carol (no console, 2 access keys, inline policy {CAROL_INLINE_NAME})",
                "           dave  (no console, no keys, attached ReportsReadOnly)",
                f"  roles:   ci-deployer (trusts {EXTERNAL_ACCOUNT} without ExternalId, CiDeployerPolicy)",
                f"           auditor-readonly (trusts {self.account} root with sts:ExternalId, "
                "AuditorReadOnlyCustom)",
                f"           automation (trusts {self.account} root, {', '.join(AUTOMATION_POLICIES)})",
                f"           power-user (trusts {self.account} root, PowerUserCustom: NotAction iam:*)",
                f"  {REGION}: security groups web-public (22, 443 open), db-internal; keys app-data "
                "(rotated), legacy-exports (not rotated); multi-region trail org-audit; GuardDuty on",
                f"  {SECOND_REGION}: security group rdp-open (3389 open); keys code-signing "
                "(RSA_2048), retired (disabled); single-region trail eu-app; no GuardDuty",
                "  S3: demo-public-assets (public-read ACL), demo-public-website (public policy), "
                "demo-private-data (bucket block), account block: BlockPublicAcls only",
            ]
        )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        seeder = Seeder(args.endpoint_url)
        seeder.run()
        seeder.regional(args.endpoint_url)
    except Exception as e:  # noqa: BLE001 - report any boto/connection error in one line
        print(f"seed.py: seeding {args.endpoint_url} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(seeder.summary(args.endpoint_url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
