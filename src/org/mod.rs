//! Many accounts, one org bundle: `collect --org` (and `collect --account ... --role-name`),
//! and `merge`, which joins the shards of `collect --org --shard K/N`.

pub mod build;
pub mod credentials;
pub mod listing;
pub mod merge;
pub mod report;
pub mod run;

pub use run::{collect_org_until, collect_org_with_until, OrgOutcome};
