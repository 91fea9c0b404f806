//! Least privilege beyond `*` on `*` (issue 17): policies in use whose allowed actions complete
//! a known privilege-escalation method, that allow data-exfiltration or credentials-exposure
//! actions on every resource, or that allow everything but a list (`NotAction`); and console
//! users without MFA who hold an admin or privilege-escalation policy.
//!
//! Pure analysis of the raw documents of `authorization-details.json` (no API call), through the
//! table builder of [`crate::judge::iam_tables`] (who holds which policy, directly or through
//! which group) and the evaluation core [`crate::judge::policy_eval`] (which actions a document
//! allows on `"Resource": "*"` after its own denies, with conditions named). So `report`
//! re-derives these findings from a bundle written before the rules existed.
//!
//! What is judged, and what is not:
//! - A policy in use: a managed policy (its default version) or an inline policy that some
//!   user, group or role holds. Policies of service-linked roles (path `/aws-service-role/`)
//!   are AWS's own and cannot be changed: they are left out.
//! - Each document on its own, as the evaluation core reads it: a grant with a condition, a
//!   `NotResource` exception or a deny that may refuse it still counts, and the finding names
//!   the restriction. Permissions boundaries, service control policies and resource policies
//!   are not evaluated; a finding is a grant to review, not a proof of exploitability.
//! - A policy that `admin-policy` reports (`*` on `*`) is not reported again by
//!   `privilege-escalation` or `sensitive-actions-all-resources`: it gives all of it.
//! - A document that is not JSON, or a managed policy whose details were not returned, is not
//!   judged: the rule is `partial` and names it.
//!
//! Findings are one per resource (a managed policy by its ARN, an inline policy or a combination
//! by the ARN of the principal that holds it), built from sorted maps only, so they are the same
//! on every run.
//!
//! # The privilege-escalation methods
//!
//! The catalogue is the published list of IAM privilege-escalation methods that Spencer Gietzen
//! of Rhino Security Labs documented in "AWS IAM Privilege Escalation – Methods and Mitigation"
//! (2018; 21 methods), as cloudsplaining (Salesforce) and Pacu check them. A method is
//! complete when every one of its actions is allowed on every resource. Where the sources
//! differ, the Data Pipeline method takes Rhino's and Pacu's actions (create the pipeline and
//! put its definition), and the DynamoDB-trigger method needs no new table (an existing
//! table's stream suffices, cloudsplaining's "existing Dynamo" variant).
//!
//! | family | method | actions (all on `*`) | how it escalates |
//! |---|---|---|---|
//! | credentials of other users | `create-access-key` | iam:CreateAccessKey | an access key for a more privileged user |
//! | | `create-login-profile` | iam:CreateLoginProfile | a console password for a user without one |
//! | | `update-login-profile` | iam:UpdateLoginProfile | a new console password for another user |
//! | group membership | `add-user-to-group` | iam:AddUserToGroup | joining a more privileged group |
//! | policy versions | `create-policy-version` | iam:CreatePolicyVersion | a new default version of one's own policy |
//! | | `set-default-policy-version` | iam:SetDefaultPolicyVersion | making a broader old version the default |
//! | attaching or writing policies | `attach-user-policy` | iam:AttachUserPolicy | attaching AdministratorAccess to oneself |
//! | | `attach-group-policy` | iam:AttachGroupPolicy | attaching a policy to one's group |
//! | | `attach-role-policy` | iam:AttachRolePolicy, sts:AssumeRole | attaching a policy to a role, then assuming it |
//! | | `put-user-policy` | iam:PutUserPolicy | writing an inline policy for oneself |
//! | | `put-group-policy` | iam:PutGroupPolicy | writing an inline policy for one's group |
//! | | `put-role-policy` | iam:PutRolePolicy, sts:AssumeRole | writing a role's inline policy, then assuming it |
//! | role trust | `update-assume-role-policy` | iam:UpdateAssumeRolePolicy, sts:AssumeRole | letting oneself into a role's trust policy, then assuming it |
//! | passing a role to a new resource | `pass-role-ec2` | iam:PassRole, ec2:RunInstances | an instance with a privileged instance profile |
//! | | `pass-role-lambda-invoke` | iam:PassRole, lambda:CreateFunction, lambda:InvokeFunction | a function running as a privileged role, invoked directly |
//! | | `pass-role-lambda-dynamodb` | iam:PassRole, lambda:CreateFunction, lambda:CreateEventSourceMapping | the same function, run by a DynamoDB stream trigger |
//! | | `pass-role-glue-dev-endpoint` | iam:PassRole, glue:CreateDevEndpoint | a Glue development endpoint with a privileged role, reached over SSH |
//! | | `pass-role-cloudformation` | iam:PassRole, cloudformation:CreateStack | a stack that creates resources as a privileged role |
//! | | `pass-role-data-pipeline` | iam:PassRole, datapipeline:CreatePipeline, datapipeline:PutPipelineDefinition | a pipeline that runs commands as a privileged role |
//! | updating an existing resource | `update-lambda-code` | lambda:UpdateFunctionCode | new code for a function that runs as a privileged role |
//! | | `update-glue-dev-endpoint` | glue:UpdateDevEndpoint | one's own SSH key on an endpoint with a privileged role |
//!
//! # Sensitive actions
//!
//! Data exfiltration: read-only actions that hand out stored data or secrets (cloudsplaining's
//! list of high-priority exfiltration actions, and KMS decryption). Credentials exposure:
//! actions whose answer is a credential, a password or a token (after cloudsplaining's list of
//! actions that return credentials, limited to those an identity policy controls). The tables
//! are [`DATA_EXFILTRATION`] and [`CREDENTIALS_EXPOSURE`].

use std::collections::{BTreeMap, BTreeSet};

use super::{and_list, AUTHZ, REPORT};
use crate::contract::iam_authorization_details::{AuthorizationDetails, PolicyRow, DIRECT, INLINE};
use crate::contract::iam_credential_report::ReportRow;
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::input::Input;
use crate::findings::{Needs, Out, RuleSpec};
use crate::judge::iam_policy::allows_admin;
use crate::judge::iam_tables::{service_linked, Tables};
use crate::judge::policy_eval::{grants, not_action_allows, Grant, NotActionAllow};
use crate::vocab::Severity;

