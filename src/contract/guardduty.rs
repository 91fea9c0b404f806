//! The files of the `guardduty` collector (see `crate::collectors::guardduty`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
