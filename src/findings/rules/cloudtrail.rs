//! CloudTrail: a multi-region trail logging read and write management events, and each
//! trail's log file validation, SSE-KMS encryption and delivery. Read from the `cloudtrail`
//! collector's `trails.csv`.
//!
//! - Whether a trail records read and write management events is read again from its raw
//!   event selectors in `trails.json` (`judge::cloudtrail`), not from the convenience columns.
//! - `trails.csv` holds each trail once (deduplicated by ARN, in its home region), so the
//!   per-trail rules give one finding per trail, never one per region it is seen in.
//! - `cloudtrail-delivery` judges logging trails only: a stopped trail delivers nothing by
//!   design, and a stopped trail matters when no other trail covers the account, which
//!   `cloudtrail-multi-region` reports already. A logging trail gets a finding when its latest
//!   delivery failed, or when it has logged for more than 24 hours before the run without a
//!   delivery in the last 24 hours.

use super::account_arn;
use crate::contract::cell::parse_time;
use crate::contract::cloudtrail::{TrailRecord, TrailRow};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::cloudtrail::coverage;
use crate::vocab::Severity;

const CLOUDTRAIL: &str = crate::contract::cloudtrail::ID;

const CONTROLS: &[Control] = &[Control::Cc7_2, Control::Cc7_3];

/// A logging trail must have delivered within this many hours before the run.
const DELIVERY_MAX_HOURS: i64 = 24;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "cloudtrail-multi-region",
        title: "No multi-region trail logging read and write management events",
        severity: Severity::High,
        controls: CONTROLS,
        references: &["CIS 3.1", "CloudTrail.1"],
        remediation: "Create or update a trail with `--is-multi-region-trail` whose event \
                      selectors record read and write management events, and start it with \
                      `aws cloudtrail start-logging --name TRAIL`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_multi_region,
    },
    RuleSpec {
        id: "cloudtrail-validation",
        title: "Trail without log file validation",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &["CIS 3.2", "CloudTrail.4"],
        remediation: "Enable log file integrity validation: `aws cloudtrail update-trail --name \
                      TRAIL --enable-log-file-validation`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_validation,
    },
    RuleSpec {
        id: "cloudtrail-kms",
        title: "Trail logs not encrypted with SSE-KMS",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &["CIS 3.5", "CloudTrail.2"],
        remediation: "Encrypt the trail's log files with a customer managed KMS key whose key \
                      policy allows CloudTrail to use it: `aws cloudtrail update-trail --name \
                      TRAIL --kms-key-id KEY`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_kms,
    },
    RuleSpec {
        id: "cloudtrail-delivery",
        title: "Trail log delivery failing or stale",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &[],
        remediation: "Fix what blocks delivery (usually the S3 bucket policy, a deleted bucket or \
                      a KMS key policy that does not let CloudTrail write), then check with `aws \
                      cloudtrail get-trail-status` that LatestDeliveryTime advances and \
                      LatestDeliveryError is empty.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_delivery,
    },
];

/// Why a trail does not give the account-wide coverage CIS 3.1 asks for (`None` when it
/// does), or `Err` when it might but a cell is unknown.
fn multi_region_gap(trail: &TrailRow, management: ReadWrite) -> Result<Option<String>, ()> {
    let mut gaps = Vec::new();
    let mut unknown = false;
    let mut check = |value: Option<bool>, gap: &str| match value {
        Some(true) => {}
        Some(false) => gaps.push(gap.to_string()),
        None => unknown = true,
    };
    check(trail.is_multi_region_trail, "single-region");
    check(trail.is_logging, "not logging");
    match management {
        (Some(false), Some(false)) => check(Some(false), "no management events"),
        (read, write) => {
            check(read, "no read management events");
            check(write, "no write management events");
        }
    }
    if !gaps.is_empty() {
        Ok(Some(gaps.join(", ")))
    } else if unknown {
        Err(())
    } else {
        Ok(None)
    }
}

/// Whether a trail records read and write management events (`None`: unknown).
type ReadWrite = (Option<bool>, Option<bool>);

/// Whether each trail (by ARN) records read and write management events, from its raw event
/// selectors; unknown where they could not be read.
fn management_events(input: &Input) -> Result<Vec<(String, ReadWrite)>, String> {
    Ok(input
        .document::<Vec<TrailRecord>>()?
        .iter()
        .filter_map(|record| {
            let arn = record.trail.trail_arn.clone()?;
            let read_write = match &record.event_selectors {
                Some(selectors) => {
                    let c = coverage(selectors);
                    (
                        Some(c.management_read_events),
                        Some(c.management_write_events),
                    )
                }
                None => (None, None),
            };
            Some((arn, read_write))
        })
        .collect())
}

