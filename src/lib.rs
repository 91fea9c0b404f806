//! soc2-evidence: collects the AWS evidence a SOC 2 auditor asks for into a verified bundle.
//!
//! The crate reads as a pipeline, one module per stage:
//! arguments ([`cli`]) -> configuration ([`config`]) -> AWS clients ([`aws`]) -> collectors
//! ([`collectors`], declared in the [`registry`]) -> findings ([`findings`]: rules, access review,
//! `index.html`, a pure function of the evidence) -> bundle ([`bundle`]: files, manifest, zip,
//! verify) -> terminal output ([`output`]). [`run`] ties the stages together and is the library
//! entry point that tests call without spawning a process; [`interrupt`] lets SIGINT and SIGTERM
//! stop it cleanly.

pub mod aws;
pub mod bundle;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod config_file;
pub mod contract;
pub mod controls;
pub mod error;
pub mod evidence;
pub mod findings;
pub mod interrupt;
pub mod judge;
pub mod org;
pub mod output;
pub mod period;
pub mod policy;
pub mod registry;
pub mod report;
pub mod retry;
pub mod run;
pub mod sign;
pub mod timeout_budget;

pub mod vocab;
