//! CIS AWS Foundations v3.0 section 4: a monitoring item that no metric filter, alarm and
//! subscribed SNS topic watches on a multi-region logging trail's log group. Judged again from
//! the `cis-monitoring` collector's raw tables (`trails.csv`, `metric-filters.csv`,
//! `alarms.csv`, `subscriptions.csv`) and its recorded errors, by `crate::judge::monitoring`
//! (the chain) and `crate::judge::metric_filter` (the patterns): `monitoring-items.csv` is what
//! the collector judged, this rule does not read it.
//!
//! One finding per item not covered, named by the item (`CloudWatch.1` ... `CloudWatch.14`,
//! `CIS 4.15`), region `global` (a multi-region trail watches every region). When no
//! multi-region logging trail sends to CloudWatch Logs, every item is a finding saying so. An
//! item that a failed call could have shown covered gives no finding: the rule is partial,
//! naming the item and the call.

use crate::contract::cis_monitoring::{
    AlarmRow, ItemCoverage, MetricFilterRow, MonitoringItemRow, SubscriptionRow, TrailRow,
};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::monitoring::{judge, Evidence};
use crate::vocab::Severity;

const MONITORING: &str = crate::contract::cis_monitoring::ID;

const CONTROLS: &[Control] = &[Control::Cc7_2, Control::Cc7_3];

pub(super) static RULES: &[RuleSpec] = &[RuleSpec {
    id: "monitoring-alarm-missing",
    title: "CIS monitoring item without a metric filter, alarm and subscribed topic",
    // Security Hub rates CloudWatch.1 to .14 Low.
    severity: Severity::Low,
    controls: CONTROLS,
    references: &[
        "CIS 4.1",
        "CIS 4.2",
        "CIS 4.3",
        "CIS 4.4",
        "CIS 4.5",
        "CIS 4.6",
        "CIS 4.7",
        "CIS 4.8",
        "CIS 4.9",
        "CIS 4.10",
        "CIS 4.11",
        "CIS 4.12",
        "CIS 4.13",
        "CIS 4.14",
        "CIS 4.15",
        "CloudWatch.1",
        "CloudWatch.2",
        "CloudWatch.3",
        "CloudWatch.4",
        "CloudWatch.5",
        "CloudWatch.6",
        "CloudWatch.7",
        "CloudWatch.8",
        "CloudWatch.9",
        "CloudWatch.10",
        "CloudWatch.11",
        "CloudWatch.12",
        "CloudWatch.13",
        "CloudWatch.14",
    ],
    remediation: "Send a multi-region trail that is logging to a CloudWatch Logs log group, \
                  then on that log group create a metric filter with the item's pattern \
                  (`aws logs put-metric-filter`), an alarm on its metric (`aws cloudwatch \
                  put-metric-alarm --alarm-actions TOPIC_ARN`), and a confirmed subscription \
                  of the SNS topic (`aws sns subscribe`, then confirm it). Or, where GuardDuty \
                  and EventBridge rules alert instead, record that decision as an exception.",
    needs: Needs::All(&[MONITORING]),
    evaluate: monitoring_alarm_missing,
}];

