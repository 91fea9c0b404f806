//! The files of the `iam-password-policy` collector (see `crate::collectors::iam_password_policy`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
