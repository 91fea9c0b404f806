//! The org rules: what an org bundle shows of the organization as a whole, judged from its
//! `organization/` files and its accounts' bundles (`accounts/<account-id>/`), with no AWS call,
//! so `report` can re-derive them. Like the single-account rules, a rule never passes silently:
//! it is `not_evaluated` or `partial` with the reason when its evidence is missing.
//!
//! # Rules
//!
//! | id | severity | controls | reference |
//! |---|---|---|---|
//! | `org-scps-disabled` | high | CC6.1 | AWS Organizations User Guide, "Service control policies (SCPs)" |
//! | `org-scp-cloudtrail-unprotected` | medium | CC7.2, CC6.1 | AWS Organizations User Guide, "Service control policy examples" |
//! | `org-scp-security-services-unprotected` | medium | CC7.2, CC6.1 | AWS Security Reference Architecture (AWS SRA) |
//! | `org-scp-leave-organization` | medium | CC6.1 | AWS Organizations User Guide, "Service control policy examples" |
//! | `org-no-organization-trail` | high | CC7.2 | CIS AWS Foundations 3.1 |
//!
//! Severities: no SCPs at all removes every guardrail of the organization, and an account
//! without any multi-region trail is unlogged (high, as the single-account
//! `cloudtrail-multi-region`); a missing guardrail SCP is one preventive layer missing over
//! settings the accounts' own rules judge (medium).
//!
//! # Semantics
//!
//! - **Org data**: without `organization/organization.json`, or when it says `accounts_only`
//!   (the run used `--account` without `--org`), every rule is `not_evaluated`: "no AWS
//!   Organizations data: the run used --account without --org".
//! - **Member accounts judged**: the rows of `organization/accounts.csv` with status `ACTIVE`
//!   that are not the management account and whose `collection_status` is not `excluded` (left
//!   out of the run by `--account`, `--skip-account`, `--ou`) nor `other_shard` (judged by its
//!   own shard). The management account is never judged by the SCP rules: SCPs do not apply to
//!   it, whatever is attached to it.
//! - **SCPs in effect** for an account (`judge::scp`): the policies of type
//!   `SERVICE_CONTROL_POLICY` in `organization/policies.json` attached to the root, to an OU on
//!   the account's path (`ou_ids`), or to the account, while that type is `ENABLED` on the root.
//!   When it is not, no SCP is in effect anywhere, and every member account gets a finding of
//!   each SCP rule that says so (beside the one `org-scps-disabled` finding).
//! - **Denies**: an action is denied for an account when some SCP in effect has a `Deny`
//!   statement whose `Action` matches it (IAM wildcards `*` and `?`, case-insensitive) or whose
//!   `NotAction` does not, on `Resource` `"*"`. A statement on some resources only, or with
//!   `NotResource`, does not count. A statement with a `Condition` counts: the SCPs are meant
//!   to leave a break-glass role out (`ArnNotLike aws:PrincipalARN ...`), and whether a
//!   condition is narrow enough is for a person to judge, so findings name every condition
//!   that limits a deny ("denied by Guardrails only when aws:PrincipalARN ArnNotLike ...").
//!   `Allow` statements are ignored. A statement that cannot be read is not counted, and makes
//!   the rule `partial` when it concerns an account with a finding, naming the policy.
//! - `org-scps-disabled`: one finding per root whose `SERVICE_CONTROL_POLICY` type is not
//!   `ENABLED` (`PENDING_ENABLE` and `PENDING_DISABLE` included), for the management account.
//! - `org-scp-cloudtrail-unprotected`: per member account judged, `cloudtrail:StopLogging` and
//!   `cloudtrail:DeleteTrail` must both be denied (either one stops the logging). The finding
//!   also says whether `cloudtrail:UpdateTrail` and `cloudtrail:PutEventSelectors` are denied:
//!   advisory only (they can narrow a trail without stopping it), never a finding by themselves.
//! - `org-scp-security-services-unprotected`: per member account judged, each service is
//!   protected when all its actions are denied: GuardDuty `guardduty:DeleteDetector`,
//!   `guardduty:DisassociateFromMasterAccount` and `guardduty:DisassociateFromAdministratorAccount`
//!   (both names of the same operation still work); IAM Access Analyzer
//!   `access-analyzer:DeleteAnalyzer`; AWS Config `config:StopConfigurationRecorder`,
//!   `config:DeleteConfigurationRecorder` and `config:DeleteDeliveryChannel`. One finding per
//!   account with an unprotected service; the detail names each one and its actions.
//! - `org-scp-leave-organization`: per member account judged, `organizations:LeaveOrganization`
//!   must be denied.
//! - `org-no-organization-trail`: an organization trail exists when some account bundle's
//!   `evidence/cloudtrail/trails.json` lists a trail with `IsOrganizationTrail` true (it lives in
//!   the management account or CloudTrail's delegated administrator, and member accounts see
//!   it too); then the rule has no finding (whether that trail logs, validates and encrypts is
//!   for the single-account CloudTrail rules of the account that holds it). Otherwise each member account judged whose own
//!   `cloudtrail-multi-region` outcome (its `findings.json`, so the single-account logic is
//!   reused as that bundle applied it) has a finding gets one. The rule is `partial` when the
//!   trails of the management account or of a CloudTrail delegated administrator could not be
//!   read (no bundle, `cloudtrail` not collected, file missing), or when a member's outcome is
//!   unknown (no bundle, no `findings.json`, the rule not evaluated there), naming each.
//!
//! A finding's `account` is the account it concerns; its `resource` the account's ARN
//! (`arn:aws:organizations::<management>:account/<org-id>/<account-id>`, or the account id when
//! the organization's ids are unknown; the root's ARN for `org-scps-disabled`); its `evidence`
//! the bundle path the judgement was read from; its region `global`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Finding, RuleOutcome, RuleStatus};
use crate::bundle::manifest::Manifest;
use crate::contract::cloudtrail::TrailRecord;
use crate::contract::organization::{
    status, AccountRow, DelegatedAdminRow, OrganizationFile, PoliciesFile, PolicyRecord,
    TargetRecord,
};
use crate::contract::{Document, Table};
use crate::controls::Control;
use crate::judge::scp::{self, Denial};
use crate::vocab::{CollectorStatus, Severity, GLOBAL};

/// One finding of an org bundle: the account it concerns, then the finding's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgFinding {
    pub account: String,
    #[serde(flatten)]
    pub finding: Finding,
}

/// What the org rules came to: one outcome per rule in [`ORG_RULES`] order, and the findings
/// sorted by severity, rule order, account, resource and detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgAnalysis {
    pub outcomes: Vec<RuleOutcome>,
    pub findings: Vec<OrgFinding>,
}

