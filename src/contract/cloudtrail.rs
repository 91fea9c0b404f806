//! The files of the `cloudtrail` collector (see `crate::collectors::cloudtrail`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
