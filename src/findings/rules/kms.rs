//! KMS: customer managed keys without automatic rotation. Read from the `kms-key-rotation`
//! collector's `keys.csv`.
//!
//! Keys out of scope (AWS managed, asymmetric, imported, disabled, pending deletion: `in_scope`
//! false) never fire; an unknown scope or rotation status (a call failed) is not a finding.

use super::arn;
use crate::contract::kms_key_rotation::KeyRow;
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::kms::{rotation_scope, RotationScope};
use crate::vocab::Severity;

const KMS: &str = crate::contract::kms_key_rotation::ID;

const CONTROLS: &[Control] = &[Control::Cc6_1, Control::Cc6_7];

pub(super) static RULES: &[RuleSpec] = &[RuleSpec {
    id: "kms-rotation",
    title: "Customer managed KMS key without automatic rotation",
    severity: Severity::Medium,
    controls: CONTROLS,
    references: &["CIS 3.6", "KMS.4"],
    remediation: "Enable automatic rotation of the key: `aws kms enable-key-rotation \
                  --key-id KEY`.",
    needs: Needs::All(&[KMS]),
    evaluate: kms_rotation,
}];

/// Whether rotation applies to the key, judged again from the attributes DescribeKey reported
/// (an empty cell: not reported).
fn in_scope(key: &KeyRow) -> bool {
    let reported = |cell: &str| (!cell.is_empty()).then_some(cell.to_string());
    let (manager, spec) = (reported(&key.key_manager), reported(&key.key_spec));
    let (origin, state) = (reported(&key.origin), reported(&key.key_state));
    rotation_scope(
        manager.as_deref(),
        spec.as_deref(),
        origin.as_deref(),
        state.as_deref(),
    ) == RotationScope::InScope
}

