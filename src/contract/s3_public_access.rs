//! The files of the `s3-public-access` collector (see `crate::collectors::s3_public_access`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
