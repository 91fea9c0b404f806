//! Pure judgement over raw evidence, shared by the collectors (for their convenience columns)
//! and the rules (which judge from the raw documents and rules, so `report` applies the current
//! logic to an old bundle).
//!
//! No I/O and no AWS types: plain functions over JSON documents and plain values. Depends on the
//! shared vocabulary and the evidence contract only.

pub mod cloudtrail;
pub mod cloudtrail_digest;
pub mod detection;
pub mod iam_policy;
pub mod iam_tables;
pub mod identity_center;
pub mod kms;
pub mod metric_filter;
pub mod monitoring;
pub mod nacl;
pub mod network;
pub mod policy_eval;
pub mod resource_policy;
pub mod s3_access;
pub mod scp;