fn cloudtrail_multi_region(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let trails = input.table::<TrailRow>()?;
    let management = management_events(input)?;
    let mut gaps = Vec::new();
    let mut unknown = Vec::new();
    for trail in &trails {
        let read_write = management
            .iter()
            .find(|(arn, _)| *arn == trail.trail_arn)
            .map_or((None, None), |(_, read_write)| *read_write);
        match multi_region_gap(trail, read_write) {
            Ok(None) => return Ok(()),
            Ok(Some(gap)) => gaps.push(format!("{} ({gap})", trail.name)),
            Err(()) => unknown.push(trail.name.clone()),
        }
    }
    if !unknown.is_empty() {
        // One of them may qualify: saying "none" would be a guess.
        return Err(format!(
            "the status or event selectors of trail(s) {} could not be read, so whether a \
             trail covers every region cannot be decided",
            unknown.join(", ")
        ));
    }
    let detail = if gaps.is_empty() {
        "No CloudTrail trail is visible in the covered regions that could be read.".to_string()
    } else {
        format!(
            "No trail is multi-region, logging and recording read and write management events: \
             {}.",
            gaps.join("; ")
        )
    };
    out.add(account_arn(input), "global", detail, TrailRow::PATH);
    Ok(())
}

/// The trail's description for details: `name (multi-region, home region R)`.
fn trail_label(trail: &TrailRow) -> String {
    let scope = match trail.is_multi_region_trail {
        Some(true) => "multi-region",
        Some(false) => "single-region",
        None => "scope unknown",
    };
    format!(
        "Trail {} ({scope}, home region {})",
        trail.name, trail.home_region
    )
}

fn cloudtrail_validation(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for trail in &input.table::<TrailRow>()? {
        if trail.log_file_validation_enabled == Some(false) {
            out.add(
                trail.trail_arn.as_str(),
                trail.home_region.as_str(),
                format!(
                    "{} has log file validation disabled: changes to or deletion of its log \
                     files cannot be detected.",
                    trail_label(trail)
                ),
                TrailRow::PATH,
            );
        }
    }
    Ok(())
}

fn cloudtrail_kms(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for trail in &input.table::<TrailRow>()? {
        if trail.kms_key_id.trim().is_empty() {
            out.add(
                trail.trail_arn.as_str(),
                trail.home_region.as_str(),
                format!(
                    "{} delivers its logs to s3://{} without SSE-KMS (no KmsKeyId).",
                    trail_label(trail),
                    trail.s3_bucket_name
                ),
                TrailRow::PATH,
            );
        }
    }
    Ok(())
}

