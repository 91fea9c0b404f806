//! IAM Identity Center: permission sets assigned to users directly. Read from the
//! `identity-center` collector's `assignments.csv`.
//!
//! `sso-direct-user-assignment` applies the principle of CIS 1.15 (grant permissions through
//! groups, not to individual users) to Identity Center: access given to a group is reviewed
//! once, with the group, and leaves with the person when they leave the group; access given to
//! a user one by one is easily forgotten. One finding per assignment (account, permission set,
//! user); the resource is the permission set's ARN, the detail names the account and the user.
//! Severity low, as `user-direct-policy` (CIS 1.15, IAM.2), the same principle for IAM users.

use crate::contract::identity_center::{AssignmentRow, USER};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::vocab::Severity;

const IDENTITY_CENTER: &str = crate::contract::identity_center::ID;

pub(super) static RULES: &[RuleSpec] = &[RuleSpec {
    id: "sso-direct-user-assignment",
    title: "Identity Center permission set assigned directly to a user",
    severity: Severity::Low,
    controls: &[Control::Cc6_1, Control::Cc6_3],
    references: &["CIS 1.15"],
    remediation: "Assign the permission set to a group for the job function, add the user to \
                  that group, then remove the user's own assignment (IAM Identity Center -> AWS \
                  accounts -> the account -> Users and groups).",
    needs: Needs::All(&[IDENTITY_CENTER]),
    evaluate: sso_direct_user_assignment,
}];

fn sso_direct_user_assignment(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for assignment in input.table::<AssignmentRow>()? {
        if assignment.principal_type != USER
            || !input.region_collected(IDENTITY_CENTER, &assignment.region)
        {
            continue;
        }
        let user = match assignment.principal_name.as_str() {
            "" => format!("user {}", assignment.principal_id),
            name => format!("user {name} ({})", assignment.principal_id),
        };
        let set = match assignment.permission_set_name.as_str() {
            "" => assignment.permission_set_arn.clone(),
            name => name.to_string(),
        };
        out.add(
            &assignment.permission_set_arn,
            &assignment.region,
            format!(
                "Permission set {set} is assigned directly to {user} in account {}, not \
                 through a group.",
                assignment.account_id
            ),
            AssignmentRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::identity_center::GROUP;
    use crate::findings::testkit::{Bundle, EAST, WEST};
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1111111111111111";
    const ADMIN_SET: &str =
        "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa";

    fn assignment(region: &str, account: &str, kind: &str, id: &str, name: &str) -> AssignmentRow {
        AssignmentRow {
            region: region.into(),
            instance_arn: INSTANCE.into(),
            account_id: account.into(),
            permission_set_arn: ADMIN_SET.into(),
            permission_set_name: "Admin".into(),
            principal_type: kind.into(),
            principal_id: id.into(),
            principal_name: name.into(),
        }
    }

    #[test]
    fn fires_once_per_direct_user_assignment_and_never_for_groups() {
        let rows = [
            assignment(EAST, "111111111111", USER, "u-1", "alice"),
            assignment(EAST, "222222222222", USER, "u-1", "alice"),
            assignment(EAST, "111111111111", GROUP, "g-1", "admins"),
            assignment(EAST, "111111111111", USER, "u-2", ""),
        ];
        let bundle = Bundle::new().table(&rows).collected(IDENTITY_CENTER);
        let (status, _, found) = bundle.outcome("sso-direct-user-assignment");
        assert_eq!(status, RuleStatus::Evaluated);
        let details: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|f| (f.resource.as_str(), f.region.as_str(), f.detail.as_str()))
            .collect();
        assert_eq!(
            details,
            [
                (
                    ADMIN_SET,
                    EAST,
                    "Permission set Admin is assigned directly to user alice (u-1) in account \
                     111111111111, not through a group."
                ),
                (
                    ADMIN_SET,
                    EAST,
                    "Permission set Admin is assigned directly to user alice (u-1) in account \
                     222222222222, not through a group."
                ),
                (
                    ADMIN_SET,
                    EAST,
                    "Permission set Admin is assigned directly to user u-2 in account \
                     111111111111, not through a group."
                ),
            ]
        );
        assert!(found.iter().all(|f| f.evidence == AssignmentRow::PATH
            && f.severity == Severity::Low
            && f.controls == ["CC6.1", "CC6.3"]));

        let groups_only = Bundle::new().table(&rows[2..3]).collected(IDENTITY_CENTER);
        let (status, _, found) = groups_only.outcome("sso-direct-user-assignment");
        assert_eq!(status, RuleStatus::Evaluated);
        assert!(found.is_empty());
    }

    #[test]
    fn a_failed_region_gives_neither_a_finding_nor_a_pass() {
        let rows = [assignment(WEST, "111111111111", USER, "u-1", "alice")];
        let bundle =
            Bundle::new()
                .table(&rows)
                .state(IDENTITY_CENTER, CollectorStatus::Partial, &[WEST]);
        let (status, reason, found) = bundle.outcome("sso-direct-user-assignment");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("identity-center is partial"), "{reason}");
        assert!(found.is_empty());
    }

    #[test]
    fn not_run_or_skipped_is_not_evaluated() {
        let (status, reason, _) = Bundle::new().outcome("sso-direct-user-assignment");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("identity-center was not run"), "{reason}");
        let skipped = Bundle::new().state_with(
            IDENTITY_CENTER,
            CollectorStatus::Skipped,
            Vec::new(),
            Vec::new(),
        );
        let (status, reason, _) = skipped.outcome("sso-direct-user-assignment");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("identity-center was skipped"), "{reason}");
    }

    #[test]
    fn a_file_of_another_shape_is_not_evaluated_rather_than_passed() {
        let bundle = Bundle::new()
            .file(AssignmentRow::PATH, "region,account_id\nus-east-1,1\n")
            .collected(IDENTITY_CENTER);
        let (status, reason, _) = bundle.outcome("sso-direct-user-assignment");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(
            reason.contains("principal_type")
                && reason.contains("missing in evidence/identity-center/assignments.csv"),
            "{reason}"
        );
    }
}
