//! The files of the `access-analyzer` collector (see `crate::collectors::access_analyzer`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