/// A rule's evaluation: adds its findings through the out, or says why it cannot be evaluated.
type Evaluate = fn(&OrgInput, &mut OrgOut<'_>) -> Result<(), String>;

/// An org rule.
pub struct OrgRuleSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub controls: &'static [Control],
    /// One public reference: a CIS AWS Foundations number or a document's URL.
    pub references: &'static [&'static str],
    pub remediation: &'static str,
    evaluate: Evaluate,
}

impl std::fmt::Debug for OrgRuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgRuleSpec").field("id", &self.id).finish()
    }
}

const SCPS_GUIDE: &str =
    "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html";
const SCP_EXAMPLES: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples.html";
const SRA: &str =
    "https://docs.aws.amazon.com/prescriptive-guidance/latest/security-reference-architecture/welcome.html";

/// Every org rule, in report order.
pub static ORG_RULES: &[OrgRuleSpec] = &[
    OrgRuleSpec {
        id: "org-scps-disabled",
        title: "Service control policies not enabled in the organization",
        severity: Severity::High,
        controls: &[Control::Cc5_2, Control::Cc6_1],
        references: &[SCPS_GUIDE],
        remediation: "From the management account, enable all features if the organization \
                      has only consolidated billing, then `aws organizations enable-policy-type \
                      --root-id ROOT --policy-type SERVICE_CONTROL_POLICY`, and attach guardrail \
                      SCPs (deny stopping CloudTrail, disabling security services, leaving the \
                      organization).",
        evaluate: scps_disabled,
    },
    OrgRuleSpec {
        id: "org-scp-cloudtrail-unprotected",
        title: "No SCP denies stopping or deleting CloudTrail trails",
        severity: Severity::Medium,
        controls: &[Control::Cc5_2, Control::Cc7_2, Control::Cc6_1],
        references: &[SCP_EXAMPLES],
        remediation: "Attach to the root an SCP with a Deny statement on Resource \"*\" for \
                      cloudtrail:StopLogging and cloudtrail:DeleteTrail (and \
                      cloudtrail:UpdateTrail, cloudtrail:PutEventSelectors), leaving out at most \
                      a break-glass role with an aws:PrincipalARN condition.",
        evaluate: cloudtrail_unprotected,
    },
    OrgRuleSpec {
        id: "org-scp-security-services-unprotected",
        title: "No SCP protects GuardDuty, IAM Access Analyzer and AWS Config",
        severity: Severity::Medium,
        controls: &[Control::Cc5_2, Control::Cc7_2, Control::Cc6_1],
        references: &[SRA],
        remediation: "Attach to the root an SCP with a Deny statement on Resource \"*\" for \
                      guardduty:DeleteDetector, guardduty:DisassociateFromMasterAccount, \
                      guardduty:DisassociateFromAdministratorAccount, \
                      access-analyzer:DeleteAnalyzer, config:StopConfigurationRecorder, \
                      config:DeleteConfigurationRecorder and config:DeleteDeliveryChannel.",
        evaluate: security_services_unprotected,
    },
    OrgRuleSpec {
        id: "org-scp-leave-organization",
        title: "No SCP denies leaving the organization",
        severity: Severity::Medium,
        controls: &[Control::Cc5_2, Control::Cc6_1],
        references: &[SCP_EXAMPLES],
        remediation: "Attach to the root an SCP with a Deny statement on Resource \"*\" for \
                      organizations:LeaveOrganization.",
        evaluate: leave_organization,
    },
    OrgRuleSpec {
        id: "org-no-organization-trail",
        title: "No organization trail, and an account without a multi-region trail",
        severity: Severity::High,
        controls: &[Control::Cc7_2],
        references: &["CIS 3.1"],
        remediation: "From the management account (or CloudTrail's delegated administrator) \
                      create an organization trail: `aws cloudtrail create-trail --name NAME \
                      --s3-bucket-name BUCKET --is-organization-trail --is-multi-region-trail`, \
                      then `aws cloudtrail start-logging --name NAME`; or give each account named \
                      a multi-region trail of its own.",
        evaluate: no_organization_trail,
    },
];

/// Why no org rule is evaluated on a bundle without Organizations data.
pub const NO_ORGANIZATION: &str = "no AWS Organizations data: the run used --account without --org";

/// The single-account rule whose outcome `org-no-organization-trail` reads in each account's
/// `findings.json`.
const MULTI_REGION_RULE: &str = "cloudtrail-multi-region";

