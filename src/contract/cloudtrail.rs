//! The files of the `cloudtrail` collector (see `crate::collectors::cloudtrail`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "cloudtrail",
    tables: {
        TrailRow => "trails.csv",
        RegionRow => "regions.csv",
        TrailBucketRow => "trail-buckets.csv",
        ValidationRow => "trail-validation.csv",
    },
    documents: {
        Vec<TrailRecord> => "trails.json",
    },
}

/// Which form of selectors a trail uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectorKind {
    Basic,
    Advanced,
    /// GetEventSelectors returned no selector of either form: the trail records no event.
    #[default]
    None,
}

impl SelectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectorKind::Basic => "basic",
            SelectorKind::Advanced => "advanced",
            SelectorKind::None => "none",
        }
    }
}

/// Which management events a trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManagementEvents {
    #[default]
    None,
    Read,
    Write,
    All,
}

impl ManagementEvents {
    pub fn from_flags(read: bool, write: bool) -> Self {
        match (read, write) {
            (true, true) => ManagementEvents::All,
            (true, false) => ManagementEvents::Read,
            (false, true) => ManagementEvents::Write,
            (false, false) => ManagementEvents::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ManagementEvents::None => "none",
            ManagementEvents::Read => "read",
            ManagementEvents::Write => "write",
            ManagementEvents::All => "all",
        }
    }
}

/// One row of `trails.csv`: a unique trail (deduplicated by ARN, in its home region), its
/// configuration, status and derived event coverage.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailRow {
    pub home_region: String,
    pub name: String,
    pub trail_arn: String,
    pub is_multi_region_trail: Option<bool>,
    pub is_organization_trail: Option<bool>,
    pub include_global_service_events: Option<bool>,
    pub log_file_validation_enabled: Option<bool>,
    /// Empty when the trail's logs are not encrypted with SSE-KMS.
    pub kms_key_id: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: String,
    pub sns_topic_arn: String,
    pub cloudwatch_logs_log_group_arn: String,
    pub cloudwatch_logs_role_arn: String,
    /// Covered regions whose DescribeTrails listed the trail.
    pub seen_in_regions: cell::List,
    /// Empty when GetTrailStatus failed (like the status columns after it).
    pub is_logging: Option<bool>,
    /// RFC 3339 times (read with [`cell::parse_time`]).
    pub latest_delivery_time: String,
    pub latest_delivery_error: String,
    pub latest_delivery_attempt_time: String,
    pub latest_delivery_attempt_succeeded: String,
    pub latest_cloudwatch_logs_delivery_time: String,
    pub latest_cloudwatch_logs_delivery_error: String,
    pub start_logging_time: String,
    pub stop_logging_time: String,
    /// Empty (like the columns after it) when GetEventSelectors failed.
    pub selector_kind: Option<SelectorKind>,
    pub management_events: Option<ManagementEvents>,
    pub management_read_events: Option<bool>,
    pub management_write_events: Option<bool>,
    pub management_excluded_sources: cell::List,
    pub data_events: Option<bool>,
    pub data_resource_types: cell::List,
    pub has_insight_selectors: Option<bool>,
}

/// One row of `regions.csv`: what a covered region's DescribeTrails showed (a region whose
/// DescribeTrails failed has no row).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRow {
    pub region: String,
    pub trails_visible: u64,
    /// Trails homed in this region.
    pub home_trails: u64,
    /// Trails homed elsewhere (multi-region or organization trails seen from here).
    pub shadow_trails: u64,
    pub trail_arns: cell::List,
}

/// One row of `trail-buckets.csv`: a trail's S3 log bucket and how it is protected, read in
/// the bucket's own region. An empty cell is unknown because its call failed (`failed_calls`
/// names the calls, `error` says why: a bucket of another account, or one the caller may not
/// read, fails them all).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailBucketRow {
    pub trail_arn: String,
    pub trail_name: String,
    pub home_region: String,
    pub bucket: String,
    /// Empty when GetBucketLocation failed.
    pub bucket_region: String,
    /// `Enabled`, `Suspended`, or `Off` (versioning never enabled).
    pub versioning: String,
    /// MFA delete (GetBucketVersioning's MfaDelete); an absent MfaDelete is false.
    pub mfa_delete: Option<bool>,
    /// The default encryption's SSE algorithm (`AES256`, `aws:kms`, `aws:kms:dsse`), or `none`
    /// (ServerSideEncryptionConfigurationNotFoundError).
    pub default_encryption: String,
    pub encryption_kms_key: String,
    /// Whether server access logging is on (GetBucketLogging has a LoggingEnabled).
    pub access_logging: Option<bool>,
    /// `s3://target-bucket/prefix` when access logging is on.
    pub logging_target: String,
    /// The operations that failed for this bucket.
    pub failed_calls: cell::List,
    /// The errors of those operations (`Operation: Code: message`), `;`-joined.
    pub error: String,
}