const LEAST_PRIVILEGE: &[Control] = &[Control::Cc6_1, Control::Cc6_3];
const NEED_TO_KNOW: &[Control] = &[Control::Cc6_3];
const ACCESS: &[Control] = &[Control::Cc6_1, Control::Cc6_2];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "privilege-escalation",
        title: "Policy in use that lets its holder escalate to administrator",
        severity: Severity::High,
        controls: LEAST_PRIVILEGE,
        references: &[],
        remediation: "Remove the actions that complete the method, or scope them to named \
                      resources (the roles that may be passed, the users whose keys may be \
                      managed); keep IAM write access to a few administrators with MFA, and \
                      use a permissions boundary for principals that must manage IAM.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: privilege_escalation,
    },
    RuleSpec {
        id: "sensitive-actions-all-resources",
        title: "Policy in use allowing data-exfiltration or credentials-exposure actions on \
                every resource",
        severity: Severity::Medium,
        controls: NEED_TO_KNOW,
        references: &[],
        remediation: "Scope the actions to the buckets, parameters, secrets, keys and users the \
                      holders need (named ARNs instead of `\"Resource\": \"*\"`), or add \
                      conditions that limit them.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: sensitive_actions,
    },
    RuleSpec {
        id: "admin-without-mfa",
        title: "Console user without MFA holding an admin or privilege-escalation policy",
        severity: Severity::Critical,
        controls: ACCESS,
        references: &["CIS 1.10", "CIS 1.16"],
        remediation: "Have the user enable an MFA device now, or remove the console password; \
                      then reduce the user's policies to what the user needs (see the \
                      admin-policy and privilege-escalation findings).",
        needs: Needs::All(&[REPORT, AUTHZ]),
        evaluate: admin_without_mfa,
    },
    RuleSpec {
        id: "not-action-allow",
        title: "Policy in use allowing every action but a list (NotAction) on every resource",
        severity: Severity::Medium,
        controls: NEED_TO_KNOW,
        references: &[],
        remediation: "Replace the `NotAction` statement with an `Action` list of what the \
                      holders need: a `NotAction` grant also covers every service and action \
                      AWS adds later.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: not_action_allow,
    },
];

/// One privilege-escalation method of the catalogue (the module documentation has each
/// method's family and how it escalates).
#[derive(Debug)]
pub(crate) struct Method {
    pub id: &'static str,
    /// Every action the method needs, all on every resource.
    pub actions: &'static [&'static str],
}

const fn method(id: &'static str, actions: &'static [&'static str]) -> Method {
    Method { id, actions }
}

/// The privilege-escalation methods, in the catalogue's order (module documentation).
pub(crate) static METHODS: &[Method] = &[
    method("create-access-key", &["iam:CreateAccessKey"]),
    method("create-login-profile", &["iam:CreateLoginProfile"]),
    method("update-login-profile", &["iam:UpdateLoginProfile"]),
    method("add-user-to-group", &["iam:AddUserToGroup"]),
    method("create-policy-version", &["iam:CreatePolicyVersion"]),
    method(
        "set-default-policy-version",
        &["iam:SetDefaultPolicyVersion"],
    ),
    method("attach-user-policy", &["iam:AttachUserPolicy"]),
    method("attach-group-policy", &["iam:AttachGroupPolicy"]),
    method(
        "attach-role-policy",
        &["iam:AttachRolePolicy", "sts:AssumeRole"],
    ),
    method("put-user-policy", &["iam:PutUserPolicy"]),
    method("put-group-policy", &["iam:PutGroupPolicy"]),
    method("put-role-policy", &["iam:PutRolePolicy", "sts:AssumeRole"]),
    method(
        "update-assume-role-policy",
        &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
    ),
    method("pass-role-ec2", &["iam:PassRole", "ec2:RunInstances"]),
    method(
        "pass-role-lambda-invoke",
        &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ],
    ),
    method(
        "pass-role-lambda-dynamodb",
        &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:CreateEventSourceMapping",
        ],
    ),
    method(
        "pass-role-glue-dev-endpoint",
        &["iam:PassRole", "glue:CreateDevEndpoint"],
    ),
    method(
        "pass-role-cloudformation",
        &["iam:PassRole", "cloudformation:CreateStack"],
    ),
    method(
        "pass-role-data-pipeline",
        &[
            "iam:PassRole",
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
        ],
    ),
    method("update-lambda-code", &["lambda:UpdateFunctionCode"]),
    method("update-glue-dev-endpoint", &["glue:UpdateDevEndpoint"]),
];

/// Data exfiltration: reading stored data and secrets.
///
/// | action | what it hands out |
/// |---|---|
/// | s3:GetObject | the content of any object in any bucket |
/// | ssm:GetParameter | a Parameter Store value, secure strings decrypted on request |
/// | ssm:GetParameters | several Parameter Store values at once |
/// | ssm:GetParametersByPath | every parameter under a path |
/// | secretsmanager:GetSecretValue | the value of any secret |
/// | kms:Decrypt | the plaintext of anything encrypted under any key the key policies let the account use |
pub(crate) static DATA_EXFILTRATION: &[&str] = &[
    "s3:GetObject",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
];

/// Credentials exposure: actions whose answer is a credential.
///
/// | action | the credential |
/// |---|---|
/// | iam:CreateAccessKey | a long-term access key for any user |
/// | iam:CreateLoginProfile | a console password for any user |
/// | iam:UpdateAccessKey | an inactive access key made active again |
/// | iam:CreateServiceSpecificCredential | a CodeCommit or Keyspaces password for any user |
/// | iam:ResetServiceSpecificCredential | a new password for such a credential |
/// | sts:AssumeRole | temporary credentials of any role that trusts the account |
/// | sts:GetFederationToken | temporary credentials for a federated user |
/// | ecr:GetAuthorizationToken | a registry token for every repository the caller may read |
/// | redshift:GetClusterCredentials | a database user's temporary password |
/// | rds-db:Connect | an IAM authentication token for any database user |
/// | ec2:GetPasswordData | a Windows instance's administrator password |
/// | codepipeline:PollForJobs | a job worker's artifact credentials |
/// | lightsail:GetInstanceAccessDetails | an instance's SSH key or password |
pub(crate) static CREDENTIALS_EXPOSURE: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateAccessKey",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "sts:AssumeRole",
    "sts:GetFederationToken",
    "ecr:GetAuthorizationToken",
    "redshift:GetClusterCredentials",
    "rds-db:Connect",
    "ec2:GetPasswordData",
    "codepipeline:PollForJobs",
    "lightsail:GetInstanceAccessDetails",
];

/// The exposure categories, as the access review names them.
pub(crate) const EXFILTRATION: &str = "data-exfiltration";
pub(crate) const CREDENTIALS: &str = "credentials-exposure";

fn categories() -> [(&'static str, &'static [&'static str]); 2] {
    [
        (EXFILTRATION, DATA_EXFILTRATION),
        (CREDENTIALS, CREDENTIALS_EXPOSURE),
    ]
}

/// Every action the rules ask the evaluation core about.
fn actions_of_interest() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = METHODS
        .iter()
        .flat_map(|m| m.actions.iter().copied())
        .chain(DATA_EXFILTRATION.iter().copied())
        .chain(CREDENTIALS_EXPOSURE.iter().copied())
        .collect();
    set.into_iter().collect()
}

// ---- The analysis the rules and the access review share ----

/// A policy as the rules judge it: a managed policy by its ARN, an inline policy by the ARN of
/// the principal that holds it and its name (as `admin-policy` keys them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PolicyKey {
    resource: String,
    inline_name: String,
}

/// One policy in use, judged once.
#[derive(Debug)]
struct Judged {
    /// The policy's name.
    name: String,
    /// `managed policy X` or `inline policy y`.
    what: String,
    /// The default document (managed) or the document (inline); `None` when it could not be
    /// read.
    judged: Option<Judgement>,
    /// `user bob`, `role r`, `group g`: principals that hold it themselves, in policies.csv
    /// order.
    direct: Vec<String>,
    /// `user alice (through group admins)`.
    through: Vec<String>,
}

#[derive(Debug)]
struct Judgement {
    /// Allows `*` on `*` (what `admin-policy` reports).
    admin: bool,
    /// The actions of interest it allows on every resource.
    grants: BTreeMap<String, Grant>,
    not_action: Vec<NotActionAllow>,
}

