//! What AWS Organizations says of the organization: the organization and its root, every
//! account (every status), the OU tree and each account's place in it, every policy of every
//! enabled policy type with its document and targets, and the delegated administrators.
//!
//! Calls: DescribeOrganization, ListRoots, ListAccounts, ListOrganizationalUnitsForParent and
//! ListAccountsForParent (once per root and OU, level by level: the OU paths cost one call per
//! OU, not one per account), ListPolicies (per enabled type), DescribePolicy and
//! ListTargetsForPolicy (per policy), ListDelegatedAdministrators and
//! ListDelegatedServicesForAccount (per delegated account). The population calls (the first
//! five) must succeed: without them nobody can say which accounts are in scope, so their failure
//! ends the run. A failed policy or delegated-administrator call is recorded and the run goes on.

use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::aws::CountedClients;
use crate::contract::cell::List;
use crate::contract::organization::{
    AccountRow, DelegatedAdminRow, OrganizationFile, OuRow, PolicyRecord, PolicyTypeRecord,
    RootRecord, TargetRecord,
};
use crate::error::Error;
use crate::vocab::{CallError, GLOBAL};

/// Everything listed about the organization.
#[derive(Debug, Clone, Default)]
pub struct OrgFacts {
    pub organization: OrganizationFile,
    /// Every account, sorted by id, with its OU path (collection status still empty).
    pub accounts: Vec<AccountRow>,
    pub ous: Vec<OuRow>,
    pub policies: Vec<PolicyRecord>,
    pub delegated: Vec<DelegatedAdminRow>,
    /// Failed calls that did not end the run.
    pub errors: Vec<CallError>,
}

