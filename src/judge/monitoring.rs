//! Which CIS AWS Foundations v3.0 section 4 monitoring items the account watches: for each item
//! of [`crate::judge::metric_filter::ITEMS`], a chain of
//!
//! 1. a *monitored* trail: multi-region, logging (GetTrailStatus), sending to a CloudWatch Logs
//!    log group;
//! 2. a metric filter on that log group (same region and name) whose pattern covers the item
//!    (`crate::judge::metric_filter`'s rule);
//! 3. a metric alarm in the log group's region on the filter's metric (same namespace and name)
//!    whose actions are enabled;
//! 4. among the alarm's ALARM actions, an SNS topic;
//! 5. a confirmed subscription of that topic (one whose ARN is not `PendingConfirmation`).
//!
//! The first complete chain (trails, filters, alarms, topics in name order) is the item's cover.
//! Without one, the item is `not_covered`, with the furthest stage reached and what it lacks,
//! unless a call that could have shown a cover failed: a trail whose status is unknown, the
//! metric filters of a monitored log group's region, the alarms of a covering filter's region,
//! the subscriptions of a topic's region (an error of that operation in that region). Then it is
//! `unknown`, never `not_covered` and never `covered`.
//!
//! Pure: the tables of `crate::contract::cis_monitoring` and the failed calls in, one
//! [`MonitoringItemRow`] per item out. The collector writes them as `monitoring-items.csv`; the
//! rule `monitoring-alarm-missing` derives them again from the raw tables.

use std::collections::BTreeSet;

use super::metric_filter::{parse, Expr, Item, ITEMS};
use crate::contract::cis_monitoring::{
    AlarmRow, ItemCoverage, MetricFilterRow, MonitoringItemRow, SubscriptionRow, TrailRow,
};

/// The operations whose failure can hide a cover, as recorded in the manifest.
pub const DESCRIBE_METRIC_FILTERS: &str = "DescribeMetricFilters";
pub const DESCRIBE_ALARMS: &str = "DescribeAlarms";
pub const LIST_SUBSCRIPTIONS_BY_TOPIC: &str = "ListSubscriptionsByTopic";

/// What the judgement reads.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub trails: &'a [TrailRow],
    pub filters: &'a [MetricFilterRow],
    pub alarms: &'a [AlarmRow],
    pub subscriptions: &'a [SubscriptionRow],
    /// (operation, region) of every call that failed.
    pub failed: &'a [(String, String)],
}

