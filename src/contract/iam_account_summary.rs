//! The files of the `iam-account-summary` collector (see `crate::collectors::iam_account_summary`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
