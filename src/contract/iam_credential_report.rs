//! The files of the `iam-credential-report` collector (see `crate::collectors::iam_credential_report`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