impl Judgement {
    /// The methods this document completes on its own.
    fn methods(&self) -> Vec<&'static Method> {
        METHODS
            .iter()
            .filter(|m| m.actions.iter().all(|a| self.grants.contains_key(*a)))
            .collect()
    }

    /// `action (limits)` for an action it grants.
    fn action(&self, action: &str) -> String {
        with_limits(action, self.grants.get(action))
    }
}

/// `action`, with its restrictions in parentheses when it has any.
fn with_limits(action: &str, grant: Option<&Grant>) -> String {
    match grant.map(Grant::limits) {
        Some(limits) if !limits.is_empty() => format!("{action} ({limits})"),
        _ => action.to_string(),
    }
}

/// A principal and the policies it holds, directly or through groups.
#[derive(Debug, Default)]
struct Principal {
    kind: String,
    name: String,
    /// Each policy it holds, with how: `direct` or `group:<name>`.
    held: BTreeMap<PolicyKey, BTreeSet<String>>,
    /// The ARNs of the groups through which a user holds policies.
    groups: BTreeSet<String>,
}

/// What the principals of one account can do, judged from `authorization-details.json`.
#[derive(Debug, Default)]
pub(crate) struct Privileges {
    policies: BTreeMap<PolicyKey, Judged>,
    /// By principal ARN.
    principals: BTreeMap<String, Principal>,
}

/// A method a principal completes only by combining several of its policies.
#[derive(Debug)]
struct Combined {
    method: &'static Method,
    /// Each contributing policy (as the principal holds it), with the method's actions it
    /// grants.
    contributions: BTreeMap<String, Vec<String>>,
}

/// What the access review shows of a principal.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Method ids its policies complete, alone or combined (`id (conditional)` when some action
    /// is granted only with a restriction), in catalogue order.
    pub methods: Vec<String>,
    /// The exposure categories its policies allow on every resource.
    pub exposure: Vec<&'static str>,
}

impl Privileges {
    pub(crate) fn read(input: &Input) -> Result<Privileges, String> {
        let details = input.document::<AuthorizationDetails>()?;
        let tables = Tables::build(&details, &input.account_id);
        Ok(Privileges::build(&details, &tables))
    }

    pub(crate) fn build(details: &AuthorizationDetails, tables: &Tables) -> Privileges {
        let managed: BTreeMap<&str, _> = details
            .policies
            .iter()
            .map(|p| (p.arn.as_str(), p.default_document()))
            .collect();
        let mut inline: BTreeMap<(&str, &str), &serde_json::Value> = BTreeMap::new();
        for user in &details.user_detail_list {
            for p in &user.user_policy_list {
                inline.insert((&user.arn, &p.policy_name), &p.policy_document);
            }
        }
        for group in &details.group_detail_list {
            for p in &group.group_policy_list {
                inline.insert((&group.arn, &p.policy_name), &p.policy_document);
            }
        }
        for role in &details.role_detail_list {
            for p in &role.role_policy_list {
                inline.insert((&role.arn, &p.policy_name), &p.policy_document);
            }
        }
        let service_linked_roles: BTreeSet<&str> = tables
            .roles
            .iter()
            .filter(|r| service_linked(r))
            .map(|r| r.arn.as_str())
            .collect();
        let actions = actions_of_interest();
        let mut privileges = Privileges::default();
        for row in &tables.policies {
            if row.principal_type == "role" && service_linked_roles.contains(&*row.principal_arn) {
                continue;
            }
            let holder = tables.holder_arn(row);
            let (key, what, document) = if row.kind == INLINE {
                (
                    PolicyKey {
                        resource: holder.to_string(),
                        inline_name: row.policy_name.clone(),
                    },
                    format!("inline policy {}", row.policy_name),
                    inline.get(&(holder, row.policy_name.as_str())).copied(),
                )
            } else {
                (
                    PolicyKey {
                        resource: row.policy_arn.clone(),
                        inline_name: String::new(),
                    },
                    format!("managed policy {}", row.policy_name),
                    managed.get(row.policy_arn.as_str()).copied().flatten(),
                )
            };
            let judged = privileges.policies.entry(key.clone()).or_insert_with(|| {
                let judged = document.and_then(|d| {
                    Some(Judgement {
                        admin: allows_admin(d)?,
                        grants: grants(d, &actions)?,
                        not_action: not_action_allows(d)?,
                    })
                });
                Judged {
                    name: row.policy_name.clone(),
                    what,
                    judged,
                    direct: Vec::new(),
                    through: Vec::new(),
                }
            });
            let who = format!("{} {}", row.principal_type, row.principal_name);
            match row.via_group() {
                None => judged.direct.push(who),
                Some(group) => judged
                    .through
                    .push(format!("{who} (through group {group})")),
            }
            let principal = privileges
                .principals
                .entry(row.principal_arn.clone())
                .or_insert_with(|| Principal {
                    kind: row.principal_type.clone(),
                    name: row.principal_name.clone(),
                    ..Principal::default()
                });
            principal
                .held
                .entry(key)
                .or_default()
                .insert(row.via.clone());
            if row.via_group().is_some() {
                principal.groups.insert(holder.to_string());
            }
        }
        privileges
    }

    /// The policies whose documents could not be judged, named as `admin-policy` names them.
    fn unknown(&self) -> Vec<String> {
        self.policies
            .iter()
            .filter(|(_, j)| j.judged.is_none())
            .map(|(key, j)| match key.inline_name.as_str() {
                "" => key.resource.clone(),
                _ => format!("{} of {}", j.name, key.resource),
            })
            .collect()
    }

    fn report_unknown(&self, out: &mut Out<'_>) {
        let unknown = self.unknown();
        if !unknown.is_empty() {
            out.partial(format!(
                "the documents of {} could not be read as JSON or were not returned (see the \
                 collector's notes)",
                unknown.join(", ")
            ));
        }
    }