/// Evaluates every org rule on the org bundle at `org_root` (its organization/ folder and
/// accounts/<id>/ bundles).
pub fn evaluate(org_root: &Path) -> OrgAnalysis {
    let organization = OrgInput::load(org_root);
    let mut outcomes = Vec::new();
    let mut findings = Vec::new();
    for spec in ORG_RULES {
        let mut out = OrgOut {
            spec,
            findings: Vec::new(),
            gaps: Vec::new(),
        };
        let (status, reason) = match &organization {
            Err(why) => (RuleStatus::NotEvaluated, why.clone()),
            Ok(input) => match (spec.evaluate)(input, &mut out) {
                Err(why) => {
                    out.findings.clear();
                    (RuleStatus::NotEvaluated, why)
                }
                Ok(()) if out.gaps.is_empty() => (RuleStatus::Evaluated, String::new()),
                Ok(()) => (RuleStatus::Partial, out.gaps.join("; ")),
            },
        };
        outcomes.push(RuleOutcome {
            rule: spec.id.to_string(),
            title: spec.title.to_string(),
            severity: spec.severity,
            controls: controls(spec),
            references: references(spec),
            status,
            findings: out.findings.len(),
            reason,
        });
        findings.extend(out.findings);
    }
    let order = |rule: &str| ORG_RULES.iter().position(|s| s.id == rule);
    findings.sort_by(|a, b| {
        let key = |f: &OrgFinding| {
            (
                f.finding.severity,
                order(&f.finding.rule),
                f.account.clone(),
                f.finding.resource.clone(),
                f.finding.detail.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    OrgAnalysis { outcomes, findings }
}

fn controls(spec: &OrgRuleSpec) -> Vec<String> {
    spec.controls.iter().map(|c| c.id().to_string()).collect()
}

fn references(spec: &OrgRuleSpec) -> Vec<String> {
    spec.references.iter().map(|r| r.to_string()).collect()
}

/// Where a rule puts its findings and the gaps that make it partial.
struct OrgOut<'a> {
    spec: &'a OrgRuleSpec,
    findings: Vec<OrgFinding>,
    gaps: Vec<String>,
}

impl OrgOut<'_> {
    fn add(&mut self, account: &str, resource: String, detail: String, evidence: &str) {
        self.findings.push(OrgFinding {
            account: account.to_string(),
            finding: Finding {
                rule: self.spec.id.to_string(),
                severity: self.spec.severity,
                controls: controls(self.spec),
                resource,
                region: GLOBAL.to_string(),
                detail,
                evidence: evidence.to_string(),
                references: references(self.spec),
                remediation: self.spec.remediation.to_string(),
                status: Default::default(),
                exception: None,
            },
        });
    }

    fn partial(&mut self, why: String) {
        self.gaps.push(why);
    }
}

/// The org bundle as the rules read it: its organization (present and not `accounts_only`,
/// else no rule is evaluated) and its files, read when a rule asks.
struct OrgInput {
    root: PathBuf,
    organization: OrganizationFile,
}

impl OrgInput {
    fn load(root: &Path) -> Result<OrgInput, String> {
        let path = OrganizationFile::PATH;
        let bytes = match std::fs::read(root.join(path)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(NO_ORGANIZATION.to_string())
            }
            other => other.map_err(|e| format!("{path} could not be read: {e}"))?,
        };
        let organization = crate::contract::parse_document::<OrganizationFile>(&bytes)?;
        if organization.accounts_only {
            return Err(NO_ORGANIZATION.to_string());
        }
        Ok(OrgInput {
            root: root.to_path_buf(),
            organization,
        })
    }

    /// A file of the org bundle, by its path in the bundle.
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.root.join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{path} is missing"),
            _ => format!("{path} could not be read: {e}"),
        })
    }

    fn table<T: Table>(&self) -> Result<Vec<T>, String> {
        crate::contract::parse::<T>(&self.read(T::PATH)?)
    }

    fn policies(&self) -> Result<Vec<PolicyRecord>, String> {
        let bytes = self.read(PoliciesFile::PATH)?;
        Ok(crate::contract::parse_document::<PoliciesFile>(&bytes)?.policies)
    }

    /// The management account's id, which the SCP rules leave out.
    fn management(&self) -> Result<&str, String> {
        match self.organization.management_account_id.as_str() {
            "" => Err(format!(
                "{} does not name the management account",
                OrganizationFile::PATH
            )),
            id => Ok(id),
        }
    }

    /// The member accounts the rules judge (see the module docs).
    fn members<'a>(&self, accounts: &'a [AccountRow]) -> Result<Vec<&'a AccountRow>, String> {
        let management = self.management()?;
        Ok(accounts
            .iter()
            .filter(|a| a.status == "ACTIVE" && a.account_id != management)
            .filter(|a| {
                a.collection_status != status::EXCLUDED
                    && a.collection_status != status::OTHER_SHARD
            })
            .collect())
    }

    /// The account's ARN in the organization, or its id when the organization's ids are unknown.
    fn account_resource(&self, account_id: &str) -> String {
        let org = &self.organization;
        if org.id.is_empty() || org.management_account_id.is_empty() {
            return account_id.to_string();
        }
        let partition = org
            .arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws");
        format!(
            "arn:{partition}:organizations::{}:account/{}/{account_id}",
            org.management_account_id, org.id
        )
    }

    /// The bundle path of an account's file, `accounts/<id>/<path>`: only for 12-digit ids, so
    /// a hostile `accounts.csv` cannot point outside `accounts/`.
    fn account_path(&self, account_id: &str, path: &str) -> Result<String, String> {
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "account id {account_id:?} is not 12 digits, so its bundle is not read"
            ));
        }
        Ok(format!("accounts/{account_id}/{path}"))
    }

    /// The trails an account's bundle recorded, when its `cloudtrail` collector ran there.
    fn trails(&self, account: &AccountRow) -> Result<Vec<TrailRecord>, String> {
        let id = &account.account_id;
        no_bundle(account)?;
        let manifest = self.account_path(id, "manifest.json")?;
        let manifest: Manifest = serde_json::from_slice(&self.read(&manifest)?)
            .map_err(|e| format!("{manifest} is not a manifest: {e}"))?;
        let cloudtrail = crate::contract::cloudtrail::ID;
        match manifest.collectors.iter().find(|c| c.id == cloudtrail) {
            None => return Err(format!("its bundle has no {cloudtrail} collector")),
            Some(c) if matches!(c.status, CollectorStatus::Failed | CollectorStatus::Skipped) => {
                return Err(format!(
                    "{cloudtrail} was {} in its bundle",
                    c.status.as_str()
                ))
            }
            Some(_) => {}
        }
        let path = self.account_path(id, <Vec<TrailRecord> as Document>::PATH)?;
        serde_json::from_slice(&self.read(&path)?)
            .map_err(|e| format!("{path} does not hold the expected document: {e}"))
    }

    /// An account's outcome of `cloudtrail-multi-region` and its finding, from its
    /// `findings.json`.
    fn multi_region(&self, account: &AccountRow) -> Result<(RuleOutcome, Option<Finding>), String> {
        no_bundle(account)?;
        let path = self.account_path(&account.account_id, "findings.json")?;
        let file: FindingsFile = serde_json::from_slice(&self.read(&path)?)
            .map_err(|e| format!("{path} does not hold the expected findings: {e}"))?;
        let outcome = file
            .rules
            .into_iter()
            .find(|r| r.rule == MULTI_REGION_RULE)
            .ok_or_else(|| format!("{path} has no {MULTI_REGION_RULE} outcome"))?;
        let finding = file
            .findings
            .into_iter()
            .find(|f| f.rule == MULTI_REGION_RULE);
        Ok((outcome, finding))
    }
}

/// Err when the run wrote no bundle for the account (by its `collection_status`).
fn no_bundle(account: &AccountRow) -> Result<(), String> {
    match account.collection_status.as_str() {
        status::COLLECTED | status::PARTIAL => Ok(()),
        other if account.error.is_empty() => Err(format!("no bundle (collection_status {other})")),
        other => Err(format!(
            "no bundle (collection_status {other}: {})",
            account.error
        )),
    }
}

/// The part of an account's `findings.json` the org rules read.
#[derive(Deserialize)]
struct FindingsFile {
    #[serde(default)]
    findings: Vec<Finding>,
    rules: Vec<RuleOutcome>,
}

// ---- org-scps-disabled ----

fn scps_disabled(input: &OrgInput, out: &mut OrgOut<'_>) -> Result<(), String> {
    let org = &input.organization;
    let management = input.management()?;
    if org.roots.is_empty() {
        return Err(format!(
            "{} lists no root, so whether SCPs are enabled is unknown",
            OrganizationFile::PATH
        ));
    }
    for root in org.roots.iter().filter(|r| !scp::scps_enabled(r)) {
        let state = root
            .policy_types
            .iter()
            .find(|t| t.kind == scp::SERVICE_CONTROL_POLICY)
            .map_or("not enabled".to_string(), |t| t.status.clone());
        let mut detail = format!(
            "The {} policy type is {state} on root {}: no SCP applies to any account of \
             organization {}, so nothing limits what member accounts' administrators can do \
             (stop CloudTrail, disable security services, leave the organization).",
            scp::SERVICE_CONTROL_POLICY,
            root.id,
            org.id
        );
        if !org.feature_set.is_empty() && org.feature_set != "ALL" {
            detail.push_str(&format!(
                " The organization's feature set is {}: SCPs need all features.",
                org.feature_set
            ));
        }
        let resource = match root.arn.as_str() {
            "" => input.account_resource(management),
            arn => arn.to_string(),
        };
        out.add(management, resource, detail, OrganizationFile::PATH);
    }
    Ok(())
}

