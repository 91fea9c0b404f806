//! The files of the `iam-authorization-details` collector (see `crate::collectors::iam_authorization_details`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
