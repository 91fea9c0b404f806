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
  - EC2: instances legacy-app (IMDSv1 allowed: HttpTokens optional) and web (HttpTokens required)
    in us-east-1; EBS encryption by default on in us-east-1 only; a VPC app-vpc with a flow log
    to CloudWatch Logs and a network ACL denying 22 (rule 90) before an allow-all (rule 100), and
    a VPC legacy-vpc (eu-west-1) without flow log
  - CloudTrail org-audit sends to the log group cloudtrail/org-audit, with metric filters for CIS
    AWS Foundations v3.0 4.1 (unauthorized API calls), 4.2 (console sign-in without MFA) and 4.3
    (root usage); 4.1 and 4.3 have alarms notifying the SNS topic security-alerts (an email
    subscription), 4.2 has none, and the other section 4 items have no filter at all
  - AWS Config recording in us-east-1 (recorder, delivery channel to demo-config-logs) with rules
    s3-bucket-public-read-prohibited and cloudtrail-enabled; nothing in eu-west-1
  - IAM Identity Center (home us-east-1): permission sets AdministratorAccess (AWS managed policy)
    and ReadOnly (ReadOnlyAccess plus an inline policy), users maria, tom and lee, the group
    platform-admins (maria, tom) assigned AdministratorAccess, and lee assigned ReadOnly directly
  - an IAM Access Analyzer analyzer account-analyzer in us-east-1 only (none in eu-west-1)

With the test emulator (scripts/emulator/server.py; not stock moto), it also seeds, through
its private endpoint POST /soc2-emulator/seed, what no AWS write API can create: the analyzer's
findings (one ACTIVE, one RESOLVED), GuardDuty findings (one High active, one High archived, one
Low), the config rules' compliance (NON_COMPLIANT with 2 resources, COMPLIANT), and the root
user's facts (MFA on, no access key). Against stock moto those are skipped with a note, and
the calls moto lacks (Access Analyzer...) are skipped too.

Entities that already exist are skipped (reported as "exists"), so running it twice is harmless.
Refuses any endpoint whose host is not 127.0.0.1 or localhost. Never prints secrets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.request
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

# CIS AWS Foundations v3.0 section 4 items the demo monitors: filter name, metric, pattern, and
# the alarm's name (None: a filter without alarm, which CIS counts as not monitored).
CIS_METRIC_FILTERS = [
    (
        "unauthorized-api-calls",
        "UnauthorizedAPICalls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
        '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
        "cis-4.1-unauthorized-api-calls",
    ),
    (
        "console-signin-without-mfa",
        "ConsoleSignInWithoutMfa",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
        '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        None,
    ),
    (
        "root-account-usage",
        "RootAccountUsage",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }',
        "cis-4.3-root-account-usage",
    ),
]

# Config rules: name, AWS managed rule, extra settings, seeded compliance, non-compliant count.
CONFIG_RULES = [
    (
        "s3-bucket-public-read-prohibited",
        "S3_BUCKET_PUBLIC_READ_PROHIBITED",
        {"Scope": {"ComplianceResourceTypes": ["AWS::S3::Bucket"]}},
        "NON_COMPLIANT",
        2,
    ),
    ("cloudtrail-enabled", "CLOUD_TRAIL_ENABLED", {"MaximumExecutionFrequency": "TwentyFour_Hours"}, "COMPLIANT", None),
]

