//! The collector registry: every collector declares its id, title, TSC controls, scope and the
//! IAM actions it needs. `list`, `policy`, the manifest's control matrix and the run itself are
//! all derived from this one table, so they cannot drift apart.

use crate::collectors;
pub use crate::collectors::CollectorSpec;

/// Every collector, in the order `list` prints them and the manifest records them.
pub static REGISTRY: &[CollectorSpec] = &[
    collectors::iam_credential_report::SPEC,
    collectors::iam_account_summary::SPEC,
    collectors::iam_password_policy::SPEC,
    collectors::iam_authorization_details::SPEC,
    collectors::access_analyzer::SPEC,
    collectors::cloudtrail::SPEC,
    collectors::guardduty::SPEC,
    collectors::ec2_security_groups::SPEC,
    collectors::s3_public_access::SPEC,
    collectors::kms_key_rotation::SPEC,
    collectors::identity_center::SPEC,
    collectors::aws_config::SPEC,
    collectors::cis_monitoring::SPEC,
    collectors::ec2_instances::SPEC,
    collectors::vpc_network::SPEC,
];

pub fn find(id: &str) -> Option<&'static CollectorSpec> {
    REGISTRY.iter().find(|spec| spec.id == id)
}

pub fn ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|spec| spec.id).collect()
}

/// The collectors chosen by `--collector` (none: all) less those in `--skip`, in registry
/// order. Unknown ids are rejected earlier, by the argument parser.
pub fn select(only: &[String], skip: &[String]) -> Vec<&'static CollectorSpec> {
    REGISTRY
        .iter()
        .filter(|spec| only.is_empty() || only.iter().any(|id| id == spec.id))
        .filter(|spec| !skip.iter().any(|id| id == spec.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn is_kebab(id: &str) -> bool {
        !id.is_empty()
            && !id.starts_with('-')
            && !id.ends_with('-')
            && !id.contains("--")
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    #[test]
    fn every_collector_keeps_the_registry_invariants() {
        let mut ids = BTreeSet::new();
        let module_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/collectors");
        for spec in REGISTRY {
            assert!(ids.insert(spec.id), "duplicate collector id {}", spec.id);
            assert!(is_kebab(spec.id), "{} is not kebab-case", spec.id);
            // `<id>.rs`, or `<id>/mod.rs` for a collector split by concern.
            let module = format!("{module_dir}/{}", spec.id.replace('-', "_"));
            assert!(
                std::path::Path::new(&format!("{module}.rs")).is_file()
                    || std::path::Path::new(&format!("{module}/mod.rs")).is_file(),
                "{} has no module {module}.rs or {module}/mod.rs",
                spec.id
            );
            assert!(!spec.title.is_empty(), "{} has no title", spec.id);
            assert!(!spec.controls.is_empty(), "{} has no control", spec.id);
            assert!(
                !spec.permissions.is_empty(),
                "{} needs no permission?",
                spec.id
            );
            for permission in spec.permissions {
                let (service, action) = permission
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}: bad permission {permission}", spec.id));
                assert!(
                    service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        && action.starts_with(|c: char| c.is_ascii_uppercase())
                        && action.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{}: bad permission {permission}",
                    spec.id
                );
            }
        }
    }

    /// The rules sit below the registry, so their ties to collectors are checked here.
    #[test]
    fn every_rule_reads_known_collectors_with_their_controls() {
        use crate::findings::{rules, Needs};
        const REGIONAL: &[&str] = &[
            "access-analyzer",
            "cloudtrail",
            "guardduty",
            "ec2-security-groups",
            "s3-public-access",
            "kms-key-rotation",
            "aws-config",
            "cis-monitoring",
        ];
        for rule in rules() {
            let needs = match rule.needs {
                Needs::All(ids) | Needs::Any(ids) => ids,
            };
            for id in needs {
                assert!(
                    find(id).is_some(),
                    "{} needs unknown collector {id}",
                    rule.id
                );
            }
            // A rule over one regional collector has that collector's controls.
            if let Needs::All([collector]) = rule.needs {
                if REGIONAL.contains(collector) {
                    let spec = find(collector).unwrap();
                    assert_eq!(rule.controls, spec.controls, "{}", rule.id);
                }
            }
        }
    }

    /// Every collector has its evidence contract, and every file of the contract belongs to a
    /// collector of the registry.
    #[test]
    fn collectors_and_contract_files_match() {
        let files = crate::contract::files();
        for spec in REGISTRY {
            assert!(
                files.iter().any(|f| f.collector == spec.id),
                "{} declares no file in src/contract/{}.rs",
                spec.id,
                spec.id.replace('-', "_")
            );
        }
        for file in files {
            assert!(
                find(file.collector).is_some(),
                "{} belongs to no collector",
                file.path
            );
        }
    }

    #[test]
    fn selection_keeps_registry_order_and_honours_skip() {
        let chosen = select(
            &["iam-password-policy".into(), "iam-credential-report".into()],
            &["iam-password-policy".into()],
        );
        let ids: Vec<_> = chosen.iter().map(|s| s.id).collect();
        assert_eq!(ids, ["iam-credential-report"]);
        assert_eq!(select(&[], &[]).len(), REGISTRY.len());
    }
}
