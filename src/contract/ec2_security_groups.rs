//! The files of the `ec2-security-groups` collector (see `crate::collectors::ec2_security_groups`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