READ_ONLY_INLINE = doc(
    [
        {
            "Sid": "NoSecretValues",
            "Effect": "Deny",
            "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameter*"],
            "Resource": "*",
        }
    ]
)
# Identity Center permission sets: name, description, session duration, AWS managed policy, inline.
PERMISSION_SETS = [
    ("AdministratorAccess", "Full administrator access", "PT1H", "arn:aws:iam::aws:policy/AdministratorAccess", None),
    ("ReadOnly", "Read-only access without secret values", "PT8H", "arn:aws:iam::aws:policy/ReadOnlyAccess", READ_ONLY_INLINE),
]
SSO_USERS = [("maria", "Maria", "Lopez"), ("tom", "Tom", "Berg"), ("lee", "Lee", "Chen")]
SSO_GROUP = "platform-admins"
SSO_GROUP_MEMBERS = ["maria", "tom"]

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
        self.notes: list[str] = []
        self.emulator = False

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

    # -- what the newer collectors read, and the emulator's seeded state ---------------------

    def emulator_seed(self, endpoint_url: str, document: dict) -> dict | None:
        """POST a seed document to the test emulator; None when the endpoint is stock moto."""
        request = urllib.request.Request(
            endpoint_url.rstrip("/") + "/soc2-emulator/seed",
            data=json.dumps(document).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise RuntimeError(f"the emulator refused the seed: {e.read().decode(errors='replace')}") from e

    def is_test_emulator(self, endpoint_url: str) -> bool:
        try:
            with urllib.request.urlopen(endpoint_url.rstrip("/") + "/soc2-emulator/state", timeout=10) as answer:
                return answer.status == 200
        except urllib.error.HTTPError:
            return False

    def security(self, endpoint_url: str) -> None:
        """EC2, VPC, CloudTrail monitoring, Config, Identity Center, Access Analyzer, GuardDuty
        findings: what the newer collectors read. Skips what exists, like the rest."""
        import boto3
        from botocore.config import Config

        cfg = Config(retries={"max_attempts": 2, "mode": "standard"})
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

        def client(service: str, region: str = REGION):
            return session.client(service, endpoint_url=endpoint_url, region_name=region, config=cfg)

        emulator = self.is_test_emulator(endpoint_url)
        self.emulator = emulator
        account = self.account
        seed: dict = {"account": account}

        # --- EC2: IMDS settings, EBS default encryption, VPCs, flow logs, network ACLs -------
        ec2 = client("ec2")
        named = {
            t["Value"]
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
            for t in i.get("Tags", [])
            if t["Key"] == "Name"
        }
        for name, tokens in (("legacy-app", "optional"), ("web", "required")):
            if name in named:
                self.skipped += 1
                continue
            ec2.run_instances(
                ImageId="ami-0abcdef1234567890",
                InstanceType="t3.micro",
                MinCount=1,
                MaxCount=1,
                MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled"},
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
            )
            self.created += 1
        if not ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]:
            ec2.enable_ebs_encryption_by_default()
            self.created += 1

        logs = client("logs")

        def ensure_log_group(name: str) -> str:
            if not logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
                logs.create_log_group(logGroupName=name)
                self.created += 1
            return f"arn:aws:logs:{REGION}:{account}:log-group:{name}:*"

        def ensure_vpc(ec2c, name: str, cidr: str) -> tuple[str, bool]:
            found = ec2c.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
            if found:
                self.skipped += 1
                return found[0]["VpcId"], False
            vpc = ec2c.create_vpc(
                CidrBlock=cidr,
                TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}],
            )["Vpc"]["VpcId"]
            self.created += 1
            return vpc, True

        app_vpc, new = ensure_vpc(ec2, "app-vpc", "10.20.0.0/16")
        if new:
            ensure_log_group("vpc-flow-logs/app-vpc")
            ec2.create_flow_logs(
                ResourceIds=[app_vpc],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="cloud-watch-logs",
                LogGroupName="vpc-flow-logs/app-vpc",
                DeliverLogsPermissionArn=f"arn:aws:iam::{account}:role/vpc-flow-logs",
            )
            acl = ec2.create_network_acl(
                VpcId=app_vpc,
                TagSpecifications=[{"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "app-nacl"}]}],
            )["NetworkAcl"]["NetworkAclId"]
            for number, protocol, action, ports in ((90, "6", "deny", {"From": 22, "To": 22}), (100, "-1", "allow", None)):
                entry = dict(
                    NetworkAclId=acl,
                    RuleNumber=number,
                    Protocol=protocol,
                    RuleAction=action,
                    Egress=False,
                    CidrBlock="0.0.0.0/0",
                )
                if ports:
                    entry["PortRange"] = ports
                ec2.create_network_acl_entry(**entry)
        ensure_vpc(client("ec2", SECOND_REGION), "legacy-vpc", "10.30.0.0/16")

        # --- CloudTrail to CloudWatch Logs, metric filters, alarms, SNS (CIS 4.x) ------------
        trail_group = "cloudtrail/org-audit"
        group_arn = ensure_log_group(trail_group)
        client("cloudtrail").update_trail(
            Name="org-audit",
            CloudWatchLogsLogGroupArn=group_arn,
            CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/cloudtrail-to-logs",
        )
        sns = client("sns")
        topic = sns.create_topic(Name="security-alerts")["TopicArn"]  # idempotent in AWS and moto
        if not sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
            self.created += 1
        have_filters = {f["filterName"] for f in logs.describe_metric_filters(logGroupName=trail_group)["metricFilters"]}
        cloudwatch = client("cloudwatch")
        for filter_name, metric, pattern, alarm in CIS_METRIC_FILTERS:
            if filter_name in have_filters:
                self.skipped += 1
            else:
                logs.put_metric_filter(
                    logGroupName=trail_group,
                    filterName=filter_name,
                    filterPattern=pattern,
                    metricTransformations=[{"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}],
                )
                self.created += 1
            if alarm:
                cloudwatch.put_metric_alarm(
                    AlarmName=alarm,
                    AlarmDescription=f"CIS AWS Foundations v3.0: {filter_name}",
                    MetricName=metric,
                    Namespace="CISBenchmark",
                    Statistic="Sum",
                    Period=300,
                    EvaluationPeriods=1,
                    Threshold=1.0,
                    ComparisonOperator="GreaterThanOrEqualToThreshold",
                    TreatMissingData="notBreaching",
                    AlarmActions=[topic],
                )

        # --- AWS Config: recording in us-east-1 only -----------------------------------------
        config = client("config")
        if not config.describe_configuration_recorders()["ConfigurationRecorders"]:
            config.put_configuration_recorder(
                ConfigurationRecorder={
                    "name": "default",
                    "roleARN": f"arn:aws:iam::{account}:role/aws-config",
                    "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
                }
            )
            s3 = client("s3")
            if "demo-config-logs" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(Bucket="demo-config-logs")
            config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "demo-config-logs"})
            config.start_configuration_recorder(ConfigurationRecorderName="default")
            self.created += 1
        else:
            self.skipped += 1
        have_rules = {r["ConfigRuleName"] for r in config.describe_config_rules()["ConfigRules"]}
        for rule, source, extra, _, _ in CONFIG_RULES:
            if rule in have_rules:
                self.skipped += 1
                continue
            config.put_config_rule(
                ConfigRule={"ConfigRuleName": rule, "Source": {"Owner": "AWS", "SourceIdentifier": source}, **extra}
            )
            self.created += 1
        seed["config"] = {
            "compliance": [
                {"region": REGION, "rule": rule, "complianceType": kind, "count": count}
                for rule, _, _, kind, count in CONFIG_RULES
            ]
        }

        # --- IAM Identity Center ---------------------------------------------------------------
        sso = client("sso-admin")
        instance = sso.list_instances()["Instances"][0]
        instance_arn, store = instance["InstanceArn"], instance["IdentityStoreId"]
        permission_sets = {}
        for arn in sso.list_permission_sets(InstanceArn=instance_arn)["PermissionSets"]:
            described = sso.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)["PermissionSet"]
            permission_sets[described["Name"]] = arn
        for name, description, duration, managed, inline in PERMISSION_SETS:
            if name in permission_sets:
                self.skipped += 1
                continue
            arn = sso.create_permission_set(
                InstanceArn=instance_arn, Name=name, Description=description, SessionDuration=duration
            )["PermissionSet"]["PermissionSetArn"]
            permission_sets[name] = arn
            sso.attach_managed_policy_to_permission_set(
                InstanceArn=instance_arn, PermissionSetArn=arn, ManagedPolicyArn=managed
            )
            if inline:
                sso.put_inline_policy_to_permission_set(
                    InstanceArn=instance_arn, PermissionSetArn=arn, InlinePolicy=inline
                )
            self.created += 1
        identity = client("identitystore")
        users = {}
        for user_name, given, family in SSO_USERS:
            found = identity.list_users(
                IdentityStoreId=store, Filters=[{"AttributePath": "UserName", "AttributeValue": user_name}]
            )["Users"]
            if found:
                users[user_name] = found[0]["UserId"]
                self.skipped += 1
                continue
            users[user_name] = identity.create_user(
                IdentityStoreId=store,
                UserName=user_name,
                DisplayName=f"{given} {family}",
                Name={"GivenName": given, "FamilyName": family},
                Emails=[{"Value": f"{user_name}@example.com", "Type": "work", "Primary": True}],
            )["UserId"]
            self.created += 1
        groups = identity.list_groups(
            IdentityStoreId=store, Filters=[{"AttributePath": "DisplayName", "AttributeValue": SSO_GROUP}]
        )["Groups"]
        if groups:
            group_id = groups[0]["GroupId"]
            self.skipped += 1
        else:
            group_id = identity.create_group(
                IdentityStoreId=store, DisplayName=SSO_GROUP, Description="Platform administrators"
            )["GroupId"]
            for member in SSO_GROUP_MEMBERS:
                identity.create_group_membership(
                    IdentityStoreId=store, GroupId=group_id, MemberId={"UserId": users[member]}
                )
            self.created += 1
        for permission_set, principal_type, principal in (
            ("AdministratorAccess", "GROUP", group_id),
            ("ReadOnly", "USER", users["lee"]),
        ):
            arn = permission_sets[permission_set]
            existing = sso.list_account_assignments(InstanceArn=instance_arn, AccountId=account, PermissionSetArn=arn)
            if any(a["PrincipalId"] == principal for a in existing["AccountAssignments"]):
                self.skipped += 1
                continue
            sso.create_account_assignment(
                InstanceArn=instance_arn,
                TargetId=account,
                TargetType="AWS_ACCOUNT",
                PermissionSetArn=arn,
                PrincipalType=principal_type,
                PrincipalId=principal,
            )
            self.created += 1
        seed["identity_center"] = {"home_region": REGION}

        if not emulator:
            self.notes.append(
                "stock moto: no Access Analyzer, GuardDuty findings, Config compliance or root facts "
                "seeded (start the test emulator, scripts/emulator/server.py, for those)"
            )
            return

        # --- IAM Access Analyzer (served by the test emulator) ---------------------------------
        analyzer_client = client("accessanalyzer")
        if any(a["name"] == "account-analyzer" for a in analyzer_client.list_analyzers()["analyzers"]):
            self.skipped += 1
        else:
            analyzer_client.create_analyzer(analyzerName="account-analyzer", type="ACCOUNT")
            self.created += 1
        now = dt.datetime.now(dt.timezone.utc)

        def ago(days: int) -> str:
            return (now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

        seed["access_analyzer"] = {
            "findings": [
                {
                    "region": REGION,
                    "analyzer": "account-analyzer",
                    "id": "5b2e7a0c-0d7e-4c1e-9b61-2f6a3c1d0a01",
                    "status": "ACTIVE",
                    "findingType": "ExternalAccess",
                    "resource": "arn:aws:s3:::demo-public-website",
                    "resourceType": "AWS::S3::Bucket",
                    "principal": {"AWS": "*"},
                    "action": ["s3:GetObject"],
                    "isPublic": True,
                    "createdAt": ago(45),
                    "updatedAt": ago(45),
                },
                {
                    "region": REGION,
                    "analyzer": "account-analyzer",
                    "id": "5b2e7a0c-0d7e-4c1e-9b61-2f6a3c1d0a02",
                    "status": "RESOLVED",
                    "findingType": "ExternalAccess",
                    "resource": f"arn:aws:iam::{account}:role/ci-deployer-legacy",
                    "resourceType": "AWS::IAM::Role",
                    "principal": {"AWS": EXTERNAL_ACCOUNT},
                    "action": ["sts:AssumeRole"],
                    "isPublic": False,
                    "createdAt": ago(120),
                    "updatedAt": ago(60),
                },
            ]
        }

        # --- GuardDuty findings of the us-east-1 detector ------------------------------------
        legacy = [
            i["InstanceId"]
            for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["legacy-app"]}])["Reservations"]
            for i in r["Instances"]
        ]
        instance_resource = {
            "resourceType": "Instance",
            "instanceDetails": {"instanceId": legacy[0] if legacy else "i-0legacy", "instanceType": "t3.micro"},
        }
        seed["guardduty"] = {
            "findings": [
                {
                    "region": REGION,
                    "id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                    "type": "UnauthorizedAccess:EC2/SSHBruteForce",
                    "severity": 8.0,
                    "title": "SSH brute force attacks against the instance legacy-app",
                    "description": "The instance is the target of SSH brute force attempts from 198.51.100.7.",
                    "archived": False,
                    "count": 14,
                    "resource": instance_resource,
                    "createdAt": ago(3),
                    "updatedAt": ago(1),
                },
                {
                    "region": REGION,
                    "id": "a1b2c3d4e5f60718293a4b5c6d7e8f91",
                    "type": "Recon:EC2/PortProbeUnprotectedPort",
                    "severity": 7.2,
                    "title": "Unprotected port on the instance legacy-app is being probed",
                    "description": "Port 22 is probed by a known scanner; reviewed and archived.",
                    "archived": True,
                    "count": 3,
                    "resource": instance_resource,
                    "createdAt": ago(40),
                    "updatedAt": ago(30),
                },
                {
                    "region": REGION,
                    "id": "a1b2c3d4e5f60718293a4b5c6d7e8f92",
                    "type": "Policy:IAMUser/RootCredentialUsage",
                    "severity": 2.0,
                    "title": "Root credentials were used",
                    "description": "An API was invoked with the root user's credentials.",
                    "archived": False,
                    "count": 1,
                    "resource": {"resourceType": "AccessKey", "accessKeyDetails": {"userName": "Root", "userType": "Root"}},
                    "createdAt": ago(20),
                    "updatedAt": ago(20),
                },
            ]
        }
        seed["iam"] = {"root": {"mfa_active": True, "access_key_active": False, "password_last_used": ago(41),
                                "created": "2023-03-01T09:00:00Z"}}
        self.emulator_seed(endpoint_url, seed)

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
                f"  EC2 ({REGION}): legacy-app (IMDSv1 allowed), web (IMDSv2 required); EBS default "
                f"encryption on ({SECOND_REGION}: off); app-vpc (flow log, NACL denies 22 at rule 90 "
                f"before allow-all), legacy-vpc in {SECOND_REGION} (no flow log)",
                "  monitoring: trail org-audit -> log group cloudtrail/org-audit; CIS 4.1 and 4.3 filters "
                "with alarms -> SNS security-alerts (email); 4.2 filter without alarm; others none",
                f"  Config: recording in {REGION} (rules s3-bucket-public-read-prohibited: NON_COMPLIANT, "
                f"cloudtrail-enabled: COMPLIANT); none in {SECOND_REGION}",
                "  Identity Center: AdministratorAccess -> group platform-admins (maria, tom); "
                "ReadOnly (inline policy) -> user lee",
            ]
            + (
                [
                    f"  Access Analyzer: account-analyzer in {REGION} (1 active, 1 resolved finding); "
                    f"none in {SECOND_REGION}",
                    "  GuardDuty findings: High active (SSH brute force), High archived, Low active; "
                    "root: MFA on, no access key",
                ]
                if self.emulator
                else []
            )
            + [f"  note: {n}" for n in self.notes]
        )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        seeder = Seeder(args.endpoint_url)
        seeder.run()
        seeder.regional(args.endpoint_url)
        seeder.security(args.endpoint_url)
    except Exception as e:  # noqa: BLE001 - report any boto/connection error in one line
        print(f"seed.py: seeding {args.endpoint_url} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(seeder.summary(args.endpoint_url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
