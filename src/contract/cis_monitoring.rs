//! The files of the `cis-monitoring` collector (see `crate::collectors::cis_monitoring`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "cis-monitoring",
    tables: {
        TrailRow => "trails.csv",
        MetricFilterRow => "metric-filters.csv",
        AlarmRow => "alarms.csv",
        SubscriptionRow => "subscriptions.csv",
        MonitoringItemRow => "monitoring-items.csv",
    },
    documents: {},
}

/// One row of `trails.csv`: a trail seen by DescribeTrails (deduplicated by ARN) with what
/// decides whether its log group is the one monitored: multi-region, logging and the CloudWatch
/// Logs log group it sends to.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailRow {
    pub home_region: String,
    pub name: String,
    pub trail_arn: String,
    pub is_multi_region_trail: Option<bool>,
    pub is_organization_trail: Option<bool>,
    /// GetTrailStatus' IsLogging, asked only of a trail that could be monitored (multi-region,
    /// with a log group): empty for the others, and when the call failed.
    pub is_logging: Option<bool>,
    /// CloudWatchLogsLogGroupArn as DescribeTrails returns it (`arn:...:log-group:NAME:*`).
    pub cloudwatch_logs_log_group_arn: String,
    /// The log group's region and name, from that ARN (empty when the trail sends none).
    pub log_group_region: String,
    pub log_group_name: String,
}

/// One row of `metric-filters.csv`: a metric filter of a monitored log group
/// (DescribeMetricFilters) and one of its metric transformations.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricFilterRow {
    pub region: String,
    pub log_group_name: String,
    pub filter_name: String,
    pub filter_pattern: String,
    pub metric_namespace: String,
    pub metric_name: String,
    pub metric_value: String,
    pub creation_time: String,
}

/// One row of `alarms.csv`: a metric alarm (DescribeAlarms) on the metric of a collected metric
/// filter.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRow {
    pub region: String,
    pub alarm_name: String,
    pub alarm_arn: String,
    pub metric_namespace: String,
    pub metric_name: String,
    /// `NAME=VALUE` items.
    pub dimensions: cell::List,
    pub statistic: String,
    pub comparison_operator: String,
    pub threshold: Option<f64>,
    pub evaluation_periods: Option<i32>,
    pub period: Option<i32>,
    /// Whether the alarm's actions run on a state change.
    pub actions_enabled: Option<bool>,
    /// The ARNs the alarm notifies when it goes to ALARM.
    pub alarm_actions: cell::List,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state_value: String,
}

/// One row of `subscriptions.csv`: a subscription of an SNS topic an alarm notifies
/// (ListSubscriptionsByTopic).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRow {
    pub region: String,
    pub topic_arn: String,
    /// The subscription's ARN, or `PendingConfirmation` while the endpoint has not confirmed.
    pub subscription_arn: String,
    pub protocol: String,
    /// The endpoint; for `http`/`https` only the scheme and host (the path of a webhook URL can
    /// hold its secret token).
    pub endpoint: String,
    pub owner: String,
}

/// What the evidence says of one monitoring item.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemCoverage {
    /// A metric filter on a multi-region logging trail's log group covers it, with an alarm
    /// whose topic has a confirmed subscription.
    Covered,
    /// Nothing covers it, and every call that could have shown otherwise succeeded.
    NotCovered,
    /// Not known: a call that could have shown a cover failed (see `detail`).
    #[default]
    Unknown,
}

/// One row of `monitoring-items.csv`: a monitoring item of CIS AWS Foundations v3.0 section 4
/// (`crate::judge::metric_filter::ITEMS`) and the chain that covers it, or why none does.
/// Derived from the other tables by `crate::judge::monitoring`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitoringItemRow {
    /// `CloudWatch.1` ... `CloudWatch.14`, `CIS 4.15`.
    pub item: String,
    pub cis: String,
    pub title: String,
    pub coverage: ItemCoverage,
    pub trail_arn: String,
    pub log_group: String,
    pub filter_name: String,
    /// `NAMESPACE/NAME` of the filter's metric.
    pub metric: String,
    pub alarm_name: String,
    pub topic_arn: String,
    /// Why the item is not covered, or what is not known.
    pub detail: String,
}