    /// The judged policies a principal holds, each with its label as the principal holds it.
    fn held<'a>(&'a self, principal: &'a Principal) -> Vec<(String, &'a Judgement)> {
        principal
            .held
            .iter()
            .filter_map(|(key, vias)| {
                let policy = self.policies.get(key)?;
                let judgement = policy.judged.as_ref()?;
                let groups: Vec<String> = vias
                    .iter()
                    .filter(|v| v.as_str() != DIRECT)
                    .map(|v| v.replace(':', " "))
                    .collect();
                let label = if groups.is_empty() {
                    policy.what.clone()
                } else {
                    format!("{} (through {})", policy.what, groups.join(", "))
                };
                Some((label, judgement))
            })
            .collect()
    }

    /// Whether the principal's policies together complete `method`.
    fn completes_together(&self, principal: &Principal, method: &Method) -> bool {
        let held = self.held(principal);
        method
            .actions
            .iter()
            .all(|a| held.iter().any(|(_, j)| j.grants.contains_key(*a)))
    }

    /// The methods a principal completes only by combining policies: no single policy it
    /// holds completes it and it holds no admin policy. With `skip_groups`, also no group of a
    /// user's completes it on its own (the group is reported instead).
    fn combined(&self, principal: &Principal, skip_groups: bool) -> Vec<Combined> {
        let held = self.held(principal);
        if held.iter().any(|(_, j)| j.admin) {
            return Vec::new();
        }
        let mut found = Vec::new();
        for method in METHODS {
            if held
                .iter()
                .any(|(_, j)| j.methods().iter().any(|m| m.id == method.id))
            {
                continue;
            }
            if !self.completes_together(principal, method) {
                continue;
            }
            let by_group = skip_groups
                && principal.groups.iter().any(|g| {
                    self.principals
                        .get(g)
                        .is_some_and(|group| self.completes_together(group, method))
                });
            if by_group {
                continue;
            }
            let mut contributions: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for action in method.actions {
                for (label, judgement) in &held {
                    if judgement.grants.contains_key(*action) {
                        contributions
                            .entry(label.clone())
                            .or_default()
                            .push(judgement.action(action));
                    }
                }
            }
            found.push(Combined {
                method,
                contributions,
            });
        }
        found
    }

    /// The access review's view of a principal: every method its policies complete (alone or
    /// together, admin policies included) and the exposure categories they allow.
    pub(crate) fn summary(&self, arn: &str) -> Summary {
        let Some(principal) = self.principals.get(arn) else {
            return Summary::default();
        };
        let held = self.held(principal);
        let granted = |action: &str| -> Vec<&Grant> {
            held.iter()
                .filter_map(|(_, j)| j.grants.get(action))
                .collect()
        };
        let mut summary = Summary::default();
        for method in METHODS {
            let grants: Vec<Vec<&Grant>> = method.actions.iter().map(|a| granted(a)).collect();
            if grants.iter().any(Vec::is_empty) {
                continue;
            }
            let unrestricted = grants
                .iter()
                .all(|g| g.iter().any(|grant| grant.is_unrestricted()));
            summary.methods.push(if unrestricted {
                method.id.to_string()
            } else {
                format!("{} (conditional)", method.id)
            });
        }
        for (category, table) in categories() {
            if table.iter().any(|a| !granted(a).is_empty()) {
                summary.exposure.push(category);
            }
        }
        summary
    }
}

/// `; held by ...; reaches ...` as `admin-policy` words it.
fn holders(policy: &Judged) -> String {
    let mut text = String::new();
    if !policy.direct.is_empty() {
        text.push_str(&format!("; held by {}", policy.direct.join(", ")));
    }
    if !policy.through.is_empty() {
        text.push_str(&format!("; reaches {}", policy.through.join(", ")));
    }
    text
}

/// Sentences by resource: one finding per resource, its sentences joined.
type ByResource = BTreeMap<String, Vec<String>>;

fn add_all(out: &mut Out<'_>, by_resource: ByResource) {
    for (resource, sentences) in by_resource {
        out.add(resource, "global", sentences.join(". "), PolicyRow::PATH);
    }
}

/// `method (action, action (if ...))`.
fn method_with_actions(method: &Method, judgement: &Judgement) -> String {
    let actions: Vec<String> = method.actions.iter().map(|a| judgement.action(a)).collect();
    format!("{} ({})", method.id, actions.join(", "))
}

fn privilege_escalation(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let privileges = Privileges::read(input)?;
    privileges.report_unknown(out);
    let mut by_resource = ByResource::new();
    for (key, policy) in &privileges.policies {
        let Some(judgement) = &policy.judged else {
            continue;
        };
        if judgement.admin {
            continue;
        }
        let methods = judgement.methods();
        if methods.is_empty() {
            continue;
        }
        let listed: Vec<String> = methods
            .iter()
            .map(|m| method_with_actions(m, judgement))
            .collect();
        let count = match methods.len() {
            1 => "a privilege-escalation method".to_string(),
            n => format!("{n} privilege-escalation methods"),
        };
        by_resource
            .entry(key.resource.clone())
            .or_default()
            .push(format!(
                "{} completes {count}: {}{}",
                policy.what,
                listed.join(", "),
                holders(policy)
            ));
    }
    for (arn, principal) in &privileges.principals {
        for combined in privileges.combined(principal, true) {
            let parts: Vec<String> = combined
                .contributions
                .iter()
                .map(|(policy, actions)| format!("{} from {policy}", and_list(actions)))
                .collect();
            by_resource.entry(arn.clone()).or_default().push(format!(
                "{} {} completes {} only by combining policies: {}",
                principal.kind,
                principal.name,
                combined.method.id,
                parts.join("; ")
            ));
        }
    }
    add_all(out, by_resource);
    Ok(())
}

fn sensitive_actions(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let privileges = Privileges::read(input)?;
    privileges.report_unknown(out);
    let mut by_resource = ByResource::new();
    for (key, policy) in &privileges.policies {
        let Some(judgement) = &policy.judged else {
            continue;
        };
        if judgement.admin {
            continue;
        }
        let mut parts = Vec::new();
        for (category, table) in categories() {
            let actions: Vec<String> = table
                .iter()
                .filter(|a| judgement.grants.contains_key(**a))
                .map(|a| judgement.action(a))
                .collect();
            if !actions.is_empty() {
                parts.push(format!("{category} {}", actions.join(", ")));
            }
        }
        if parts.is_empty() {
            continue;
        }
        by_resource
            .entry(key.resource.clone())
            .or_default()
            .push(format!(
                "{} allows on every resource {}{}",
                policy.what,
                parts.join("; "),
                holders(policy)
            ));
    }
    add_all(out, by_resource);
    Ok(())
}

fn not_action_allow(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let privileges = Privileges::read(input)?;
    privileges.report_unknown(out);
    let mut by_resource = ByResource::new();
    for (key, policy) in &privileges.policies {
        let Some(judgement) = &policy.judged else {
            continue;
        };
        if judgement.not_action.is_empty() {
            continue;
        }
        let statements: Vec<String> = judgement
            .not_action
            .iter()
            .map(|s| {
                let mut text = format!(
                    "every action but {} on every resource",
                    s.excluded_actions.join(", ")
                );
                if !s.excluded_resources.is_empty() {
                    text.push_str(&format!(" but {}", s.excluded_resources.join(", ")));
                }
                if !s.condition.is_empty() {
                    text.push_str(&format!(" if {}", s.condition));
                }
                format!("{text} ({})", s.statement)
            })
            .collect();
        by_resource
            .entry(key.resource.clone())
            .or_default()
            .push(format!(
                "{} allows {}{}",
                policy.what,
                statements.join("; "),
                holders(policy)
            ));
    }
    add_all(out, by_resource);
    Ok(())
}

