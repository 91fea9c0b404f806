//! The observation period: comparing bundles over time. `diff` compares two bundles of one
//! account or organization; each bundle is reduced to a [`snapshot::Snapshot`] first.

pub mod diff;
pub mod html;
pub mod snapshot;
pub mod timeline;