fn kms_rotation(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for key in &input.table::<KeyRow>()? {
        let region = key.region.as_str();
        if !input.region_collected(KMS, region) || !in_scope(key) {
            continue;
        }
        let Some(enabled) = key.rotation_enabled else {
            // In scope by the current logic, but the collector did not (or could not) ask.
            out.partial(format!(
                "key {} in {region}: no rotation status was collected",
                key.key_id
            ));
            continue;
        };
        if enabled {
            continue;
        }
        let named = if key.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", key.aliases.iter().collect::<Vec<_>>().join(", "))
        };
        let resource = match key.arn.as_str() {
            "" => arn(input, "kms", region, &format!("key/{}", key.key_id)),
            arn => arn.to_string(),
        };
        out.add(
            resource,
            region,
            format!(
                "Customer managed key {}{named} has automatic key rotation disabled.",
                key.key_id
            ),
            KeyRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{Bundle, EAST, WEST};
    use crate::findings::RuleStatus;

    /// A key row: region, id, aliases, manager, spec, origin, state, in scope (and why not),
    /// rotation enabled.
    #[allow(clippy::too_many_arguments)]
    fn key(
        region: &str,
        id: &str,
        aliases: &[&str],
        manager: &str,
        spec: &str,
        origin: &str,
        state: &str,
        in_scope: Result<(), &str>,
        rotation: Option<bool>,
    ) -> KeyRow {
        KeyRow {
            region: region.into(),
            key_id: id.into(),
            arn: format!("arn:aws:kms:{region}:123456789012:key/{id}"),
            aliases: aliases.iter().copied().collect(),
            key_manager: manager.into(),
            key_spec: spec.into(),
            origin: origin.into(),
            key_state: state.into(),
            in_scope: Some(in_scope.is_ok()),
            out_of_scope_reason: in_scope.err().unwrap_or_default().into(),
            rotation_enabled: rotation,
            rotation_period_days: (rotation == Some(true)).then_some(365),
            ..KeyRow::default()
        }
    }

    fn keys(off_rotation: Option<bool>) -> Vec<KeyRow> {
        let sym = "SYMMETRIC_DEFAULT";
        vec![
            key(
                EAST,
                "k-off",
                &["alias/legacy"],
                "CUSTOMER",
                sym,
                "AWS_KMS",
                "Enabled",
                Ok(()),
                off_rotation,
            ),
            key(
                EAST,
                "k-on",
                &["alias/app"],
                "CUSTOMER",
                sym,
                "AWS_KMS",
                "Enabled",
                Ok(()),
                Some(true),
            ),
            key(
                EAST,
                "k-unknown",
                &[],
                "CUSTOMER",
                sym,
                "AWS_KMS",
                "Enabled",
                Ok(()),
                None,
            ),
            key(
                WEST,
                "k-rsa",
                &[],
                "CUSTOMER",
                "RSA_2048",
                "AWS_KMS",
                "Enabled",
                Err("asymmetric key spec RSA_2048"),
                None,
            ),
            key(
                WEST,
                "k-aws",
                &["alias/aws/s3"],
                "AWS",
                sym,
                "AWS_KMS",
                "Enabled",
                Err("AWS managed key"),
                Some(false),
            ),
            key(
                WEST,
                "k-ext",
                &[],
                "CUSTOMER",
                sym,
                "EXTERNAL",
                "Enabled",
                Err("imported key material"),
                None,
            ),
            key(
                WEST,
                "k-off2",
                &[],
                "CUSTOMER",
                sym,
                "AWS_KMS",
                "Disabled",
                Err("key state Disabled"),
                None,
            ),
        ]
    }

    #[test]
    fn kms_rotation_only_for_in_scope_keys_with_rotation_off() {
        let bundle = Bundle::new().table(&keys(Some(false))).collected(KMS);
        let (_, _, found) = bundle.outcome("kms-rotation");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:kms:us-east-1:123456789012:key/k-off"
        );
        assert!(found[0].detail.contains("alias/legacy"));
        assert_eq!(found[0].evidence, KeyRow::PATH);

        let bundle = Bundle::new().table(&keys(Some(true))).collected(KMS);
        assert!(bundle.hits("kms-rotation").is_empty());

        // Without its ARN, the key's ARN is made from its region and id.
        let mut unnamed = keys(Some(false));
        unnamed[0].arn.clear();
        let bundle = Bundle::new().table(&unnamed).collected(KMS);
        assert_eq!(
            bundle.hits("kms-rotation")[0].0,
            "arn:aws:kms:us-east-1:123456789012:key/k-off"
        );
    }

    #[test]
    fn the_scope_is_judged_again_from_the_key_attributes() {
        // The column says out of scope; the attributes put the key in scope, rotation off.
        let mut stale = keys(Some(false));
        stale[0].in_scope = Some(false);
        let bundle = Bundle::new().table(&stale[..1]).collected(KMS);
        assert_eq!(bundle.hits("kms-rotation").len(), 1);
        // In scope without a rotation status: never a pass, the rule says what it lacks.
        let bundle = Bundle::new().table(&keys(Some(false))[2..3]).collected(KMS);
        let (status, reason, found) = bundle.outcome("kms-rotation");
        assert_eq!(status, RuleStatus::Partial);
        assert!(
            reason.contains("key k-unknown in us-east-1: no rotation status"),
            "{reason}"
        );
        assert!(found.is_empty());
    }

    #[test]
    fn not_run_is_not_evaluated() {
        let (status, reason, _) = Bundle::new().outcome("kms-rotation");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("kms-key-rotation was not run"), "{reason}");
    }

    #[test]
    fn a_file_of_another_shape_is_not_evaluated_rather_than_passed() {
        let bundle = Bundle::new()
            .file(KeyRow::PATH, "region,key_id\nus-east-1,k\n")
            .collected(KMS);
        let (status, reason, _) = bundle.outcome("kms-rotation");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(
            reason.contains("arn")
                && reason.contains("in_scope")
                && reason.contains("rotation_enabled")
                && reason.contains("missing in evidence/kms-key-rotation/keys.csv"),
            "{reason}"
        );
        assert!(reason.starts_with("columns "), "{reason}");
    }
}