/// Whether a trail's log group is monitored: `None` when its status is unknown.
pub fn monitored(trail: &TrailRow) -> Option<bool> {
    if trail.log_group_name.is_empty()
        || trail.is_multi_region_trail == Some(false)
        || trail.is_logging == Some(false)
    {
        return Some(false);
    }
    match (trail.is_multi_region_trail, trail.is_logging) {
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// The region of an ARN (`arn:partition:service:REGION:...`), empty when it has none.
pub fn arn_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// Whether an alarm action is an SNS topic.
pub fn is_topic(action: &str) -> bool {
    action.starts_with("arn:") && action.split(':').nth(2) == Some("sns")
}

/// Whether a subscription is confirmed.
pub fn confirmed(subscription: &SubscriptionRow) -> bool {
    let arn = subscription.subscription_arn.as_str();
    arn.starts_with("arn:")
}

/// How far a chain got, and the names along it.
#[derive(Debug, Default, Clone)]
struct Chain {
    stage: u8,
    trail_arn: String,
    log_group: String,
    filter_name: String,
    metric: String,
    alarm_name: String,
    topic_arn: String,
    detail: String,
}

impl Chain {
    /// Keeps `other` when it got further.
    fn keep_furthest(&mut self, other: Chain) {
        if other.stage > self.stage {
            *self = other;
        }
    }
}

/// One row per item, in [`ITEMS`] order.
pub fn judge(evidence: &Evidence<'_>) -> Vec<MonitoringItemRow> {
    let parsed: Vec<(&MetricFilterRow, Result<Expr, String>)> = evidence
        .filters
        .iter()
        .map(|f| (f, parse(&f.filter_pattern).map_err(|e| e.0)))
        .collect();
    ITEMS
        .iter()
        .map(|item| judge_item(item, evidence, &parsed))
        .collect()
}

fn failed_in(evidence: &Evidence<'_>, operation: &str, region: &str) -> bool {
    evidence
        .failed
        .iter()
        .any(|(op, r)| op == operation && r == region)
}

fn judge_item(
    item: &Item,
    evidence: &Evidence<'_>,
    parsed: &[(&MetricFilterRow, Result<Expr, String>)],
) -> MonitoringItemRow {
    let benchmark = parse(item.pattern).expect("every item's pattern parses (tested)");
    let mut trails: Vec<&TrailRow> = evidence.trails.iter().collect();
    trails.sort_by(|a, b| a.trail_arn.cmp(&b.trail_arn));
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    for trail in trails.iter().filter(|t| monitored(t).is_none()) {
        unknown.insert(format!(
            "whether trail {} is a multi-region logging trail is not known (its status could \
             not be read)",
            trail.trail_arn
        ));
    }
    let mut best = Chain {
        detail: "no multi-region trail that is logging sends its events to CloudWatch Logs"
            .to_string(),
        ..Chain::default()
    };
    let mut seen_groups = BTreeSet::new();
    for trail in trails.iter().filter(|t| monitored(t) == Some(true)) {
        let (region, group) = (
            trail.log_group_region.as_str(),
            trail.log_group_name.as_str(),
        );
        if !seen_groups.insert((region, group)) {
            continue;
        }
        let mut chain = Chain {
            stage: 1,
            trail_arn: trail.trail_arn.clone(),
            log_group: group.to_string(),
            ..Chain::default()
        };
        if failed_in(evidence, DESCRIBE_METRIC_FILTERS, region) {
            unknown.insert(format!(
                "the metric filters of log group {group} in {region} could not be read"
            ));
        }
        let mut filters: Vec<&(&MetricFilterRow, Result<Expr, String>)> = parsed
            .iter()
            .filter(|(f, _)| f.region == region && f.log_group_name == group)
            .collect();
        filters.sort_by(|a, b| {
            (&a.0.filter_name, &a.0.metric_namespace, &a.0.metric_name).cmp(&(
                &b.0.filter_name,
                &b.0.metric_namespace,
                &b.0.metric_name,
            ))
        });
        let unreadable = filters.iter().filter(|(_, p)| p.is_err()).count();
        let covering: Vec<&MetricFilterRow> = filters
            .iter()
            .filter(|(_, p)| {
                p.as_ref()
                    .is_ok_and(|expr| super::metric_filter::implies(&benchmark, expr))
            })
            .map(|(f, _)| *f)
            .collect();
        chain.detail = format!(
            "no metric filter of log group {group} ({} filter{}{}) matches every event of the \
             item's pattern",
            filters.len(),
            if filters.len() == 1 { "" } else { "s" },
            if unreadable > 0 {
                format!(", {unreadable} with a pattern that cannot be judged")
            } else {
                String::new()
            }
        );
        for filter in covering {
            let metric = format!("{}/{}", filter.metric_namespace, filter.metric_name);
            let mut at_filter = Chain {
                stage: 2,
                filter_name: filter.filter_name.clone(),
                metric: metric.clone(),
                detail: format!(
                    "metric filter {} covers the item, but no alarm with enabled actions \
                     watches its metric {metric} in {region}",
                    filter.filter_name
                ),
                ..chain.clone()
            };
            if failed_in(evidence, DESCRIBE_ALARMS, region) {
                unknown.insert(format!(
                    "metric filter {} covers the item, but the alarms of {region} could not be \
                     read",
                    filter.filter_name
                ));
            }
            let mut alarms: Vec<&AlarmRow> = evidence
                .alarms
                .iter()
                .filter(|a| {
                    a.region == region
                        && a.metric_namespace == filter.metric_namespace
                        && a.metric_name == filter.metric_name
                })
                .collect();
            alarms.sort_by(|a, b| a.alarm_name.cmp(&b.alarm_name));
            let disabled: Vec<&str> = alarms
                .iter()
                .filter(|a| a.actions_enabled != Some(true))
                .map(|a| a.alarm_name.as_str())
                .collect();
            if !disabled.is_empty() {
                at_filter.detail = format!(
                    "{} (alarm {} has its actions disabled)",
                    at_filter.detail,
                    disabled.join(", ")
                );
            }
            for alarm in alarms.iter().filter(|a| a.actions_enabled == Some(true)) {
                let mut at_alarm = Chain {
                    stage: 3,
                    alarm_name: alarm.alarm_name.clone(),
                    detail: format!(
                        "alarm {} watches metric {metric}, but notifies no SNS topic",
                        alarm.alarm_name
                    ),
                    ..at_filter.clone()
                };
                let mut topics: Vec<&str> =
                    alarm.alarm_actions.iter().filter(|a| is_topic(a)).collect();
                topics.sort_unstable();
                topics.dedup();
                for topic in topics {
                    let subscriptions: Vec<&SubscriptionRow> = evidence
                        .subscriptions
                        .iter()
                        .filter(|s| s.topic_arn == topic)
                        .collect();
                    let pending = subscriptions.iter().filter(|s| !confirmed(s)).count();
                    let at_topic = Chain {
                        stage: 4,
                        topic_arn: topic.to_string(),
                        detail: format!(
                            "alarm {} notifies topic {topic}, which has no confirmed \
                             subscription{}",
                            alarm.alarm_name,
                            if pending > 0 {
                                format!(" ({pending} pending confirmation)")
                            } else {
                                String::new()
                            }
                        ),
                        ..at_alarm.clone()
                    };
                    if subscriptions.iter().any(|s| confirmed(s)) {
                        return row(item, ItemCoverage::Covered, &at_topic, String::new());
                    }
                    if failed_in(evidence, LIST_SUBSCRIPTIONS_BY_TOPIC, arn_region(topic)) {
                        unknown.insert(format!(
                            "the subscriptions of topic {topic} could not be read"
                        ));
                    }
                    at_alarm.keep_furthest(at_topic);
                }
                at_filter.keep_furthest(at_alarm);
            }
            chain.keep_furthest(at_filter);
        }
        best.keep_furthest(chain);
    }
    if unknown.is_empty() {
        let detail = best.detail.clone();
        row(item, ItemCoverage::NotCovered, &best, detail)
    } else {
        let known: Vec<String> = unknown.into_iter().collect();
        let detail = format!("{}; so far: {}", known.join("; "), best.detail);
        row(item, ItemCoverage::Unknown, &best, detail)
    }
}

fn row(item: &Item, coverage: ItemCoverage, chain: &Chain, detail: String) -> MonitoringItemRow {
    MonitoringItemRow {
        item: item.id.to_string(),
        cis: item.cis.to_string(),
        title: item.title.to_string(),
        coverage,
        trail_arn: chain.trail_arn.clone(),
        log_group: chain.log_group.clone(),
        filter_name: chain.filter_name.clone(),
        metric: chain.metric.clone(),
        alarm_name: chain.alarm_name.clone(),
        topic_arn: chain.topic_arn.clone(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:security-alerts";

    fn trail(multi: Option<bool>, logging: Option<bool>, group: &str) -> TrailRow {
        TrailRow {
            home_region: "us-east-1".into(),
            name: "main".into(),
            trail_arn: TRAIL.into(),
            is_multi_region_trail: multi,
            is_organization_trail: Some(false),
            is_logging: logging,
            cloudwatch_logs_log_group_arn: format!(
                "arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"
            ),
            log_group_region: "us-east-1".into(),
            log_group_name: group.into(),
        }
    }

    fn filter(group: &str, name: &str, pattern: &str, metric: &str) -> MetricFilterRow {
        MetricFilterRow {
            region: "us-east-1".into(),
            log_group_name: group.into(),
            filter_name: name.into(),
            filter_pattern: pattern.into(),
            metric_namespace: "CISBenchmark".into(),
            metric_name: metric.into(),
            metric_value: "1".into(),
            creation_time: String::new(),
        }
    }

    fn alarm(name: &str, namespace: &str, metric: &str, enabled: bool) -> AlarmRow {
        AlarmRow {
            region: "us-east-1".into(),
            alarm_name: name.into(),
            alarm_arn: format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"),
            metric_namespace: namespace.into(),
            metric_name: metric.into(),
            actions_enabled: Some(enabled),
            alarm_actions: [TOPIC].into_iter().collect(),
            ..AlarmRow::default()
        }
    }

    fn subscription(arn: &str) -> SubscriptionRow {
        SubscriptionRow {
            region: "us-east-1".into(),
            topic_arn: TOPIC.into(),
            subscription_arn: arn.into(),
            protocol: "email".into(),
            endpoint: "security@example.com".into(),
            owner: "123456789012".into(),
        }
    }

    const ROOT: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;

    struct Case {
        trails: Vec<TrailRow>,
        filters: Vec<MetricFilterRow>,
        alarms: Vec<AlarmRow>,
        subscriptions: Vec<SubscriptionRow>,
        failed: Vec<(String, String)>,
    }

    impl Case {
        /// A monitored trail, a root-usage filter, its alarm and a confirmed subscription.
        fn complete() -> Case {
            Case {
                trails: vec![trail(Some(true), Some(true), "trail-logs")],
                filters: vec![filter("trail-logs", "root", ROOT, "RootUsage")],
                alarms: vec![alarm("root-alarm", "CISBenchmark", "RootUsage", true)],
                subscriptions: vec![subscription(&format!("{TOPIC}:1234"))],
                failed: vec![],
            }
        }

        fn root(&self) -> MonitoringItemRow {
            let rows = judge(&Evidence {
                trails: &self.trails,
                filters: &self.filters,
                alarms: &self.alarms,
                subscriptions: &self.subscriptions,
                failed: &self.failed,
            });
            assert_eq!(rows.len(), ITEMS.len());
            // Nothing else is covered by this evidence.
            for r in &rows[1..] {
                assert_ne!(r.coverage, ItemCoverage::Covered, "{r:?}");
            }
            rows.into_iter().next().unwrap()
        }
    }

    #[test]
    fn a_complete_chain_covers_the_item_and_names_every_link() {
        let row = Case::complete().root();
        assert_eq!(row.item, "CloudWatch.1");
        assert_eq!(row.coverage, ItemCoverage::Covered);
        assert_eq!(row.trail_arn, TRAIL);
        assert_eq!(row.log_group, "trail-logs");
        assert_eq!(row.filter_name, "root");
        assert_eq!(row.metric, "CISBenchmark/RootUsage");
        assert_eq!(row.alarm_name, "root-alarm");
        assert_eq!(row.topic_arn, TOPIC);
        assert_eq!(row.detail, "");
    }

    #[test]
    fn a_pending_subscription_does_not_count() {
        let mut case = Case::complete();
        case.subscriptions = vec![subscription("PendingConfirmation")];
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::NotCovered);
        assert_eq!(row.topic_arn, TOPIC);
        assert!(
            row.detail.contains("no confirmed subscription (1 pending"),
            "{}",
            row.detail
        );
        case.subscriptions.clear();
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::NotCovered);
        assert!(
            row.detail.ends_with("no confirmed subscription"),
            "{}",
            row.detail
        );
    }

    #[test]
    fn an_alarm_on_another_metric_or_namespace_or_with_actions_off_does_not_count() {
        for other in [
            alarm("root-alarm", "Other", "RootUsage", true),
            alarm("root-alarm", "CISBenchmark", "RootUsageX", true),
        ] {
            let mut case = Case::complete();
            case.alarms = vec![other];
            let row = case.root();
            assert_eq!(row.coverage, ItemCoverage::NotCovered);
            assert_eq!(row.filter_name, "root");
            assert_eq!(row.alarm_name, "");
            assert!(
                row.detail.contains("no alarm with enabled actions"),
                "{}",
                row.detail
            );
        }
        let mut case = Case::complete();
        case.alarms = vec![alarm("root-alarm", "CISBenchmark", "RootUsage", false)];
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::NotCovered);
        assert!(
            row.detail.contains("root-alarm has its actions disabled"),
            "{}",
            row.detail
        );
        // An alarm that notifies only a Lambda function or an Auto Scaling policy.
        let mut case = Case::complete();
        case.alarms[0].alarm_actions = ["arn:aws:lambda:us-east-1:123456789012:function:f"]
            .into_iter()
            .collect();
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::NotCovered);
        assert!(
            row.detail.contains("notifies no SNS topic"),
            "{}",
            row.detail
        );
    }

    #[test]
    fn a_filter_on_another_log_group_or_region_does_not_count() {
        let mut case = Case::complete();
        case.filters[0].log_group_name = "app-logs".into();
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::NotCovered);
        assert_eq!(row.log_group, "trail-logs");
        assert!(
            row.detail
                .contains("no metric filter of log group trail-logs (0 filters)"),
            "{}",
            row.detail
        );
        let mut case = Case::complete();
        case.filters[0].region = "eu-west-1".into();
        assert_eq!(case.root().coverage, ItemCoverage::NotCovered);
        // A filter whose pattern cannot be judged covers nothing, and is counted.
        let mut case = Case::complete();
        case.filters[0].filter_pattern = "{ $.userIdentity.type = ".into();
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::NotCovered);
        assert!(
            row.detail
                .contains("1 with a pattern that cannot be judged"),
            "{}",
            row.detail
        );
    }

    #[test]
    fn only_a_multi_region_logging_trail_with_a_log_group_counts() {
        for t in [
            trail(Some(false), Some(true), "trail-logs"),
            trail(Some(true), Some(false), "trail-logs"),
            trail(Some(true), Some(true), ""),
        ] {
            let mut case = Case::complete();
            case.trails = vec![t];
            let row = case.root();
            assert_eq!(row.coverage, ItemCoverage::NotCovered);
            assert_eq!(row.trail_arn, "");
            assert_eq!(
                row.detail,
                "no multi-region trail that is logging sends its events to CloudWatch Logs"
            );
        }
        // Unknown status: never covered, never not covered.
        let mut case = Case::complete();
        case.trails = vec![trail(Some(true), None, "trail-logs")];
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::Unknown);
        assert!(
            row.detail.contains("status could not be read"),
            "{}",
            row.detail
        );
    }

    #[test]
    fn a_failed_call_that_could_hide_a_cover_makes_the_item_unknown() {
        let failed = |op: &str, region: &str| vec![(op.to_string(), region.to_string())];
        // The alarms of the region could not be read (what stock moto gives).
        let mut case = Case::complete();
        case.alarms.clear();
        case.failed = failed(DESCRIBE_ALARMS, "us-east-1");
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::Unknown);
        assert!(
            row.detail.contains("alarms of us-east-1 could not be read"),
            "{}",
            row.detail
        );
        assert_eq!(row.filter_name, "root");
        // ... but an item no filter covers is known not covered all the same.
        let rows = judge(&Evidence {
            trails: &case.trails,
            filters: &case.filters,
            alarms: &case.alarms,
            subscriptions: &case.subscriptions,
            failed: &case.failed,
        });
        assert_eq!(rows[1].coverage, ItemCoverage::NotCovered);
        // A failure in another region does not matter.
        case.failed = failed(DESCRIBE_ALARMS, "eu-west-1");
        assert_eq!(case.root().coverage, ItemCoverage::NotCovered);

        let mut case = Case::complete();
        case.filters.clear();
        case.failed = failed(DESCRIBE_METRIC_FILTERS, "us-east-1");
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::Unknown);
        assert!(
            row.detail
                .contains("metric filters of log group trail-logs"),
            "{}",
            row.detail
        );

        let mut case = Case::complete();
        case.subscriptions.clear();
        case.failed = failed(LIST_SUBSCRIPTIONS_BY_TOPIC, "us-east-1");
        let row = case.root();
        assert_eq!(row.coverage, ItemCoverage::Unknown);
        assert!(
            row.detail.contains("subscriptions of topic"),
            "{}",
            row.detail
        );

        // A complete chain is a cover whatever else failed.
        let mut case = Case::complete();
        case.failed = failed(DESCRIBE_ALARMS, "us-east-1");
        case.trails.push(TrailRow {
            trail_arn: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/other".into(),
            ..trail(Some(true), None, "other")
        });
        assert_eq!(case.root().coverage, ItemCoverage::Covered);
    }

    #[test]
    fn helpers() {
        assert_eq!(arn_region(TOPIC), "us-east-1");
        assert_eq!(arn_region("nonsense"), "");
        assert!(is_topic(TOPIC));
        assert!(!is_topic("arn:aws:autoscaling:us-east-1:1:scalingPolicy:x"));
        assert!(!is_topic("sns"));
    }
}
