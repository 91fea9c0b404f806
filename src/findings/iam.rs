//! The IAM rules of SPEC section 5: root account, password policy, users' credentials, policies
//! and roles. They read the credential report, the account summary, the password policy and the
//! authorization details tables.

use super::RuleSpec;

pub(super) static RULES: &[RuleSpec] = &[];
