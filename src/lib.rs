//! soc2-evidence: collects the AWS evidence a SOC 2 auditor asks for into a verified bundle.
//!
//! The crate reads as a pipeline, one module per stage:
//! arguments ([`cli`]) -> configuration ([`config`]) -> AWS clients ([`aws`]) -> collectors
//! ([`collectors`], declared in the [`registry`]) -> bundle ([`bundle`]: files, manifest, zip,
//! verify) -> terminal output ([`output`]). [`run`] ties the stages together and is the library
//! entry point that tests call without spawning a process.

pub mod aws;
pub mod bundle;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod controls;
pub mod error;
pub mod evidence;
pub mod output;
pub mod policy;
pub mod registry;
pub mod retry;
pub mod run;