fn admin_without_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let report = input.table::<ReportRow>()?;
    let privileges = Privileges::read(input)?;
    privileges.report_unknown(out);
    for user in report.iter().filter(|r| !r.is_root()) {
        if !user.password_enabled || user.mfa_active {
            continue;
        }
        let Some(principal) = privileges.principals.get(&user.arn).or_else(|| {
            privileges
                .principals
                .values()
                .find(|p| p.kind == "user" && p.name == user.user)
        }) else {
            continue;
        };
        let mut what = Vec::new();
        for (label, judgement) in privileges.held(principal) {
            if judgement.admin {
                what.push(format!("{label} (every action on every resource)"));
                continue;
            }
            let methods: Vec<&str> = judgement.methods().iter().map(|m| m.id).collect();
            if !methods.is_empty() {
                what.push(format!(
                    "{label} (privilege escalation: {})",
                    methods.join(", ")
                ));
            }
        }
        let combined: Vec<&str> = privileges
            .combined(principal, false)
            .iter()
            .map(|c| c.method.id)
            .collect();
        if !combined.is_empty() {
            what.push(format!(
                "policies that together complete {}",
                combined.join(", ")
            ));
        }
        if what.is_empty() {
            continue;
        }
        out.add(
            &user.arn,
            "global",
            format!(
                "{} has a console password and no MFA device and holds {}",
                user.user,
                what.join("; ")
            ),
            ReportRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::iam_test::{admin_doc, authz, managed, report_row, user, NO_KEY, OLD};
    use super::*;
    use crate::contract::iam_authorization_details::{Attached, Group, InlinePolicy, Role, User};
    use crate::findings::testkit::{iam_arn, Bundle};
    use crate::findings::RuleStatus;
    use serde_json::{json, Value};

    const ESCALATION: &str = "privilege-escalation";
    const SENSITIVE: &str = "sensitive-actions-all-resources";
    const NOT_ACTION: &str = "not-action-allow";
    const ADMIN_NO_MFA: &str = "admin-without-mfa";

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn allow(actions: &[&str]) -> Value {
        doc(json!([{"Effect": "Allow", "Action": actions, "Resource": "*"}]))
    }

    fn inline(name: &str, document: Value) -> InlinePolicy {
        InlinePolicy {
            policy_name: name.into(),
            policy_document: document,
        }
    }

    fn attach(arn: &str) -> Attached {
        Attached {
            policy_name: arn.rsplit('/').next().unwrap().into(),
            policy_arn: arn.into(),
        }
    }

    fn policy(name: &str) -> String {
        iam_arn(&format!("policy/{name}"))
    }

    fn iam_user(name: &str, groups: &[&str], attached: &[&str]) -> User {
        User {
            path: "/".into(),
            user_name: name.into(),
            arn: user(name),
            group_list: groups.iter().map(|g| g.to_string()).collect(),
            attached_managed_policies: attached.iter().map(|a| attach(a)).collect(),
            ..User::default()
        }
    }

    fn group(name: &str, attached: &[&str], inline: Vec<InlinePolicy>) -> Group {
        Group {
            path: "/".into(),
            group_name: name.into(),
            arn: iam_arn(&format!("group/{name}")),
            attached_managed_policies: attached.iter().map(|a| attach(a)).collect(),
            group_policy_list: inline,
            ..Group::default()
        }
    }

    fn role(path: &str, name: &str, attached: &[&str], inline: Vec<InlinePolicy>) -> Role {
        Role {
            path: path.into(),
            role_name: name.into(),
            arn: iam_arn(&format!("role{path}{name}")),
            assume_role_policy_document: json!({"Statement": []}),
            attached_managed_policies: attached.iter().map(|a| attach(a)).collect(),
            role_policy_list: inline,
            ..Role::default()
        }
    }

    /// A user `name` holding one customer managed policy `name-policy` with `document`.
    fn one_policy(name: &str, document: Value) -> AuthorizationDetails {
        let arn = policy(&format!("{name}-policy"));
        AuthorizationDetails {
            user_detail_list: vec![iam_user(name, &[], &[&arn])],
            policies: vec![managed(&arn, document)],
            ..AuthorizationDetails::default()
        }
    }

    /// IAMFullAccess as AWS publishes it.
    fn iam_full_access() -> Value {
        doc(json!([{
            "Effect": "Allow",
            "Action": ["iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
                       "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy",
                       "organizations:ListChildren", "organizations:ListParents",
                       "organizations:ListPoliciesForTarget", "organizations:ListRoots",
                       "organizations:ListPolicies", "organizations:ListTargetsForPolicy"],
            "Resource": "*"
        }]))
    }

    /// The shape of AWSLambda_FullAccess: `lambda:*` on every resource, read access around it,
    /// and iam:PassRole only to Lambda.
    fn lambda_full_access() -> Value {
        doc(json!([
            {"Effect": "Allow", "Action": [
                "cloudformation:DescribeStacks", "cloudformation:ListStackResources",
                "cloudwatch:ListMetrics", "cloudwatch:GetMetricData", "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets", "ec2:DescribeVpcs", "kms:ListAliases", "iam:GetPolicy",
                "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListRoles",
                "lambda:*", "logs:DescribeLogGroups", "states:DescribeStateMachine",
                "states:ListStateMachines", "tag:GetResources", "xray:GetTraceSummaries",
                "xray:BatchGetTraces"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
            {"Effect": "Allow", "Action": ["logs:DescribeLogStreams", "logs:GetLogEvents",
                "logs:FilterLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"}
        ]))
    }

    /// The shape of PowerUserAccess: everything but IAM, Organizations and Account.
    fn power_user_access() -> Value {
        doc(json!([
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole",
                "iam:ListRoles", "organizations:DescribeOrganization", "account:ListRegions",
                "account:GetAccountInformation"], "Resource": "*"}
        ]))
    }

    /// The method ids a finding's detail names, in the order it names them.
    fn methods_in(detail: &str) -> Vec<&'static str> {
        let mut found: Vec<(usize, &'static str)> = METHODS
            .iter()
            .filter_map(|m| {
                detail
                    .match_indices(m.id)
                    .find(|(i, _)| {
                        // Not a prefix of a longer id (pass-role-lambda-invoke vs ...).
                        let next = detail[i + m.id.len()..].chars().next();
                        !matches!(next, Some(c) if c.is_ascii_alphanumeric() || c == '-')
                    })
                    .map(|(i, _)| (i, m.id))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, id)| id).collect()
    }

    #[test]
    fn aws_managed_iam_and_lambda_full_access_escalate_and_name_their_conditions() {
        let iam_full = "arn:aws:iam::aws:policy/IAMFullAccess";
        let lambda_full = "arn:aws:iam::aws:policy/AWSLambda_FullAccess";
        let details = AuthorizationDetails {
            user_detail_list: vec![iam_user("bob", &["devs"], &[])],
            group_detail_list: vec![group("devs", &[iam_full], vec![])],
            role_detail_list: vec![role("/", "builder", &[lambda_full], vec![])],
            policies: vec![
                managed(iam_full, iam_full_access()),
                managed(lambda_full, lambda_full_access()),
            ],
        };
        let hits = authz(&details).details(ESCALATION);
        assert_eq!(hits.len(), 2, "{hits:#?}");
        let (resource, detail) = &hits[0];
        assert_eq!(resource, lambda_full);
        assert_eq!(
            methods_in(detail),
            [
                "pass-role-lambda-invoke",
                "pass-role-lambda-dynamodb",
                "update-lambda-code"
            ]
        );
        assert!(
            detail.starts_with(
                "managed policy AWSLambda_FullAccess completes 3 privilege-escalation methods: \
                 pass-role-lambda-invoke (iam:PassRole (if StringEquals iam:PassedToService \
                 lambda.amazonaws.com), lambda:CreateFunction, lambda:InvokeFunction)"
            ),
            "{detail}"
        );
        assert!(detail.ends_with("; held by role builder"), "{detail}");
        let (resource, detail) = &hits[1];
        assert_eq!(resource, iam_full);
        // Every IAM-only method; the role methods also need sts:AssumeRole.
        assert_eq!(
            methods_in(detail),
            [
                "create-access-key",
                "create-login-profile",
                "update-login-profile",
                "add-user-to-group",
                "create-policy-version",
                "set-default-policy-version",
                "attach-user-policy",
                "attach-group-policy",
                "put-user-policy",
                "put-group-policy",
            ]
        );
        assert!(
            detail.ends_with("; held by group devs; reaches user bob (through group devs)"),
            "{detail}"
        );
        // Credentials exposure too (iam:CreateAccessKey...), and Lambda's are none.
        let sensitive = authz(&details).details(SENSITIVE);
        assert_eq!(sensitive.len(), 1, "{sensitive:#?}");
        assert_eq!(
            sensitive[0].1,
            "managed policy IAMFullAccess allows on every resource credentials-exposure \
             iam:CreateAccessKey, iam:CreateLoginProfile, iam:UpdateAccessKey, \
             iam:CreateServiceSpecificCredential, iam:ResetServiceSpecificCredential; held by \
             group devs; reaches user bob (through group devs)"
        );
    }

    #[test]
    fn wildcards_at_every_position_complete_a_method() {
        let cases: &[(&[&str], &str)] = &[
            (&["iam:CreateAccessKey"], "create-access-key"),
            (&["IAM:createaccesskey"], "create-access-key"),
            (&["iam:Create*Key"], "create-access-key"),
            (&["*:CreateLoginProfile"], "create-login-profile"),
            (&["iam:Update*Profile"], "update-login-profile"),
            (&["iam:AddUser*"], "add-user-to-group"),
            (&["iam:?reatePolicyVersion"], "create-policy-version"),
            (&["iam:SetDefault*"], "set-default-policy-version"),
            (&["iam:Attach?serPolicy"], "attach-user-policy"),
            (&["i*:AttachGroupPolicy"], "attach-group-policy"),
            (&["iam:PutUser*"], "put-user-policy"),
            (&["iam:PutGroupPolicy"], "put-group-policy"),
            (&["iam:*Role", "ec2:Run*"], "pass-role-ec2"),
            (
                &["iam:PassRole", "glue:CreateDev*"],
                "pass-role-glue-dev-endpoint",
            ),
            (
                &["iam:PassRole", "cloudformation:*"],
                "pass-role-cloudformation",
            ),
            (
                &["iam:PassRole", "datapipeline:*Pipeline*"],
                "pass-role-data-pipeline",
            ),
            (&["lambda:Update*"], "update-lambda-code"),
            (&["glue:*DevEndpoint"], "update-glue-dev-endpoint"),
        ];
        for (actions, method) in cases {
            let hits = authz(&one_policy("ann", allow(actions))).details(ESCALATION);
            assert_eq!(hits.len(), 1, "{actions:?}");
            assert_eq!(hits[0].0, policy("ann-policy"));
            assert_eq!(
                methods_in(&hits[0].1),
                [*method],
                "{actions:?}: {}",
                hits[0].1
            );
        }
        // Three actions on one policy, each through a different wildcard.
        let hits = authz(&one_policy(
            "ann",
            allow(&["iam:Pass*", "lambda:Create*", "lambda:Invoke*"]),
        ))
        .details(ESCALATION);
        assert_eq!(
            methods_in(&hits[0].1),
            ["pass-role-lambda-invoke", "pass-role-lambda-dynamodb"]
        );
        // sts:AssumeRole makes the role methods complete (`*RolePolicy` covers Attach and Put).
        let hits = authz(&one_policy(
            "ann",
            allow(&[
                "iam:*RolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "sts:Assume*",
            ]),
        ))
        .details(ESCALATION);
        assert_eq!(
            methods_in(&hits[0].1),
            [
                "attach-role-policy",
                "put-role-policy",
                "update-assume-role-policy"
            ]
        );
        // Without it they are not.
        let hits = authz(&one_policy("ann", allow(&["iam:PutRolePolicy"]))).details(ESCALATION);
        assert_eq!(hits, []);
    }

    #[test]
    fn a_deny_in_the_same_policy_removing_one_action_breaks_the_method() {
        let document = doc(json!([
            {"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"},
            {"Effect": "Deny", "Action": "lambda:Invoke*", "Resource": "*"}
        ]));
        assert_eq!(authz(&one_policy("ann", document)).details(ESCALATION), []);
        // A Deny on named resources only, or with a condition, leaves the method, named.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
            {"Effect": "Deny", "NotAction": "iam:CreateAccessKey", "Resource": "*"}
        ]));
        let hits = authz(&one_policy("ann", document)).details(ESCALATION);
        assert_eq!(
            hits[0].1,
            "managed policy ann-policy completes a privilege-escalation method: \
             create-access-key (iam:CreateAccessKey (denied if BoolIfExists \
             aws:MultiFactorAuthPresent false)); held by user ann"
        );
    }

    #[test]
    fn a_method_split_across_two_policies_is_reported_on_the_principal() {
        let pass = policy("PassAnyRole");
        let details = AuthorizationDetails {
            user_detail_list: vec![
                // carol: PassRole directly, Lambda through her group: reported on carol.
                iam_user("carol", &["lambda-devs"], &[&pass]),
                // dan: both halves through one group: reported on the group, not on dan.
                iam_user("dan", &["deployers"], &[]),
            ],
            group_detail_list: vec![
                group(
                    "lambda-devs",
                    &[],
                    vec![inline(
                        "lambda-dev",
                        allow(&["lambda:CreateFunction", "lambda:InvokeFunction"]),
                    )],
                ),
                group(
                    "deployers",
                    &[&pass],
                    vec![inline("stacks", allow(&["cloudformation:CreateStack"]))],
                ),
            ],
            role_detail_list: vec![role(
                "/",
                "ci",
                &[&pass],
                vec![inline("run", allow(&["ec2:RunInstances"]))],
            )],
            policies: vec![managed(&pass, allow(&["iam:PassRole"]))],
        };
        let hits = authz(&details).details(ESCALATION);
        assert_eq!(
            hits,
            [
                (
                    iam_arn("group/deployers"),
                    "group deployers completes pass-role-cloudformation only by combining \
                     policies: cloudformation:CreateStack from inline policy stacks; \
                     iam:PassRole from managed policy PassAnyRole"
                        .to_string()
                ),
                (
                    iam_arn("role/ci"),
                    "role ci completes pass-role-ec2 only by combining policies: \
                     ec2:RunInstances from inline policy run; iam:PassRole from managed policy \
                     PassAnyRole"
                        .to_string()
                ),
                (
                    user("carol"),
                    "user carol completes pass-role-lambda-invoke only by combining policies: \
                     lambda:CreateFunction and lambda:InvokeFunction from inline policy \
                     lambda-dev (through group lambda-devs); iam:PassRole from managed policy \
                     PassAnyRole"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn an_inline_policy_and_a_combination_on_one_principal_are_one_finding() {
        let details = AuthorizationDetails {
            user_detail_list: vec![User {
                user_policy_list: vec![
                    inline("keys", allow(&["iam:CreateAccessKey", "iam:PassRole"])),
                    inline("compute", allow(&["ec2:RunInstances"])),
                ],
                ..iam_user("erin", &[], &[])
            }],
            ..AuthorizationDetails::default()
        };
        let hits = authz(&details).details(ESCALATION);
        assert_eq!(hits.len(), 1, "{hits:#?}");
        assert_eq!(hits[0].0, user("erin"));
        assert_eq!(
            hits[0].1,
            "inline policy keys completes a privilege-escalation method: create-access-key \
             (iam:CreateAccessKey); held by user erin. user erin completes pass-role-ec2 only \
             by combining policies: ec2:RunInstances from inline policy compute; iam:PassRole \
             from inline policy keys"
        );
    }

    #[test]
    fn conditions_not_resource_and_scoped_policies() {
        // A condition is named, never dropped.
        let document = doc(json!([{
            "Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*",
            "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}
        }]));
        let hits = authz(&one_policy("ann", document)).details(ESCALATION);
        assert!(
            hits[0].1.contains(
                "attach-user-policy (iam:AttachUserPolicy (if ArnEquals iam:PolicyARN \
                 arn:aws:iam::aws:policy/ReadOnlyAccess))"
            ),
            "{}",
            hits[0].1
        );
        // NotResource: every user but one.
        let document = doc(json!([{
            "Effect": "Allow", "Action": "iam:CreateAccessKey",
            "NotResource": "arn:aws:iam::123456789012:user/breakglass"
        }]));
        let bundle = authz(&one_policy("ann", document));
        let hits = bundle.details(ESCALATION);
        assert!(
            hits[0].1.contains(
                "create-access-key (iam:CreateAccessKey (except on \
                 arn:aws:iam::123456789012:user/breakglass (NotResource)))"
            ),
            "{}",
            hits[0].1
        );
        assert_eq!(bundle.hits(SENSITIVE).len(), 1);
        // Scoped to named ARNs: nothing to report by any of the rules.
        let document = doc(json!([
            {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "arn:aws:iam::123456789012:role/lambda-basic"},
            {"Effect": "Allow", "Action": ["lambda:*", "s3:GetObject", "secretsmanager:GetSecretValue"], "Resource": ["arn:aws:lambda:eu-west-1:123456789012:function:app", "arn:aws:s3:::app/*", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-*"]},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::app/*"}
        ]));
        let bundle = authz(&one_policy("ann", document));
        for rule in [ESCALATION, SENSITIVE, NOT_ACTION] {
            assert_eq!(bundle.hits(rule), [], "{rule}");
        }
    }

    #[test]
    fn sensitive_actions_through_wildcards_conditions_and_denies() {
        // As ReadOnlyAccess reads S3 and SSM: through wildcards.
        let read_only = allow(&["s3:Get*", "ssm:Get*", "ec2:Describe*", "ecr:Get*"]);
        let hits = authz(&one_policy("ann", read_only)).details(SENSITIVE);
        assert_eq!(
            hits[0].1,
            "managed policy ann-policy allows on every resource data-exfiltration s3:GetObject, \
             ssm:GetParameter, ssm:GetParameters, ssm:GetParametersByPath; credentials-exposure \
             ecr:GetAuthorizationToken; held by user ann"
        );
        // A Deny of the same policy removes an action; a condition is named.
        let document = doc(json!([
            {"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}
        ]));
        let hits = authz(&one_policy("ann", document)).details(SENSITIVE);
        assert_eq!(
            hits[0].1,
            "managed policy ann-policy allows on every resource data-exfiltration \
             secretsmanager:GetSecretValue (if StringEquals aws:ResourceTag/team \
             ${aws:PrincipalTag/team}), kms:Decrypt; held by user ann"
        );
        // Denied entirely: no finding.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
        ]));
        assert_eq!(authz(&one_policy("ann", document)).hits(SENSITIVE), []);
    }

    #[test]
    fn not_action_allow_fires_on_power_user_access_and_its_grants_count() {
        let power = "arn:aws:iam::aws:policy/PowerUserAccess";
        let details = AuthorizationDetails {
            role_detail_list: vec![role("/", "ops", &[power], vec![])],
            policies: vec![managed(power, power_user_access())],
            ..AuthorizationDetails::default()
        };
        let bundle = authz(&details);
        assert_eq!(
            bundle.details(NOT_ACTION),
            [(
                power.to_string(),
                "managed policy PowerUserAccess allows every action but iam:*, \
                 organizations:*, account:* on every resource (statement 1); held by role ops"
                    .to_string()
            )]
        );
        // NotAction grants every non-IAM action: code updates escalate, PassRole is excluded.
        let hits = bundle.details(ESCALATION);
        assert_eq!(
            methods_in(&hits[0].1),
            ["update-lambda-code", "update-glue-dev-endpoint"]
        );
        let sensitive = bundle.details(SENSITIVE);
        assert_eq!(
            sensitive[0].1,
            "managed policy PowerUserAccess allows on every resource data-exfiltration \
             s3:GetObject, ssm:GetParameter, ssm:GetParameters, ssm:GetParametersByPath, \
             secretsmanager:GetSecretValue, kms:Decrypt; credentials-exposure sts:AssumeRole, \
             sts:GetFederationToken, ecr:GetAuthorizationToken, redshift:GetClusterCredentials, \
             rds-db:Connect, ec2:GetPasswordData, codepipeline:PollForJobs, \
             lightsail:GetInstanceAccessDetails; held by role ops"
        );
        // With NotResource and a condition: named.
        let document = doc(json!([{
            "Sid": "AllButVault", "Effect": "Allow", "NotAction": "iam:*",
            "NotResource": ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"],
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }]));
        let hits = authz(&one_policy("ann", document)).details(NOT_ACTION);
        assert_eq!(
            hits[0].1,
            "managed policy ann-policy allows every action but iam:* on every resource but \
             arn:aws:s3:::vault, arn:aws:s3:::vault/* if Bool aws:MultiFactorAuthPresent true \
             (statement 1 (AllButVault)); held by user ann"
        );
        // An Allow with Action (not NotAction) does not fire it.
        assert_eq!(
            authz(&one_policy("ann", allow(&["s3:*"]))).hits(NOT_ACTION),
            []
        );
    }

    #[test]
    fn admin_policies_are_left_to_admin_policy() {
        let details = AuthorizationDetails {
            user_detail_list: vec![User {
                user_policy_list: vec![inline("everything", admin_doc())],
                ..iam_user("zoe", &[], &[])
            }],
            ..AuthorizationDetails::default()
        };
        let bundle = authz(&details);
        assert_eq!(bundle.hits("admin-policy").len(), 1);
        assert_eq!(bundle.hits(ESCALATION), []);
        assert_eq!(bundle.hits(SENSITIVE), []);
        // An admin principal has nothing to combine either.
        let details = AuthorizationDetails {
            user_detail_list: vec![User {
                user_policy_list: vec![
                    inline("everything", admin_doc()),
                    inline("pass", allow(&["iam:PassRole"])),
                    inline("run", allow(&["ec2:RunInstances"])),
                ],
                ..iam_user("zoe", &[], &[])
            }],
            ..AuthorizationDetails::default()
        };
        assert_eq!(authz(&details).hits(ESCALATION), []);
    }

    #[test]
    fn service_linked_roles_are_left_out() {
        let details = AuthorizationDetails {
            role_detail_list: vec![role(
                "/aws-service-role/autoscaling.amazonaws.com/",
                "AWSServiceRoleForAutoScaling",
                &[],
                vec![inline("svc", allow(&["iam:PassRole", "ec2:RunInstances"]))],
            )],
            ..AuthorizationDetails::default()
        };
        let bundle = authz(&details);
        assert_eq!(bundle.hits(ESCALATION), []);
        assert_eq!(bundle.hits(SENSITIVE), []);
    }

    #[test]
    fn an_unreadable_document_makes_the_rules_partial() {
        let details = one_policy("ann", Value::String("{not json".into()));
        let bundle = authz(&details);
        for rule in [ESCALATION, SENSITIVE, NOT_ACTION] {
            let (status, reason, findings) = bundle.outcome(rule);
            assert_eq!(status, RuleStatus::Partial, "{rule}");
            assert!(reason.contains("policy/ann-policy"), "{reason}");
            assert!(findings.is_empty());
        }
    }

    fn with_report(details: &AuthorizationDetails, rows: &[ReportRow]) -> Bundle {
        authz(details).table(rows).collected(REPORT)
    }

    #[test]
    fn admin_without_mfa_needs_console_no_mfa_and_admin_or_escalation() {
        let admin = policy("Admin");
        let iam_full = "arn:aws:iam::aws:policy/IAMFullAccess";
        let details = AuthorizationDetails {
            user_detail_list: vec![
                iam_user("dave", &[], &[&admin]),
                iam_user("erin", &["iam-admins"], &[]),
                iam_user("frank", &[], &[&admin]),
                iam_user("gina", &[], &[&admin]),
                iam_user("hank", &[], &[]),
                User {
                    user_policy_list: vec![
                        inline("pass", allow(&["iam:PassRole"])),
                        inline("stacks", allow(&["cloudformation:CreateStack"])),
                    ],
                    ..iam_user("ivan", &[], &[])
                },
            ],
            group_detail_list: vec![group("iam-admins", &[iam_full], vec![])],
            policies: vec![
                managed(&admin, admin_doc()),
                managed(iam_full, iam_full_access()),
            ],
            ..AuthorizationDetails::default()
        };
        let console_no_mfa =
            |name: &str| report_row(name, OLD, ("true", "N/A"), "false", NO_KEY, NO_KEY);
        let rows = [
            console_no_mfa("dave"),
            console_no_mfa("erin"),
            // MFA on.
            report_row("frank", OLD, ("true", "N/A"), "true", NO_KEY, NO_KEY),
            // No console password.
            report_row("gina", OLD, ("false", "N/A"), "false", NO_KEY, NO_KEY),
            // Nothing to escalate with.
            console_no_mfa("hank"),
            console_no_mfa("ivan"),
        ];
        let hits = with_report(&details, &rows).details(ADMIN_NO_MFA);
        let resources: Vec<&str> = hits.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(resources, [user("dave"), user("erin"), user("ivan")]);
        assert_eq!(
            hits[0].1,
            "dave has a console password and no MFA device and holds managed policy Admin \
             (every action on every resource)"
        );
        assert!(
            hits[1].1.starts_with(
                "erin has a console password and no MFA device and holds managed policy \
                 IAMFullAccess (through group iam-admins) (privilege escalation: \
                 create-access-key, create-login-profile"
            ),
            "{}",
            hits[1].1
        );
        assert_eq!(
            hits[2].1,
            "ivan has a console password and no MFA device and holds policies that together \
             complete pass-role-cloudformation"
        );
        let (_, _, findings) = with_report(&details, &rows).outcome(ADMIN_NO_MFA);
        assert!(findings
            .iter()
            .all(|f| f.severity == Severity::Critical && f.evidence == ReportRow::PATH));
        // Without the credential report the rule is not evaluated, never a pass.
        let (status, _, _) = authz(&details).outcome(ADMIN_NO_MFA);
        assert_eq!(status, RuleStatus::NotEvaluated);
    }

    #[test]
    fn a_group_s_combination_counts_for_its_console_members() {
        let details = AuthorizationDetails {
            user_detail_list: vec![iam_user("jo", &["builders"], &[])],
            group_detail_list: vec![group(
                "builders",
                &[],
                vec![
                    inline("pass", allow(&["iam:PassRole"])),
                    inline("glue", allow(&["glue:CreateDevEndpoint"])),
                ],
            )],
            ..AuthorizationDetails::default()
        };
        let rows = [report_row(
            "jo",
            OLD,
            ("true", "N/A"),
            "false",
            NO_KEY,
            NO_KEY,
        )];
        let hits = with_report(&details, &rows).details(ADMIN_NO_MFA);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0]
                .1
                .ends_with("together complete pass-role-glue-dev-endpoint"),
            "{}",
            hits[0].1
        );
    }

    #[test]
    fn the_summary_lists_methods_alone_or_combined_and_exposure_categories() {
        let details = AuthorizationDetails {
            user_detail_list: vec![User {
                user_policy_list: vec![
                    inline(
                        "pass",
                        doc(
                            json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]),
                        ),
                    ),
                    inline("run", allow(&["ec2:RunInstances", "s3:GetObject"])),
                ],
                ..iam_user("kim", &[], &[])
            }],
            role_detail_list: vec![role("/", "admin", &[], vec![inline("all", admin_doc())])],
            ..AuthorizationDetails::default()
        };
        let tables = Tables::build(&details, crate::findings::testkit::ACCOUNT);
        let privileges = Privileges::build(&details, &tables);
        assert_eq!(
            privileges.summary(&user("kim")),
            Summary {
                methods: vec!["pass-role-ec2 (conditional)".into()],
                exposure: vec![EXFILTRATION],
            }
        );
        let admin = privileges.summary(&iam_arn("role/admin"));
        assert_eq!(admin.methods.len(), METHODS.len());
        assert_eq!(admin.exposure, [EXFILTRATION, CREDENTIALS]);
        assert_eq!(privileges.summary(&user("nobody")), Summary::default());
    }

    #[test]
    fn the_documented_tables_are_the_code_s_tables() {
        let source = include_str!("privilege.rs");
        for method in METHODS {
            let row = source
                .lines()
                .find(|l| l.starts_with("//! |") && l.contains(&format!("`{}`", method.id)))
                .unwrap_or_else(|| panic!("{} is not documented", method.id));
            assert!(
                row.contains(&format!("| {} |", method.actions.join(", "))),
                "{row}"
            );
        }
        let methods = source
            .lines()
            .filter(|l| l.starts_with("//! | ") && l.contains("| `"))
            .count();
        assert_eq!(methods, METHODS.len(), "one documented row per method");
        for action in DATA_EXFILTRATION.iter().chain(CREDENTIALS_EXPOSURE) {
            assert!(
                source.contains(&format!("/// | {action} |")),
                "{action} is not documented"
            );
        }
    }

    #[test]
    fn findings_are_the_same_on_every_run() {
        let details = AuthorizationDetails {
            user_detail_list: vec![
                iam_user("b", &["g"], &[&policy("P")]),
                iam_user("a", &["g"], &[&policy("P")]),
            ],
            group_detail_list: vec![group("g", &[&policy("P")], vec![])],
            policies: vec![managed(&policy("P"), iam_full_access())],
            ..AuthorizationDetails::default()
        };
        let first = authz(&details).details(ESCALATION);
        for _ in 0..3 {
            assert_eq!(authz(&details).details(ESCALATION), first);
        }
        assert!(
            first[0].1.ends_with(
                "; held by group g, user a, user b; reaches user a (through group g), user b \
                 (through group g)"
            ),
            "{}",
            first[0].1
        );
    }
}