fn fatal<E>(
    operation: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    let err = CallError::from_sdk(GLOBAL, operation, err);
    Error::Organization {
        operation: operation.to_string(),
        code: err.code,
        message: err.message,
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Lists the organization, as the module docs say.
pub async fn list(clients: &CountedClients, collected_from: &str) -> Result<OrgFacts, Error> {
    let org = clients.organizations();
    let described = org
        .describe_organization()
        .send()
        .await
        .map_err(|e| fatal("DescribeOrganization", &e))?;
    let described = described.organization();
    let roots: Vec<_> = org
        .list_roots()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| fatal("ListRoots", &e))?
        .into_iter()
        .flat_map(|page| page.roots.unwrap_or_default())
        .collect();
    let listed: Vec<_> = org
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| fatal("ListAccounts", &e))?
        .into_iter()
        .flat_map(|page| page.accounts.unwrap_or_default())
        .collect();

    let mut facts = OrgFacts {
        organization: OrganizationFile {
            id: described
                .and_then(|o| o.id())
                .unwrap_or_default()
                .to_string(),
            arn: described
                .and_then(|o| o.arn())
                .unwrap_or_default()
                .to_string(),
            feature_set: described
                .and_then(|o| o.feature_set())
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
            management_account_id: described
                .and_then(|o| o.master_account_id())
                .unwrap_or_default()
                .to_string(),
            management_account_email: described
                .and_then(|o| o.master_account_email())
                .unwrap_or_default()
                .to_string(),
            roots: roots
                .iter()
                .map(|root| RootRecord {
                    id: root.id().unwrap_or_default().to_string(),
                    arn: root.arn().unwrap_or_default().to_string(),
                    name: root.name().unwrap_or_default().to_string(),
                    policy_types: root
                        .policy_types()
                        .iter()
                        .map(|t| PolicyTypeRecord {
                            kind: t
                                .r#type()
                                .map(|k| k.as_str().to_string())
                                .unwrap_or_default(),
                            status: t
                                .status()
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect(),
            collected_from: collected_from.to_string(),
            accounts_only: false,
        },
        ..OrgFacts::default()
    };

    // The OU tree, level by level: each parent's OUs and accounts.
    let mut parent_of_account: BTreeMap<String, String> = BTreeMap::new();
    let mut nodes: BTreeMap<String, OuRow> = BTreeMap::new();
    let mut level: Vec<String> = Vec::new();
    for root in &facts.organization.roots {
        nodes.insert(
            root.id.clone(),
            OuRow {
                id: root.id.clone(),
                name: root.name.clone(),
                parent_id: String::new(),
                path: root.name.clone(),
                arn: root.arn.clone(),
            },
        );
        level.push(root.id.clone());
    }
    while !level.is_empty() {
        let answers = join_all(level.iter().map(|parent| {
            let org = org.clone();
            async move {
                let ous: Result<Vec<_>, _> = org
                    .list_organizational_units_for_parent()
                    .parent_id(parent)
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await;
                let accounts: Result<Vec<_>, _> = org
                    .list_accounts_for_parent()
                    .parent_id(parent)
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await;
                (parent.clone(), ous, accounts)
            }
        }))
        .await;
        let mut next = Vec::new();
        for (parent, ous, accounts) in answers {
            let ous = ous
                .map_err(|e| fatal("ListOrganizationalUnitsForParent", &e))?
                .into_iter()
                .flat_map(|page| page.organizational_units.unwrap_or_default());
            let accounts = accounts
                .map_err(|e| fatal("ListAccountsForParent", &e))?
                .into_iter()
                .flat_map(|page| page.accounts.unwrap_or_default());
            let parent_path = nodes[&parent].path.clone();
            for ou in ous {
                let id = ou.id().unwrap_or_default().to_string();
                let name = ou.name().unwrap_or_default().to_string();
                if id.is_empty() || nodes.contains_key(&id) {
                    continue;
                }
                nodes.insert(
                    id.clone(),
                    OuRow {
                        id: id.clone(),
                        path: format!("{parent_path}/{name}"),
                        name,
                        parent_id: parent.clone(),
                        arn: ou.arn().unwrap_or_default().to_string(),
                    },
                );
                next.push(id);
            }
            for account in accounts {
                if let Some(id) = account.id() {
                    parent_of_account.insert(id.to_string(), parent.clone());
                }
            }
        }
        next.sort();
        level = next;
    }
    let chain = |mut at: String| -> Vec<String> {
        let mut ids = Vec::new();
        while let Some(node) = nodes.get(&at) {
            ids.push(node.id.clone());
            if node.parent_id.is_empty() || ids.len() > 16 {
                break;
            }
            at = node.parent_id.clone();
        }
        ids.reverse();
        ids
    };

    facts.accounts = listed
        .iter()
        .map(|a| {
            let id = a.id().unwrap_or_default().to_string();
            let (ou_path, ou_ids) = match parent_of_account.get(&id) {
                Some(parent) => (nodes[parent].path.clone(), List(chain(parent.clone()))),
                None => (String::new(), List::default()),
            };
            // `State` supersedes the deprecated `Status` (it also knows CLOSED).
            let status = a
                .state()
                .map(|s| s.as_str().to_string())
                .or_else(|| a.status().map(|s| s.as_str().to_string()))
                .unwrap_or_default();
            AccountRow {
                account_id: id,
                name: a.name().unwrap_or_default().to_string(),
                email: a.email().unwrap_or_default().to_string(),
                status,
                ou_path,
                ou_ids,
                joined: time(a.joined_timestamp()),
                collection_status: String::new(),
                error: String::new(),
            }
        })
        .collect();
    facts
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    facts.ous = nodes.into_values().collect();
    facts
        .ous
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));

    facts.policies = list_policies(clients, &mut facts).await;
    facts.delegated = list_delegated(clients, &mut facts).await;
    Ok(facts)
}

/// Every policy of every policy type enabled on a root, with its document and targets.
async fn list_policies(clients: &CountedClients, facts: &mut OrgFacts) -> Vec<PolicyRecord> {
    use aws_sdk_organizations::types::PolicyType;
    let org = clients.organizations();
    let mut enabled: Vec<String> = facts
        .organization
        .roots
        .iter()
        .flat_map(|r| &r.policy_types)
        .filter(|t| t.status == "ENABLED")
        .map(|t| t.kind.clone())
        .collect();
    enabled.sort();
    enabled.dedup();
    let names: BTreeMap<String, String> = facts
        .accounts
        .iter()
        .map(|a| (a.account_id.clone(), a.name.clone()))
        .chain(facts.ous.iter().map(|o| (o.id.clone(), o.name.clone())))
        .collect();
    let mut records = Vec::new();
    for kind in enabled {
        let summaries: Vec<_> = match org
            .list_policies()
            .filter(PolicyType::from(kind.as_str()))
            .into_paginator()
            .send()
            .try_collect()
            .await
        {
            Ok(pages) => pages
                .into_iter()
                .flat_map(|page| page.policies.unwrap_or_default())
                .collect(),
            Err(e) => {
                facts
                    .errors
                    .push(CallError::from_sdk(GLOBAL, "ListPolicies", &e));
                continue;
            }
        };
        let answers = join_all(summaries.iter().map(|summary| {
            let org = org.clone();
            let id = summary.id().unwrap_or_default().to_string();
            async move {
                let described = org.describe_policy().policy_id(&id).send().await;
                let targets: Result<Vec<_>, _> = org
                    .list_targets_for_policy()
                    .policy_id(&id)
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await;
                (described, targets)
            }
        }))
        .await;
        for (summary, (described, targets)) in summaries.iter().zip(answers) {
            let content = match described {
                Ok(out) => out
                    .policy()
                    .and_then(|p| p.content())
                    .map(|c| {
                        serde_json::from_str(c)
                            .unwrap_or_else(|_| serde_json::Value::String(c.to_string()))
                    })
                    .unwrap_or(serde_json::Value::Null),
                Err(e) => {
                    facts
                        .errors
                        .push(CallError::from_sdk(GLOBAL, "DescribePolicy", &e));
                    serde_json::Value::Null
                }
            };
            let targets = match targets {
                Ok(pages) => pages
                    .into_iter()
                    .flat_map(|page| page.targets.unwrap_or_default())
                    .map(|t| {
                        let id = t.target_id().unwrap_or_default().to_string();
                        TargetRecord {
                            name: t
                                .name()
                                .map(str::to_string)
                                .or_else(|| names.get(&id).cloned())
                                .unwrap_or_default(),
                            kind: t
                                .r#type()
                                .map(|k| k.as_str().to_string())
                                .unwrap_or_default(),
                            id,
                        }
                    })
                    .collect(),
                Err(e) => {
                    facts
                        .errors
                        .push(CallError::from_sdk(GLOBAL, "ListTargetsForPolicy", &e));
                    Vec::new()
                }
            };
            let mut targets: Vec<TargetRecord> = targets;
            targets.sort_by(|a, b| a.id.cmp(&b.id));
            records.push(PolicyRecord {
                id: summary.id().unwrap_or_default().to_string(),
                arn: summary.arn().unwrap_or_default().to_string(),
                name: summary.name().unwrap_or_default().to_string(),
                kind: kind.clone(),
                aws_managed: summary.aws_managed(),
                description: summary.description().unwrap_or_default().to_string(),
                document: content,
                targets,
            });
        }
    }
    records.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.id.cmp(&b.id)));
    records
}