// ---- The SCP rules ----

/// What an SCP rule asks to be denied: a service (or concern) and its actions, all of which
/// must be denied.
struct Guard {
    name: &'static str,
    actions: &'static [&'static str],
}

const CLOUDTRAIL: &[Guard] = &[Guard {
    name: "CloudTrail",
    actions: &["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
}];

/// Reported in `org-scp-cloudtrail-unprotected`'s details, never a finding by themselves.
const CLOUDTRAIL_ADVISORY: &[&str] = &["cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"];

const SECURITY_SERVICES: &[Guard] = &[
    Guard {
        name: "GuardDuty",
        actions: &[
            "guardduty:DeleteDetector",
            "guardduty:DisassociateFromMasterAccount",
            "guardduty:DisassociateFromAdministratorAccount",
        ],
    },
    Guard {
        name: "IAM Access Analyzer",
        actions: &["access-analyzer:DeleteAnalyzer"],
    },
    Guard {
        name: "AWS Config",
        actions: &[
            "config:StopConfigurationRecorder",
            "config:DeleteConfigurationRecorder",
            "config:DeleteDeliveryChannel",
        ],
    },
];

const LEAVE: &[Guard] = &[Guard {
    name: "the organization membership",
    actions: &["organizations:LeaveOrganization"],
}];

fn cloudtrail_unprotected(input: &OrgInput, out: &mut OrgOut<'_>) -> Result<(), String> {
    scp_rule(input, out, CLOUDTRAIL, CLOUDTRAIL_ADVISORY)
}

fn security_services_unprotected(input: &OrgInput, out: &mut OrgOut<'_>) -> Result<(), String> {
    scp_rule(input, out, SECURITY_SERVICES, &[])
}

fn leave_organization(input: &OrgInput, out: &mut OrgOut<'_>) -> Result<(), String> {
    scp_rule(input, out, LEAVE, &[])
}

/// How the SCPs in effect treat one action: `None` when none denies it, else the combined
/// denial and the names of the SCPs that deny it.
fn action_state(
    scps: &[(&PolicyRecord, &TargetRecord)],
    action: &str,
) -> Option<(Denial, Vec<String>)> {
    let mut combined: Option<Denial> = None;
    let mut by = Vec::new();
    for (policy, _) in scps {
        if let Some(denial) = scp::denial(&policy.document, action) {
            by.push(policy.name.clone());
            combined = Some(match combined {
                None => denial,
                Some(so_far) => so_far.or(denial),
            });
        }
    }
    combined.map(|denial| (denial, by))
}

/// `action not denied` or `action denied by A, B[ only when ...]`.
fn state_text(action: &str, state: &Option<(Denial, Vec<String>)>) -> String {
    match state {
        None => format!("{action} not denied"),
        Some((Denial::Always, by)) => format!("{action} denied by {}", by.join(", ")),
        Some((denial, by)) => {
            let only = denial.describe();
            let only = only.strip_prefix("denied ").unwrap_or(&only);
            format!("{action} denied by {} {only}", by.join(", "))
        }
    }
}

/// The SCPs in effect, for details: `Name (p-id, via r-root)`.
fn scps_text(scps: &[(&PolicyRecord, &TargetRecord)]) -> String {
    if scps.is_empty() {
        return "no SCP is attached to the root, the account's OUs or the account".to_string();
    }
    scps.iter()
        .map(|(p, t)| format!("{} ({}, via {})", p.name, p.id, t.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Judges every member account: a finding per account where a guard has an action no SCP in
/// effect denies.
fn scp_rule(
    input: &OrgInput,
    out: &mut OrgOut<'_>,
    guards: &[Guard],
    advisory: &[&str],
) -> Result<(), String> {
    let org = &input.organization;
    if org.roots.is_empty() {
        return Err(format!(
            "{} lists no root, so whether SCPs are enabled is unknown",
            OrganizationFile::PATH
        ));
    }
    let enabled = org.roots.iter().all(scp::scps_enabled);
    let accounts = input.table::<AccountRow>()?;
    let members = input.members(&accounts)?;
    let policies = match enabled {
        true => input.policies()?,
        false => Vec::new(),
    };
    // Unreadable SCPs (label -> problems) and the accounts with a finding they are in effect for.
    let mut unreadable: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for account in members {
        let id = account.account_id.as_str();
        let resource = input.account_resource(id);
        if !enabled {
            let names: Vec<&str> = guards.iter().map(|g| g.name).collect();
            out.add(
                id,
                resource,
                format!(
                    "SCPs are not enabled on the organization's root (see org-scps-disabled): no \
                     SCP protects {} in this account.",
                    and_list(&names)
                ),
                OrganizationFile::PATH,
            );
            continue;
        }
        let scps = scp::in_effect(&policies, account);
        let mut unprotected = Vec::new();
        let mut states = Vec::new();
        for guard in guards {
            let each: Vec<_> = guard
                .actions
                .iter()
                .map(|action| (action, action_state(&scps, action)))
                .collect();
            if each.iter().any(|(_, state)| state.is_none()) {
                unprotected.push(guard.name);
            }
            let texts: Vec<String> = each.iter().map(|(a, s)| state_text(a, s)).collect();
            match guards.len() {
                1 => states.push(texts.join("; ")),
                _ => states.push(format!("{}: {}", guard.name, texts.join("; "))),
            }
        }
        if unprotected.is_empty() {
            continue;
        }
        let mut detail = format!(
            "No SCP in effect protects {}. {}. SCPs in effect: {}.",
            and_list(&unprotected),
            states.join(". "),
            scps_text(&scps)
        );
        if !advisory.is_empty() {
            let texts: Vec<String> = advisory
                .iter()
                .map(|a| state_text(a, &action_state(&scps, a)))
                .collect();
            detail.push_str(&format!(" Advisory: {}.", texts.join("; ")));
        }
        for (policy, _) in &scps {
            let problems = scp::problems(&policy.document);
            if problems.is_empty() {
                continue;
            }
            detail.push_str(&format!(
                " SCP {} could not be read in full ({}); what could not be read was not counted.",
                policy.name,
                problems.join("; ")
            ));
            let label = format!("SCP {} ({})", policy.name, policy.id);
            unreadable
                .entry(label)
                .or_insert_with(|| (problems.join("; "), BTreeSet::new()))
                .1
                .insert(id.to_string());
        }
        out.add(id, resource, detail, PoliciesFile::PATH);
    }
    for (label, (problems, accounts)) in unreadable {
        let accounts: Vec<String> = accounts.into_iter().collect();
        out.partial(format!(
            "{label} could not be read in full ({problems}), so the findings of account(s) {} \
             may overstate",
            accounts.join(", ")
        ));
    }
    Ok(())
}

// ---- org-no-organization-trail ----

fn no_organization_trail(input: &OrgInput, out: &mut OrgOut<'_>) -> Result<(), String> {
    let management = input.management()?.to_string();
    let accounts = input.table::<AccountRow>()?;
    let members = input.members(&accounts)?;
    // Where an organization trail lives: the management account and CloudTrail's delegated
    // administrators.
    let mut homes: BTreeSet<String> = BTreeSet::from([management.clone()]);
    match input.table::<DelegatedAdminRow>() {
        Ok(rows) => homes.extend(
            rows.into_iter()
                .filter(|r| r.service_principal == "cloudtrail.amazonaws.com")
                .map(|r| r.account_id),
        ),
        Err(why) => out.partial(format!(
            "CloudTrail's delegated administrators are unknown ({why})"
        )),
    }
    let mut organization_trails = Vec::new();
    let mut read = Vec::new();
    let mut unread_homes = Vec::new();
    for home in &homes {
        if !accounts.iter().any(|a| &a.account_id == home) {
            unread_homes.push(format!("{home}: not in {}", AccountRow::PATH));
        }
    }
    for account in &accounts {
        let id = &account.account_id;
        match input.trails(account) {
            Ok(trails) => {
                read.push(id.clone());
                organization_trails.extend(
                    trails
                        .iter()
                        .filter(|t| t.trail.is_organization_trail == Some(true))
                        .map(|t| t.trail.trail_arn.clone().unwrap_or_default()),
                );
            }
            Err(why) if homes.contains(id) => unread_homes.push(format!("{id}: {why}")),
            Err(_) => {}
        }
    }
    if !organization_trails.is_empty() {
        return Ok(());
    }
    if !unread_homes.is_empty() {
        out.partial(format!(
            "no organization trail was seen, but the trails of account(s) where one would live \
             could not be read ({})",
            unread_homes.join("; ")
        ));
    }
    let mut unknown = Vec::new();
    for account in members {
        let id = &account.account_id;
        match input.multi_region(account) {
            Err(why) => unknown.push(format!("{id}: {why}")),
            Ok((outcome, _)) if outcome.status == RuleStatus::NotEvaluated => {
                unknown.push(format!(
                    "{id}: {MULTI_REGION_RULE} not evaluated there ({})",
                    outcome.reason
                ))
            }
            Ok((outcome, finding)) if outcome.findings > 0 => {
                let own = finding.map_or(String::new(), |f| format!(" ({})", f.detail));
                out.add(
                    id,
                    input.account_resource(id),
                    format!(
                        "No trail of the organization is an organization trail (none of the \
                         trails.json of account(s) {} lists one with IsOrganizationTrail true), \
                         and this account has no multi-region trail logging read and write \
                         management events of its own: its {MULTI_REGION_RULE} rule has a \
                         finding{own}.",
                        read.join(", ")
                    ),
                    &input.account_path(id, "findings.json")?,
                );
            }
            Ok(_) => {}
        }
    }
    if !unknown.is_empty() {
        out.partial(format!(
            "whether these accounts have a multi-region trail of their own is unknown: {}",
            unknown.join("; ")
        ));
    }
    Ok(())
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::contract::cell::List;
    use crate::contract::cloudtrail::TrailDescription;
    use crate::contract::organization::{PolicyTypeRecord, RootRecord};

    const MGMT: &str = "999999999999";
    const PROD: &str = "111111111111";
    const DEV: &str = "222222222222";
    const ROOT: &str = "r-ab12";
    const PROD_OU: &str = "ou-ab12-prod";
    const DEV_OU: &str = "ou-ab12-dev";

    /// The guardrails every SCP rule asks for.
    const ALL_GUARDED: &[&str] = &[
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "guardduty:DeleteDetector",
        "guardduty:DisassociateFromMasterAccount",
        "guardduty:DisassociateFromAdministratorAccount",
        "access-analyzer:DeleteAnalyzer",
        "config:StopConfigurationRecorder",
        "config:DeleteConfigurationRecorder",
        "config:DeleteDeliveryChannel",
        "organizations:LeaveOrganization",
    ];

    /// An org bundle in a temporary directory.
    struct Org {
        dir: tempfile::TempDir,
    }

    impl Org {
        fn empty() -> Org {
            Org {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        /// An organization with SCPs enabled (`scp_status`), the management account, PROD
        /// under the prod OU and DEV under the dev OU, all collected, and `policies`.
        fn new(scp_status: &str, policies: Vec<PolicyRecord>) -> Org {
            let org = Org::empty();
            org.document(&organization(scp_status));
            org.table(&[
                account(MGMT, &[ROOT]),
                account(PROD, &[ROOT, PROD_OU]),
                account(DEV, &[ROOT, DEV_OU]),
            ]);
            org.document(&PoliciesFile { policies });
            org.table::<DelegatedAdminRow>(&[]);
            org
        }

        fn write(&self, path: &str, bytes: &[u8]) {
            let path = self.dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }

        fn table<T: Table>(&self, rows: &[T]) {
            self.write(T::PATH, &crate::contract::csv_bytes(rows));
        }

        fn document<T: Document>(&self, value: &T) {
            self.write(T::PATH, &serde_json::to_vec_pretty(value).unwrap());
        }

        /// An account's bundle: its cloudtrail collector's status, its trails and its own
        /// `cloudtrail-multi-region` outcome (`Some(detail)`: a finding).
        fn account_bundle(&self, id: &str, trails: &[TrailRecord], own: Option<&str>) {
            let manifest = json!({"schema_version": 1, "collectors": [
                {"id": "cloudtrail", "status": "collected"}
            ]});
            self.write(
                &format!("accounts/{id}/manifest.json"),
                manifest.to_string().as_bytes(),
            );
            self.write(
                &format!("accounts/{id}/evidence/cloudtrail/trails.json"),
                &serde_json::to_vec(trails).unwrap(),
            );
            let finding = own.map(|detail| Finding {
                rule: MULTI_REGION_RULE.into(),
                severity: Severity::High,
                controls: vec!["CC7.2".into()],
                resource: format!("arn:aws:iam::{id}:root"),
                region: "global".into(),
                detail: detail.into(),
                evidence: "evidence/cloudtrail/trails.csv".into(),
                references: vec!["CIS 3.1".into()],
                remediation: "Create a trail.".into(),
                status: Default::default(),
                exception: None,
            });
            let outcome = RuleOutcome {
                rule: MULTI_REGION_RULE.into(),
                title: "No multi-region trail".into(),
                severity: Severity::High,
                controls: vec!["CC7.2".into()],
                references: vec!["CIS 3.1".into()],
                status: RuleStatus::Evaluated,
                findings: usize::from(own.is_some()),
                reason: String::new(),
            };
            let findings = json!({"findings": finding.into_iter().collect::<Vec<_>>(),
                                  "rules": [outcome]});
            self.write(
                &format!("accounts/{id}/findings.json"),
                findings.to_string().as_bytes(),
            );
        }

        fn run(&self) -> OrgAnalysis {
            evaluate(self.dir.path())
        }
    }

    fn organization(scp_status: &str) -> OrganizationFile {
        OrganizationFile {
            id: "o-abc123".into(),
            arn: format!("arn:aws:organizations::{MGMT}:organization/o-abc123"),
            feature_set: "ALL".into(),
            management_account_id: MGMT.into(),
            roots: vec![RootRecord {
                id: ROOT.into(),
                arn: format!("arn:aws:organizations::{MGMT}:root/o-abc123/{ROOT}"),
                name: "Root".into(),
                policy_types: match scp_status {
                    "" => vec![],
                    status => vec![PolicyTypeRecord {
                        kind: "SERVICE_CONTROL_POLICY".into(),
                        status: status.into(),
                    }],
                },
            }],
            collected_from: MGMT.into(),
            ..OrganizationFile::default()
        }
    }

    fn account(id: &str, path: &[&str]) -> AccountRow {
        AccountRow {
            account_id: id.into(),
            name: format!("acct-{id}"),
            status: "ACTIVE".into(),
            ou_ids: List::from(path.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            collection_status: status::COLLECTED.into(),
            ..AccountRow::default()
        }
    }

    fn scp(name: &str, document: Value, targets: &[&str]) -> PolicyRecord {
        PolicyRecord {
            id: format!("p-{}", name.to_lowercase()),
            name: name.into(),
            kind: "SERVICE_CONTROL_POLICY".into(),
            document,
            targets: targets
                .iter()
                .map(|id| TargetRecord {
                    id: id.to_string(),
                    ..TargetRecord::default()
                })
                .collect(),
            ..PolicyRecord::default()
        }
    }

    fn full_access() -> PolicyRecord {
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        scp("FullAWSAccess", allow, &[ROOT])
    }

    fn denying(name: &str, actions: &[&str], targets: &[&str]) -> PolicyRecord {
        let doc = json!({"Statement": [{"Effect": "Deny", "Action": actions, "Resource": "*"}]});
        scp(name, doc, targets)
    }

    fn outcome<'a>(analysis: &'a OrgAnalysis, rule: &str) -> &'a RuleOutcome {
        analysis.outcomes.iter().find(|o| o.rule == rule).unwrap()
    }

    /// The (account, detail) of a rule's findings.
    fn found(analysis: &OrgAnalysis, rule: &str) -> Vec<(String, String)> {
        analysis
            .findings
            .iter()
            .filter(|f| f.finding.rule == rule)
            .map(|f| (f.account.clone(), f.finding.detail.clone()))
            .collect()
    }

    fn accounts(analysis: &OrgAnalysis, rule: &str) -> Vec<String> {
        found(analysis, rule).into_iter().map(|(a, _)| a).collect()
    }

    fn trail(name: &str, organization: bool) -> TrailRecord {
        TrailRecord {
            trail: TrailDescription {
                name: Some(name.into()),
                trail_arn: Some(format!("arn:aws:cloudtrail:us-east-1:{MGMT}:trail/{name}")),
                is_organization_trail: Some(organization),
                is_multi_region_trail: Some(true),
                ..TrailDescription::default()
            },
            ..TrailRecord::default()
        }
    }

    #[test]
    fn org_rule_ids_are_unique_kebab_case_with_controls_a_reference_and_remediation() {
        let mut ids: Vec<&str> = ORG_RULES.iter().map(|s| s.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ORG_RULES.len());
        for spec in ORG_RULES {
            assert!(spec.id.starts_with("org-"), "{}", spec.id);
            assert!(
                spec.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                spec.id
            );
            assert!(!spec.controls.is_empty(), "{}", spec.id);
            assert_eq!(spec.references.len(), 1, "{}", spec.id);
            assert!(
                !spec.remediation.is_empty() && !spec.title.is_empty(),
                "{}",
                spec.id
            );
        }
    }

    #[test]
    fn without_organizations_data_no_rule_is_evaluated() {
        let missing = Org::empty();
        let accounts_only = Org::empty();
        accounts_only.document(&OrganizationFile {
            accounts_only: true,
            ..OrganizationFile::default()
        });
        for org in [missing, accounts_only] {
            let analysis = org.run();
            assert!(analysis.findings.is_empty());
            assert_eq!(analysis.outcomes.len(), ORG_RULES.len());
            for o in &analysis.outcomes {
                assert_eq!(o.status, RuleStatus::NotEvaluated, "{}", o.rule);
                assert_eq!(o.reason, NO_ORGANIZATION);
            }
        }
        let broken = Org::empty();
        broken.write(OrganizationFile::PATH, b"{");
        let analysis = broken.run();
        assert!(analysis.outcomes[0]
            .reason
            .starts_with("organization/organization.json does not hold the expected document"));
    }

    #[test]
    fn scps_disabled_is_one_finding_for_the_management_account_and_every_member_unprotected() {
        for status in ["", "PENDING_ENABLE"] {
            let analysis = Org::new(status, vec![]).run();
            let hits = found(&analysis, "org-scps-disabled");
            assert_eq!(hits.len(), 1, "{status}");
            assert_eq!(hits[0].0, MGMT);
            let f = &analysis.findings[0].finding;
            assert_eq!(
                f.resource,
                format!("arn:aws:organizations::{MGMT}:root/o-abc123/{ROOT}")
            );
            assert_eq!(f.severity, Severity::High);
            assert_eq!(f.evidence, "organization/organization.json");
            for rule in [
                "org-scp-cloudtrail-unprotected",
                "org-scp-security-services-unprotected",
                "org-scp-leave-organization",
            ] {
                assert_eq!(outcome(&analysis, rule).status, RuleStatus::Evaluated);
                assert_eq!(accounts(&analysis, rule), [PROD, DEV], "{rule}");
            }
            let (_, detail) = &found(&analysis, "org-scp-leave-organization")[0];
            assert!(detail.starts_with("SCPs are not enabled"), "{detail}");
        }
        let analysis = Org::new("ENABLED", vec![full_access()]).run();
        assert!(found(&analysis, "org-scps-disabled").is_empty());
        assert_eq!(
            outcome(&analysis, "org-scps-disabled").status,
            RuleStatus::Evaluated
        );
    }

    #[test]
    fn a_guardrail_scp_at_the_root_protects_every_member() {
        let analysis = Org::new(
            "ENABLED",
            vec![full_access(), denying("Guardrails", ALL_GUARDED, &[ROOT])],
        )
        .run();
        for rule in [
            "org-scp-cloudtrail-unprotected",
            "org-scp-security-services-unprotected",
            "org-scp-leave-organization",
        ] {
            let o = outcome(&analysis, rule);
            assert_eq!((o.status, o.findings), (RuleStatus::Evaluated, 0), "{rule}");
        }
    }

    #[test]
    fn an_scp_on_one_ou_protects_only_its_accounts_and_the_management_account_is_never_judged() {
        // Attached to the management account too: SCPs never apply to it, so it is not judged.
        let org = Org::new(
            "ENABLED",
            vec![
                full_access(),
                denying("TrailGuard", &["cloudtrail:*"], &[PROD_OU, MGMT]),
                denying("Leave", &["organizations:LeaveOrganization"], &[DEV]),
            ],
        );
        let analysis = org.run();
        assert_eq!(accounts(&analysis, "org-scp-cloudtrail-unprotected"), [DEV]);
        assert_eq!(accounts(&analysis, "org-scp-leave-organization"), [PROD]);
        let (_, detail) = &found(&analysis, "org-scp-cloudtrail-unprotected")[0];
        assert_eq!(
            detail,
            "No SCP in effect protects CloudTrail. cloudtrail:StopLogging not denied; \
             cloudtrail:DeleteTrail not denied. SCPs in effect: FullAWSAccess \
             (p-fullawsaccess, via r-ab12), Leave (p-leave, via 222222222222). Advisory: \
             cloudtrail:UpdateTrail not denied; cloudtrail:PutEventSelectors not denied."
        );
        let f = analysis
            .findings
            .iter()
            .find(|f| f.finding.rule == "org-scp-leave-organization")
            .unwrap();
        assert_eq!(
            f.finding.resource,
            format!("arn:aws:organizations::{MGMT}:account/o-abc123/{PROD}")
        );
        assert_eq!(f.finding.evidence, "organization/policies.json");
        assert_eq!(f.finding.region, "global");
        // The flattened finding serializes next to its account.
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["account"], PROD);
        assert_eq!(json["rule"], "org-scp-leave-organization");
        let back: OrgFinding = serde_json::from_value(json).unwrap();
        assert_eq!(&back, f);
    }

    #[test]
    fn suspended_excluded_and_other_shard_accounts_are_not_judged() {
        let org = Org::new("ENABLED", vec![full_access()]);
        let mut suspended = account("333333333333", &[ROOT]);
        suspended.status = "SUSPENDED".into();
        let mut excluded = account("444444444444", &[ROOT]);
        excluded.collection_status = status::EXCLUDED.into();
        let mut other = account("555555555555", &[ROOT]);
        other.collection_status = status::OTHER_SHARD.into();
        org.table(&[
            account(MGMT, &[ROOT]),
            account(PROD, &[ROOT]),
            suspended,
            excluded,
            other,
        ]);
        let analysis = org.run();
        assert_eq!(accounts(&analysis, "org-scp-leave-organization"), [PROD]);
    }

    #[test]
    fn one_missing_action_leaves_cloudtrail_unprotected_and_conditions_are_named() {
        let conditional = json!({"Statement": [{
            "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:UpdateTrail"],
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/BreakGlass"}}
        }]});
        let analysis = Org::new(
            "ENABLED",
            vec![
                full_access(),
                scp("Guardrails", conditional.clone(), &[ROOT]),
            ],
        )
        .run();
        let hits = found(&analysis, "org-scp-cloudtrail-unprotected");
        assert_eq!(hits.len(), 2);
        assert!(
            hits[0].1.contains(
                "cloudtrail:StopLogging denied by Guardrails only when aws:PrincipalARN \
                 ArnNotLike arn:aws:iam::*:role/BreakGlass; cloudtrail:DeleteTrail not denied."
            ),
            "{}",
            hits[0].1
        );
        assert!(hits[0].1.contains(
            "Advisory: cloudtrail:UpdateTrail denied by Guardrails only when aws:PrincipalARN \
             ArnNotLike arn:aws:iam::*:role/BreakGlass; cloudtrail:PutEventSelectors not denied."
        ));
        // A conditional deny of both actions counts: no finding.
        let both = json!({"Statement": [{
            "Effect": "Deny", "Action": "cloudtrail:*", "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/BreakGlass"}}
        }]});
        let analysis = Org::new("ENABLED", vec![scp("Guardrails", both, &[ROOT])]).run();
        assert!(accounts(&analysis, "org-scp-cloudtrail-unprotected").is_empty());
    }

    #[test]
    fn a_deny_on_some_resources_or_not_resource_does_not_protect() {
        for resources in [
            json!({"Resource": "arn:aws:cloudtrail:*:*:trail/org"}),
            json!({"NotResource": "arn:aws:cloudtrail:*:*:trail/sandbox"}),
        ] {
            let mut statement = json!({"Effect": "Deny", "Action": "cloudtrail:*"});
            statement
                .as_object_mut()
                .unwrap()
                .extend(resources.as_object().unwrap().clone());
            let doc = json!({ "Statement": [statement] });
            let analysis = Org::new("ENABLED", vec![scp("Trails", doc, &[ROOT])]).run();
            assert_eq!(
                accounts(&analysis, "org-scp-cloudtrail-unprotected"),
                [PROD, DEV]
            );
        }
    }

    #[test]
    fn the_security_services_finding_names_each_unprotected_service() {
        let guardduty = &ALL_GUARDED[2..5];
        let analysis = Org::new(
            "ENABLED",
            vec![full_access(), denying("GuardDutyGuard", guardduty, &[ROOT])],
        )
        .run();
        let hits = found(&analysis, "org-scp-security-services-unprotected");
        assert_eq!(hits.len(), 2);
        let detail = &hits[0].1;
        assert!(
            detail.starts_with("No SCP in effect protects IAM Access Analyzer and AWS Config. "),
            "{detail}"
        );
        assert!(detail.contains("GuardDuty: guardduty:DeleteDetector denied by GuardDutyGuard"));
        assert!(detail.contains("IAM Access Analyzer: access-analyzer:DeleteAnalyzer not denied"));
        // Only one of GuardDuty's two disassociate names: GuardDuty is unprotected too.
        let analysis = Org::new(
            "ENABLED",
            vec![denying("Partial", &ALL_GUARDED[2..4], &[ROOT])],
        )
        .run();
        let (_, detail) = &found(&analysis, "org-scp-security-services-unprotected")[0];
        assert!(
            detail.starts_with(
                "No SCP in effect protects GuardDuty, IAM Access Analyzer and AWS Config."
            ),
            "{detail}"
        );
        assert!(detail.contains("guardduty:DisassociateFromAdministratorAccount not denied"));
    }

    #[test]
    fn an_unreadable_scp_makes_the_rule_partial_and_is_named() {
        let analysis = Org::new(
            "ENABLED",
            vec![full_access(), scp("Broken", json!("{not json"), &[ROOT])],
        )
        .run();
        let o = outcome(&analysis, "org-scp-leave-organization");
        assert_eq!(o.status, RuleStatus::Partial);
        assert_eq!(o.findings, 2);
        assert_eq!(
            o.reason,
            "SCP Broken (p-broken) could not be read in full (the document is not JSON), so \
             the findings of account(s) 111111111111, 222222222222 may overstate"
        );
        let (_, detail) = &found(&analysis, "org-scp-leave-organization")[0];
        assert!(detail.ends_with(
            "SCP Broken could not be read in full (the document is not JSON); what could not be \
             read was not counted."
        ));
    }

    #[test]
    fn missing_org_files_are_named_and_never_a_pass() {
        let org = Org::new("ENABLED", vec![]);
        std::fs::remove_file(org.dir.path().join(PoliciesFile::PATH)).unwrap();
        let analysis = org.run();
        let o = outcome(&analysis, "org-scp-cloudtrail-unprotected");
        assert_eq!(o.status, RuleStatus::NotEvaluated);
        assert_eq!(o.reason, "organization/policies.json is missing");
        std::fs::remove_file(org.dir.path().join(AccountRow::PATH)).unwrap();
        let analysis = org.run();
        for rule in ["org-scp-leave-organization", "org-no-organization-trail"] {
            let o = outcome(&analysis, rule);
            assert_eq!(o.status, RuleStatus::NotEvaluated);
            assert_eq!(o.reason, "organization/accounts.csv is missing");
        }
        // org-scps-disabled reads organization.json only.
        assert_eq!(
            outcome(&analysis, "org-scps-disabled").status,
            RuleStatus::Evaluated
        );
    }

    #[test]
    fn an_organization_trail_anywhere_clears_the_trail_rule() {
        let org = Org::new("ENABLED", vec![]);
        org.account_bundle(MGMT, &[trail("org-trail", true)], None);
        org.account_bundle(PROD, &[], Some("No CloudTrail trail is visible."));
        org.account_bundle(DEV, &[], Some("No CloudTrail trail is visible."));
        let analysis = org.run();
        let o = outcome(&analysis, "org-no-organization-trail");
        assert_eq!(
            (o.status, o.findings),
            (RuleStatus::Evaluated, 0),
            "{}",
            o.reason
        );
    }

    #[test]
    fn without_an_organization_trail_each_unlogged_member_is_a_finding() {
        let org = Org::new("ENABLED", vec![]);
        org.account_bundle(MGMT, &[trail("mgmt-only", false)], None);
        org.account_bundle(PROD, &[], Some("No CloudTrail trail is visible."));
        org.account_bundle(DEV, &[trail("dev", false)], None);
        let analysis = org.run();
        let o = outcome(&analysis, "org-no-organization-trail");
        assert_eq!(
            (o.status, o.findings),
            (RuleStatus::Evaluated, 1),
            "{}",
            o.reason
        );
        let f = analysis
            .findings
            .iter()
            .find(|f| f.finding.rule == "org-no-organization-trail")
            .unwrap();
        assert_eq!(f.account, PROD);
        assert_eq!(f.finding.severity, Severity::High);
        assert_eq!(f.finding.evidence, format!("accounts/{PROD}/findings.json"));
        assert_eq!(
            f.finding.detail,
            "No trail of the organization is an organization trail (none of the trails.json of \
             account(s) 999999999999, 111111111111, 222222222222 lists one with \
             IsOrganizationTrail true), and this account has no multi-region trail logging read \
             and write management events of its own: its cloudtrail-multi-region rule has a \
             finding (No CloudTrail trail is visible.)."
        );
    }

    #[test]
    fn a_missing_bundle_makes_the_trail_rule_partial_and_names_the_account() {
        let org = Org::new("ENABLED", vec![]);
        let mut failed = account(DEV, &[ROOT, DEV_OU]);
        failed.collection_status = status::FAILED.into();
        failed.error = "AssumeRole AccessDenied".into();
        let mut hostile = account("../../etc", &[ROOT]);
        hostile.collection_status = status::COLLECTED.into();
        org.table(&[
            account(MGMT, &[ROOT]),
            account(PROD, &[ROOT, PROD_OU]),
            failed,
            hostile,
        ]);
        org.account_bundle(PROD, &[], Some("No CloudTrail trail is visible."));
        // The management account's bundle is there but its cloudtrail collector failed.
        org.write(
            &format!("accounts/{MGMT}/manifest.json"),
            br#"{"schema_version": 1, "collectors": [{"id": "cloudtrail", "status": "failed"}]}"#,
        );
        let analysis = org.run();
        let o = outcome(&analysis, "org-no-organization-trail");
        assert_eq!(o.status, RuleStatus::Partial);
        assert_eq!(o.findings, 1);
        assert_eq!(
            o.reason,
            "no organization trail was seen, but the trails of account(s) where one would live \
             could not be read (999999999999: cloudtrail was failed in its bundle); whether \
             these accounts have a multi-region trail of their own is unknown: 222222222222: no \
             bundle (collection_status failed: AssumeRole AccessDenied); ../../etc: account id \
             \"../../etc\" is not 12 digits, so its bundle is not read"
        );
    }

    #[test]
    fn a_delegated_cloudtrail_administrator_is_where_an_organization_trail_may_live() {
        let org = Org::new("ENABLED", vec![]);
        org.table(&[DelegatedAdminRow {
            account_id: PROD.into(),
            service_principal: "cloudtrail.amazonaws.com".into(),
            ..DelegatedAdminRow::default()
        }]);
        org.account_bundle(MGMT, &[], None);
        org.account_bundle(PROD, &[trail("delegated-org-trail", true)], None);
        org.account_bundle(DEV, &[], Some("No CloudTrail trail is visible."));
        let o = outcome(&org.run(), "org-no-organization-trail").clone();
        assert_eq!((o.status, o.findings), (RuleStatus::Evaluated, 0));
        // Without its bundle, the delegated administrator's trails are a gap.
        std::fs::remove_dir_all(org.dir.path().join(format!("accounts/{PROD}"))).unwrap();
        let analysis = org.run();
        let o = outcome(&analysis, "org-no-organization-trail");
        assert_eq!(o.status, RuleStatus::Partial);
        assert!(o
            .reason
            .contains("111111111111: accounts/111111111111/manifest.json is missing"));
        assert_eq!(accounts(&analysis, "org-no-organization-trail"), [DEV]);
    }
}