fn monitoring_alarm_missing(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let trails = input.table::<TrailRow>()?;
    let filters = input.table::<MetricFilterRow>()?;
    let alarms = input.table::<AlarmRow>()?;
    let subscriptions = input.table::<SubscriptionRow>()?;
    let failed: Vec<(String, String)> = input
        .collectors
        .get(MONITORING)
        .map(|state| {
            state
                .errors
                .iter()
                .map(|e| (e.operation.clone(), e.region.clone()))
                .collect()
        })
        .unwrap_or_default();
    let items = judge(&Evidence {
        trails: &trails,
        filters: &filters,
        alarms: &alarms,
        subscriptions: &subscriptions,
        failed: &failed,
    });
    for item in items {
        match item.coverage {
            ItemCoverage::Covered => {}
            ItemCoverage::Unknown => {
                out.partial(format!("{} ({}): {}", item.item, item.title, item.detail))
            }
            ItemCoverage::NotCovered => out.add(
                item.item.clone(),
                "global",
                format!(
                    "{} (CIS {}, {}) raises no alarm anyone receives: {}.",
                    item.item, item.cis, item.title, item.detail
                ),
                MonitoringItemRow::PATH,
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::input::RegionState;
    use crate::findings::testkit::{Bundle, EAST};
    use crate::findings::RuleStatus;
    use crate::judge::metric_filter::ITEMS;
    use crate::vocab::{CallError, CollectorStatus};

    const RULE: &str = "monitoring-alarm-missing";
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:alerts";

    fn trail(logging: Option<bool>) -> TrailRow {
        TrailRow {
            home_region: EAST.into(),
            name: "main".into(),
            trail_arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main".into(),
            is_multi_region_trail: Some(true),
            is_organization_trail: Some(false),
            is_logging: logging,
            cloudwatch_logs_log_group_arn: "arn:aws:logs:us-east-1:123456789012:log-group:ct:*"
                .into(),
            log_group_region: EAST.into(),
            log_group_name: "ct".into(),
        }
    }

    /// A filter, alarm and confirmed subscription for every item but the last `missing`.
    fn covered_but(missing: usize) -> (Vec<MetricFilterRow>, Vec<AlarmRow>, Vec<SubscriptionRow>) {
        let mut filters = Vec::new();
        let mut alarms = Vec::new();
        for (i, item) in ITEMS.iter().enumerate().take(ITEMS.len() - missing) {
            let metric = format!("m{i}");
            filters.push(MetricFilterRow {
                region: EAST.into(),
                log_group_name: "ct".into(),
                filter_name: format!("f{i}"),
                filter_pattern: item.pattern.into(),
                metric_namespace: "CIS".into(),
                metric_name: metric.clone(),
                metric_value: "1".into(),
                creation_time: String::new(),
            });
            alarms.push(AlarmRow {
                region: EAST.into(),
                alarm_name: format!("a{i}"),
                metric_namespace: "CIS".into(),
                metric_name: metric,
                actions_enabled: Some(true),
                alarm_actions: [TOPIC].into_iter().collect(),
                ..AlarmRow::default()
            });
        }
        let subscriptions = vec![SubscriptionRow {
            region: EAST.into(),
            topic_arn: TOPIC.into(),
            subscription_arn: format!("{TOPIC}:abc"),
            protocol: "email".into(),
            endpoint: "soc@example.com".into(),
            owner: "123456789012".into(),
        }];
        (filters, alarms, subscriptions)
    }

    fn bundle(
        trails: &[TrailRow],
        (filters, alarms, subscriptions): (
            Vec<MetricFilterRow>,
            Vec<AlarmRow>,
            Vec<SubscriptionRow>,
        ),
    ) -> Bundle {
        Bundle::new()
            .table(trails)
            .table(&filters)
            .table(&alarms)
            .table(&subscriptions)
    }

    #[test]
    fn fires_once_per_item_not_covered() {
        let b = bundle(&[trail(Some(true))], covered_but(2)).collected(MONITORING);
        let (status, reason, found) = b.outcome(RULE);
        assert_eq!(status, RuleStatus::Evaluated, "{reason}");
        let resources: Vec<&str> = found.iter().map(|f| f.resource.as_str()).collect();
        // Sorted by resource.
        assert_eq!(resources, ["CIS 4.15", "CloudWatch.14"]);
        assert_eq!(found[0].region, "global");
        assert_eq!(found[0].severity, Severity::Low);
        assert_eq!(found[0].evidence, MonitoringItemRow::PATH);
        assert_eq!(
            found[0].detail,
            "CIS 4.15 (CIS 4.15, AWS Organizations changes) raises no alarm anyone receives: no \
             metric filter of log group ct (13 filters) matches every event of the item's \
             pattern."
        );
    }

    #[test]
    fn does_not_fire_when_every_item_is_covered() {
        let b = bundle(&[trail(Some(true))], covered_but(0)).collected(MONITORING);
        assert!(b.hits(RULE).is_empty());
    }

    #[test]
    fn without_a_monitored_trail_every_item_is_a_finding_saying_why() {
        let b = bundle(&[trail(Some(false))], covered_but(0)).collected(MONITORING);
        let found = b.details(RULE);
        assert_eq!(found.len(), 15);
        assert!(found.iter().all(|(_, d)| d.ends_with(
            "no multi-region trail that is logging sends its events to CloudWatch Logs."
        )));
        let b = bundle(&[], covered_but(0)).collected(MONITORING);
        assert_eq!(b.hits(RULE).len(), 15);
    }

    #[test]
    fn a_failed_call_makes_it_partial_never_a_pass() {
        // The alarms of us-east-1 could not be read (as against stock moto).
        let (filters, _, subscriptions) = covered_but(1);
        let b = bundle(&[trail(Some(true))], (filters, vec![], subscriptions)).state_with(
            MONITORING,
            CollectorStatus::Partial,
            vec![CallError::new(
                EAST,
                "DescribeAlarms",
                "Http404",
                "not served",
            )],
            vec![RegionState {
                region: EAST.into(),
                status: CollectorStatus::Partial,
            }],
        );
        let (status, reason, found) = b.outcome(RULE);
        assert_eq!(status, RuleStatus::Partial);
        assert!(
            reason.contains("DescribeAlarms Http404 in us-east-1"),
            "{reason}"
        );
        assert!(
            reason.contains(
                "CloudWatch.1 (usage of the root user): metric filter f0 covers the \
                             item, but the alarms of us-east-1 could not be read"
            ),
            "{reason}"
        );
        // The one item no filter covers is a finding all the same.
        let resources: Vec<&str> = found.iter().map(|f| f.resource.as_str()).collect();
        assert_eq!(resources, ["CIS 4.15"]);
        // A trail whose status is unknown: no finding at all.
        let b = bundle(&[trail(None)], covered_but(1)).collected(MONITORING);
        let (status, reason, found) = b.outcome(RULE);
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("status could not be read"), "{reason}");
        assert!(found.is_empty());
    }

    #[test]
    fn not_run_is_not_evaluated() {
        let (status, reason, _) = Bundle::new().outcome(RULE);
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("cis-monitoring was not run"), "{reason}");
    }

    #[test]
    fn a_file_of_another_shape_is_not_evaluated_rather_than_passed() {
        let b = bundle(&[trail(Some(true))], covered_but(0))
            .file(MetricFilterRow::PATH, "region,filter_name\nus-east-1,f\n")
            .collected(MONITORING);
        let (status, reason, _) = b.outcome(RULE);
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(
            reason.contains("filter_pattern")
                && reason.contains("missing in evidence/cis-monitoring/metric-filters.csv"),
            "{reason}"
        );
    }
}