/// The delegated administrators and the services each administers.
async fn list_delegated(clients: &CountedClients, facts: &mut OrgFacts) -> Vec<DelegatedAdminRow> {
    let org = clients.organizations();
    let admins: Vec<_> = match org
        .list_delegated_administrators()
        .into_paginator()
        .send()
        .try_collect()
        .await
    {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|page| page.delegated_administrators.unwrap_or_default())
            .collect(),
        Err(e) => {
            facts.errors.push(CallError::from_sdk(
                GLOBAL,
                "ListDelegatedAdministrators",
                &e,
            ));
            return Vec::new();
        }
    };
    let answers = join_all(admins.iter().map(|admin| {
        let org = org.clone();
        let id = admin.id().unwrap_or_default().to_string();
        async move {
            org.list_delegated_services_for_account()
                .account_id(id)
                .into_paginator()
                .send()
                .try_collect()
                .await
        }
    }))
    .await;
    let mut rows = Vec::new();
    for (admin, services) in admins.iter().zip(answers) {
        match services {
            Ok(pages) => {
                for service in pages
                    .into_iter()
                    .flat_map(|page| page.delegated_services.unwrap_or_default())
                {
                    rows.push(DelegatedAdminRow {
                        account_id: admin.id().unwrap_or_default().to_string(),
                        name: admin.name().unwrap_or_default().to_string(),
                        service_principal: service
                            .service_principal()
                            .unwrap_or_default()
                            .to_string(),
                        delegated: time(service.delegation_enabled_date()),
                    });
                }
            }
            Err(e) => facts.errors.push(CallError::from_sdk(
                GLOBAL,
                "ListDelegatedServicesForAccount",
                &e,
            )),
        }
    }
    rows.sort_by(|a, b| {
        a.account_id
            .cmp(&b.account_id)
            .then(a.service_principal.cmp(&b.service_principal))
    });
    rows
}
