//! The rules over regional and account-wide services of SPEC section 5: IAM Access Analyzer,
//! CloudTrail, GuardDuty, security groups, S3 public access and KMS key rotation.

use super::RuleSpec;

pub(super) static RULES: &[RuleSpec] = &[];
