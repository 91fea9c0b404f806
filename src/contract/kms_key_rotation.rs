//! The files of the `kms-key-rotation` collector (see `crate::collectors::kms_key_rotation`).

#[allow(unused_imports)]
use super::{cell, Document, Table};