/// What the sampled log file integrity validation of one trail came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationStatus {
    /// Every digest of the window read, signed and chained, every sampled log file matching.
    Validated,
    /// Something does not hold: an invalid signature, a missing or unreadable digest, a broken
    /// chain, a changed or missing log file (`problems` lists them).
    Failed,
    /// Logging with validation enabled, but no digest file lies in the window.
    NoDigests,
    /// Not (fully) validated: a call was refused or failed, or the bucket could not be located
    /// (`reason` says which). Never a pass.
    #[default]
    NotValidated,
    /// Log file validation is disabled (judged by `cloudtrail-validation`), or the trail is not
    /// logging, so no digest is due.
    NotApplicable,
}

impl ValidationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Validated => "validated",
            ValidationStatus::Failed => "failed",
            ValidationStatus::NoDigests => "no_digests",
            ValidationStatus::NotValidated => "not_validated",
            ValidationStatus::NotApplicable => "not_applicable",
        }
    }
}

/// One row of `trail-validation.csv`: the digests of one trail in the window, what their
/// signatures, chain and sampled log files showed. The details per digest are in
/// `trail-validation.json`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationRow {
    pub trail_arn: String,
    pub trail_name: String,
    pub home_region: String,
    pub bucket: String,
    pub status: ValidationStatus,
    /// Why the trail was not (fully) validated: the refused or failed call, with its error.
    pub reason: String,
    /// The window read: digests whose end time lies in the `window_hours` hours before the
    /// collector ran (its bounds are the manifest note `log_validation_window`; left out of
    /// the rows so that an unchanged account gives the same evidence on every run).
    pub window_hours: u32,
    /// The regions whose digests were read (a multi-region trail delivers digests per region).
    pub regions: cell::List,
    pub digests_checked: u64,
    pub signatures_valid: u64,
    pub signatures_invalid: u64,
    /// Digests that a later digest names as its previous one but that are not in the bucket.
    pub digests_missing: u64,
    /// Digests that could not be read or parsed (gzip, JSON, size, moved from their location).
    pub digests_unreadable: u64,
    /// Whether every digest of the window links to its previous one; empty when not checked.
    pub chain_unbroken: Option<bool>,
    /// Log files listed by the digests whose signature is valid.
    pub log_files_listed: u64,
    pub log_files_rehashed: u64,
    pub log_files_matching: u64,
    pub log_files_mismatching: u64,
    pub log_files_missing: u64,
    /// Every problem found, one per entry (`s3://bucket/key: what`).
    pub problems: cell::List,
}

/// What a digest file's signature came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureCheck {
    Valid,
    Invalid,
    /// No public key of ListPublicKeys has the digest's fingerprint.
    NoPublicKey,
    /// The S3 object has no `signature` metadata, or a `signature-algorithm` other than
    /// SHA256withRSA.
    Unsigned,
    /// The digest could not be read, inflated or parsed, or names another location.
    Unreadable,
    /// Named by a later digest but not in the bucket.
    Missing,
    /// Not checked: a call it needs was refused or failed.
    NotChecked,
}

/// How a digest links to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainLink {
    /// Its previous digest is in the window, and its recorded signature and hash match it.
    Linked,
    /// A starting digest (no previous digest: validation or logging was (re)started).
    Start,
    /// Its previous digest ends before the window: not read.
    BeforeWindow,
    /// Its previous digest is in the window but not in the bucket.
    PreviousMissing,
    /// Its previous digest is there, but the signature or hash recorded for it differ.
    PreviousMismatch,
    /// Not known (the digest itself could not be read).
    Unknown,
}