fn cloudtrail_delivery(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let window = chrono::Duration::hours(DELIVERY_MAX_HOURS);
    for trail in &input.table::<TrailRow>()? {
        // Stopped trails (and trails whose status is unknown) are not judged: see the module
        // comment.
        if trail.is_logging != Some(true) {
            continue;
        }
        let delivered = parse_time(&trail.latest_delivery_time);
        let last = match delivered {
            Some(t) => format!("last delivery {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            None => "no delivery recorded".to_string(),
        };
        let error = trail.latest_delivery_error.trim();
        let detail = if !error.is_empty() {
            format!(
                "{} reports delivery error {error} ({last}).",
                trail_label(trail)
            )
        } else {
            // The delivery clock starts at the later of the last delivery and the start of
            // logging: a trail started an hour ago has not missed a day yet.
            let since = match (delivered, parse_time(&trail.start_logging_time)) {
                (Some(d), Some(s)) => Some(d.max(s)),
                (d, s) => d.or(s),
            };
            match since {
                Some(since) if input.now - since <= window => continue,
                Some(_) => format!(
                    "{} is logging but has not delivered logs in the {DELIVERY_MAX_HOURS} \
                     hours before {} ({last}).",
                    trail_label(trail),
                    input.now.format("%Y-%m-%dT%H:%M:%SZ")
                ),
                None => format!(
                    "{} is logging but no log delivery is recorded.",
                    trail_label(trail)
                ),
            }
        };
        out.add(
            trail.trail_arn.as_str(),
            trail.home_region.as_str(),
            detail,
            TrailRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::cloudtrail::{BasicSelector, EventSelectors, TrailDescription};
    use crate::findings::testkit::{pair, Bundle, EAST, WEST};
    use crate::findings::RuleStatus;

    const FRESH: &str = "2026-11-22T07:55:00Z";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/k";

    /// A trail row: name, home region, multi-region, validation, kms key, logging, last
    /// delivery, delivery error, management read, management write.
    #[allow(clippy::too_many_arguments)]
    fn trail(
        name: &str,
        home: &str,
        multi: Option<bool>,
        validation: Option<bool>,
        kms: &str,
        logging: Option<bool>,
        delivered: &str,
        error: &str,
        read: Option<bool>,
        write: Option<bool>,
    ) -> TrailRow {
        let seen = if multi == Some(true) {
            vec![WEST, EAST]
        } else {
            vec![home]
        };
        TrailRow {
            home_region: home.into(),
            name: name.into(),
            trail_arn: format!("arn:aws:cloudtrail:{home}:123456789012:trail/{name}"),
            is_multi_region_trail: multi,
            is_organization_trail: Some(false),
            include_global_service_events: Some(true),
            log_file_validation_enabled: validation,
            kms_key_id: kms.into(),
            s3_bucket_name: "logs".into(),
            seen_in_regions: seen.into_iter().collect(),
            is_logging: logging,
            latest_delivery_time: delivered.into(),
            latest_delivery_error: error.into(),
            start_logging_time: "2026-11-01T00:00:00Z".into(),
            selector_kind: Some(crate::contract::cloudtrail::SelectorKind::Basic),
            management_events: Some(crate::contract::cloudtrail::ManagementEvents::All),
            management_read_events: read,
            management_write_events: write,
            data_events: Some(false),
            has_insight_selectors: Some(false),
            ..TrailRow::default()
        }
    }

    /// The raw selectors that record what a row's management columns say (none when unknown).
    fn selectors(row: &TrailRow) -> Option<EventSelectors> {
        let (read, write) = (row.management_read_events?, row.management_write_events?);
        let read_write = match (read, write) {
            (true, false) => "ReadOnly",
            (false, true) => "WriteOnly",
            _ => "All",
        };
        Some(EventSelectors {
            trail_arn: Some(row.trail_arn.clone()),
            event_selectors: Some(vec![BasicSelector {
                read_write_type: Some(read_write.into()),
                include_management_events: Some(read || write),
                ..BasicSelector::default()
            }]),
            advanced_event_selectors: None,
        })
    }

    /// `trails.csv` and `trails.json` for the rows.
    fn trails_bundle(rows: &[TrailRow]) -> Bundle {
        let records: Vec<TrailRecord> = rows
            .iter()
            .map(|row| TrailRecord {
                trail: TrailDescription {
                    trail_arn: Some(row.trail_arn.clone()),
                    ..TrailDescription::default()
                },
                event_selectors: selectors(row),
                ..TrailRecord::default()
            })
            .collect();
        Bundle::new()
            .table(rows)
            .document(&records)
            .collected(CLOUDTRAIL)
    }

    const T: Option<bool> = Some(true);
    const F: Option<bool> = Some(false);

    fn good_trail(name: &str) -> TrailRow {
        trail(name, EAST, T, T, KEY, T, FRESH, "", T, T)
    }

    #[test]
    fn management_events_are_read_again_from_the_raw_selectors() {
        // The columns say read and write; the trail's raw selectors record writes only.
        let mut claimed = good_trail("org");
        let mut writes_only = claimed.clone();
        writes_only.management_read_events = F;
        let records = vec![TrailRecord {
            trail: TrailDescription {
                trail_arn: Some(claimed.trail_arn.clone()),
                ..TrailDescription::default()
            },
            event_selectors: selectors(&writes_only),
            ..TrailRecord::default()
        }];
        claimed.management_read_events = T;
        let bundle = Bundle::new()
            .table(&[claimed])
            .document(&records)
            .collected(CLOUDTRAIL);
        let (_, _, found) = bundle.outcome("cloudtrail-multi-region");
        assert_eq!(found.len(), 1);
        assert!(found[0].detail.contains("org (no read management events)"));

        // Without trails.json the rule is not evaluated, and says why.
        let bundle = Bundle::new()
            .table(&[good_trail("org")])
            .collected(CLOUDTRAIL);
        let (status, reason, _) = bundle.outcome("cloudtrail-multi-region");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(
            reason.contains("evidence/cloudtrail/trails.json"),
            "{reason}"
        );
    }

    #[test]
    fn cloudtrail_multi_region_needs_one_multi_region_logging_trail_with_read_and_write() {
        // A good trail among bad ones: no finding.
        let bundle = trails_bundle(&[
            good_trail("org"),
            trail("app", WEST, F, T, KEY, T, FRESH, "", T, T),
        ]);
        assert!(bundle.hits("cloudtrail-multi-region").is_empty());

        // Multi-region but stopped, multi-region but write-only, single-region: a finding.
        let bundle = trails_bundle(&[
            trail("stopped", EAST, T, T, KEY, F, FRESH, "", T, T),
            trail("writes", EAST, T, T, KEY, T, FRESH, "", F, T),
            trail("app", WEST, F, T, KEY, T, FRESH, "", T, T),
        ]);
        let (_, _, found) = bundle.outcome("cloudtrail-multi-region");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].resource, "arn:aws:iam::123456789012:root");
        assert_eq!(found[0].region, "global");
        assert!(found[0].detail.contains("stopped (not logging)"));
        assert!(found[0]
            .detail
            .contains("writes (no read management events)"));
        assert!(found[0].detail.contains("app (single-region)"));

        // No trail at all: a finding.
        assert_eq!(trails_bundle(&[]).hits("cloudtrail-multi-region").len(), 1);

        // A multi-region trail whose status could not be read may qualify: not evaluated.
        let bundle = trails_bundle(&[trail("org", EAST, T, T, KEY, None, "", "", T, T)]);
        let (status, error, _) = bundle.outcome("cloudtrail-multi-region");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(error.contains("org"), "{error}");
    }

    #[test]
    fn a_shadow_trail_is_one_finding_in_its_home_region() {
        // A multi-region trail seen from both regions is one row of trails.csv.
        let bundle = trails_bundle(&[trail("org", EAST, T, F, "", T, FRESH, "", T, T)]);
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org";
        assert_eq!(bundle.hits("cloudtrail-validation"), [pair(arn, EAST)]);
        assert_eq!(bundle.hits("cloudtrail-kms"), [pair(arn, EAST)]);
        assert!(bundle.hits("cloudtrail-multi-region").is_empty());
        let (_, _, found) = bundle.outcome("cloudtrail-kms");
        assert!(
            found[0].detail.contains("s3://logs without SSE-KMS"),
            "{found:?}"
        );

        let bundle = trails_bundle(&[good_trail("org")]);
        assert!(bundle.hits("cloudtrail-validation").is_empty());
        assert!(bundle.hits("cloudtrail-kms").is_empty());
    }

    #[test]
    fn cloudtrail_delivery_flags_errors_and_stale_delivery_of_logging_trails() {
        let row = |name: &str, logging: Option<bool>, delivered: &str, error: &str| {
            trail(name, EAST, T, T, KEY, logging, delivered, error, T, T)
        };
        let bundle = trails_bundle(&[
            row("fresh", T, FRESH, ""),
            row("failing", T, FRESH, "AccessDenied"),
            row("stale", T, "2026-11-20T08:00:00Z", ""),
            row("never", T, "", ""),
            // Stopped: judged by cloudtrail-multi-region, not here.
            row("stopped", F, "2026-10-01T00:00:00Z", "NoSuchBucket"),
            // Status unknown: skipped.
            row("unknown", None, "", ""),
        ]);
        let (_, _, found) = bundle.outcome("cloudtrail-delivery");
        let names: Vec<&str> = found
            .iter()
            .map(|f| f.resource.rsplit('/').next().unwrap())
            .collect();
        // In resource order (the engine sorts findings of one rule and region by resource).
        assert_eq!(names, ["failing", "never", "stale"]);
        assert!(found[0].detail.contains("AccessDenied"));
        assert!(found[2].detail.contains("2026-11-20T08:00:00Z"));
        assert!(found[1].detail.contains("(no delivery recorded)"));

        // Logging restarted an hour ago after a long stop: not yet a day without delivery.
        let restarted = TrailRow {
            start_logging_time: "2026-11-22T07:00:00Z".into(),
            ..row("restarted", T, "2026-10-01T00:00:00Z", "")
        };
        let bundle = trails_bundle(&[restarted]);
        assert!(bundle.hits("cloudtrail-delivery").is_empty());
    }

    #[test]
    fn a_trails_file_of_another_shape_names_the_missing_column() {
        let bundle = Bundle::new()
            .file(
                TrailRow::PATH,
                "home_region,name,trail_arn\nus-east-1,org,arn\n",
            )
            .collected(CLOUDTRAIL);
        for rule in RULES {
            let (status, reason, _) = bundle.outcome(rule.id);
            assert_eq!(status, RuleStatus::NotEvaluated, "{}", rule.id);
            assert!(
                reason.contains("is_multi_region_trail")
                    && reason.contains("missing in evidence/cloudtrail/trails.csv"),
                "{reason}"
            );
        }
    }
}
