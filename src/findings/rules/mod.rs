//! The rules of SPEC section 5, one family per file: each file holds its rule specs, their
//! functions and their tests together. Adding a rule is a change to one family file (or a new
//! file and a line below), like adding a collector.

use super::RuleSpec;

/// Every family, in SPEC order (the order of `rules.csv` and of findings of equal severity).
pub(super) static FAMILIES: &[&[RuleSpec]] = &[
    // IAM: root, password-policy, credentials, policies, roles.
    super::iam::RULES,
    // Regional services: access-analyzer, cloudtrail, guardduty, security-groups, s3, kms.
    super::regional::RULES,
];

// ---- Shared by the IAM families ----

// ---- Shared by the regional families ----