/// What re-hashing one sampled log file showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFileOutcome {
    Matching,
    Mismatching,
    /// Not in the bucket (NoSuchKey).
    Missing,
    /// Read, but not gzip, over the size cap, or hashed with another algorithm than SHA-256.
    Unreadable,
    /// Not checked: GetObject was refused or failed.
    NotChecked,
}

/// One sampled log file of a digest (`trail-validation.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFileCheck {
    pub bucket: String,
    pub key: String,
    /// The digest's `hashValue` (hex SHA-256 of the inflated log file).
    pub expected_sha256: String,
    pub actual_sha256: Option<String>,
    pub outcome: LogFileOutcome,
    pub detail: String,
}

/// One digest file of the window (`trail-validation.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestCheck {
    /// The region that delivered it (the key's `CloudTrail-Digest/<region>/`).
    pub region: String,
    pub bucket: String,
    pub key: String,
    pub digest_start_time: Option<String>,
    pub digest_end_time: Option<String>,
    pub public_key_fingerprint: Option<String>,
    /// The S3 object's `signature-algorithm` metadata.
    pub signature_algorithm: Option<String>,
    pub signature: SignatureCheck,
    /// The key of the previous digest it names (`previousDigestS3Object`).
    pub previous_key: Option<String>,
    pub chain: ChainLink,
    /// Log files the digest lists.
    pub log_files_listed: u64,
    /// The sampled ones, re-hashed (only for a digest whose signature is valid).
    pub log_files: Vec<LogFileCheck>,
    /// What went wrong, when something did.
    pub detail: String,
}

/// One element of `trail-validation.json`: a trail's row and its digests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailValidation {
    #[serde(flatten)]
    pub row: ValidationRow,
    pub digests: Vec<DigestCheck>,
}

// ---- trails.json: the answers as the API returned them (PascalCase, absent members left out) ----

/// One element of `trails.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailRecord {
    /// Its row of `trails.csv` (not part of the JSON).
    #[serde(skip)]
    pub row: TrailRow,
    pub trail: TrailDescription,
    pub seen_in_regions: Vec<String>,
    /// `null` when GetTrailStatus failed.
    pub trail_status: Option<TrailStatus>,
    /// `null` when GetEventSelectors failed.
    pub event_selectors: Option<EventSelectors>,
    /// What the selectors record; `null` when they could not be read.
    pub coverage: Option<Coverage>,
}

/// The events a trail's selectors record, whatever their form. Selectors are a union: an event
/// is recorded when any selector matches it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Coverage {
    pub selector_kind: SelectorKind,
    pub management_events: ManagementEvents,
    pub management_read_events: bool,
    pub management_write_events: bool,
    /// Event sources a management selector leaves out (ExcludeManagementEventSources, or an
    /// advanced `eventSource` NotEquals), e.g. `kms.amazonaws.com`.
    pub management_excluded_sources: Vec<String>,
    /// Whether any selector records data events.
    pub data_events: bool,
    /// The resource types of the selected data events (`AWS::S3::Object`, ...).
    pub data_resource_types: Vec<String>,
}

/// One entry of DescribeTrails' trailList (the deprecated SnsTopicName is left out: SnsTopicARN
/// names the topic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailDescription {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "TrailARN", skip_serializing_if = "Option::is_none")]
    pub trail_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_multi_region_trail: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_organization_trail: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_global_service_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file_validation_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(rename = "SnsTopicARN", skip_serializing_if = "Option::is_none")]
    pub sns_topic_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_log_group_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_custom_event_selectors: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_insight_selectors: Option<bool>,
}

/// GetTrailStatus as returned (times as RFC 3339 UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_logging: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_logging_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_logging_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_cloud_watch_logs_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_digest_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_digest_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_attempt_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_attempt_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_attempt_succeeded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_attempt_succeeded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_logging_started: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_logging_stopped: Option<String>,
}

/// GetEventSelectors as returned: basic or advanced selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelectors {
    #[serde(rename = "TrailARN", skip_serializing_if = "Option::is_none")]
    pub trail_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<Vec<BasicSelector>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_event_selectors: Option<Vec<AdvancedSelector>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BasicSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_write_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_management_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_resources: Option<Vec<DataResource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_management_event_sources: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}
