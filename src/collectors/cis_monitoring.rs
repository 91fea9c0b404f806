//! `cis-monitoring`: whether the security-relevant API activity of CIS AWS Foundations v3.0
//! section 4 raises an alarm someone receives: metric filters on the CloudWatch Logs log group of
//! a multi-region logging trail, alarms on their metrics, and the subscriptions of the alarms'
//! SNS topics.
//!
//! Calls: `DescribeTrails` (includeShadowTrails) in every covered region, the trails
//! deduplicated by TrailARN, then `GetTrailStatus` with its ARN in its home region of each trail
//! that could be monitored, multi-region and sending to CloudWatch Logs (this collector reads the
//! trails itself; it does not depend on `cloudtrail`). For each trail
//! that is multi-region, logging and sends to CloudWatch Logs, in its log group's region (from
//! CloudWatchLogsLogGroupArn): `DescribeMetricFilters` (logGroupName, 50 per page, paginated).
//! In each region with a metric filter, one `DescribeAlarms` (metric alarms, 100 per page,
//! paginated) of which the alarms on a filter's metric (namespace and name) are kept; for each
//! SNS topic among their ALARM actions, `ListSubscriptionsByTopic` (paginated) in the topic's
//! region.
//! Permissions: `cloudtrail:DescribeTrails`, `cloudtrail:GetTrailStatus`,
//! `logs:DescribeMetricFilters`, `cloudwatch:DescribeAlarms`, `sns:ListSubscriptionsByTopic`.
//! Controls: CC7.2, CC7.3.
//! Files (tables declared in `crate::contract::cis_monitoring`): `trails.csv`/`.json` (every
//! trail: multi-region, logging, its log group), `metric-filters.csv`/`.json` (the filters of
//! the monitored log groups, one row per metric transformation), `alarms.csv`/`.json` (the
//! alarms on their metrics), `subscriptions.csv`/`.json` (the subscriptions of the alarms'
//! topics; an http/https endpoint is kept as scheme and host only, since a webhook URL's path
//! can hold its secret), and `monitoring-items.csv`: one row per monitoring item (Security Hub
//! CloudWatch.1 to .14, CIS 4.15) with the trail, log group, filter, metric, alarm and topic that
//! cover it, or why none does (`crate::judge::monitoring`; the filter patterns are judged by
//! `crate::judge::metric_filter`).
//! A region whose DescribeTrails fails is failed; any other failed call is an error of its
//! region (partial), and the items it could have shown covered are `unknown`, never a pass.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::{rfc3339, Context};
use super::{CollectFuture, CollectorSpec};
use crate::contract::cis_monitoring::{
    AlarmRow, MetricFilterRow, MonitoringItemRow, SubscriptionRow, TrailRow,
};
use crate::contract::cloudtrail::{TrailDescription, TrailStatus};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::monitoring::{
    self, arn_region, is_topic, DESCRIBE_ALARMS, DESCRIBE_METRIC_FILTERS,
    LIST_SUBSCRIPTIONS_BY_TOPIC,
};
use crate::vocab::{CallError, CollectorStatus, Scope};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::cis_monitoring::ID,
    title: "CIS section 4 monitoring: metric filters and alarms on the trail's CloudWatch Logs, \
            and who their SNS topics notify",
    controls: &[Control::Cc7_2, Control::Cc7_3],
    scope: Scope::Regional,
    permissions: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudwatch:DescribeAlarms",
        "logs:DescribeMetricFilters",
        "sns:ListSubscriptionsByTopic",
    ],
    run,
    optional_permissions: &[],
};

/// The largest pages DescribeMetricFilters (limit) and DescribeAlarms (MaxRecords) allow.
const FILTERS_PAGE_SIZE: i32 = 50;
const ALARMS_PAGE_SIZE: i32 = 100;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- The answers as returned (PascalCase, absent members left out) ----

/// One element of `trails.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TrailRecord {
    #[serde(skip)]
    row: TrailRow,
    trail: TrailDescription,
    /// `null` when GetTrailStatus failed, or was not asked (a single-region trail, or one that
    /// sends to no log group).
    trail_status: Option<TrailStatus>,
}

/// A MetricFilter of DescribeMetricFilters (creationTime as RFC 3339 UTC).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_pattern: Option<String>,
    metric_transformations: Vec<MetricTransformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_group_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricTransformation {
    metric_name: String,
    metric_namespace: String,
    metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
}

/// One element of `metric-filters.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct FilterRecord {
    #[serde(skip)]
    rows: Vec<MetricFilterRow>,
    region: String,
    metric_filter: MetricFilter,
}

/// A MetricAlarm of DescribeAlarms (times RFC 3339 UTC; the metric-math `Metrics` are left
/// out: such an alarm watches no filter's metric by name).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricAlarm {
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ok_actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    insufficient_data_actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_updated_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<Vec<Dimension>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluation_periods: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison_operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    treat_missing_data: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Dimension {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

/// One element of `alarms.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AlarmRecord {
    #[serde(skip)]
    row: AlarmRow,
    region: String,
    metric_alarm: MetricAlarm,
}

/// A Subscription of ListSubscriptionsByTopic (the endpoint as in the table).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Subscription {
    #[serde(skip_serializing_if = "Option::is_none")]
    subscription_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic_arn: Option<String>,
}

/// One element of `subscriptions.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubscriptionRecord {
    #[serde(skip)]
    row: SubscriptionRow,
    region: String,
    subscription: Subscription,
}

/// A subscription endpoint as the bundle keeps it: an http or https URL as its scheme and host
/// (its path and query can carry a webhook's secret token); anything else as returned.
pub fn endpoint_kept(protocol: &str, endpoint: &str) -> String {
    if !matches!(protocol, "http" | "https") {
        return endpoint.to_string();
    }
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return String::new();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the authority (`user:pass@host`) are dropped too.
    let host = host.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// The region and name of a log group from its ARN
/// (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME` with an optional `:*`).
pub fn log_group_of(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_), Some("logs"), Some(region), Some(_), Some("log-group")) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = parts.next()?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (!region.is_empty() && !name.is_empty()).then(|| (region.to_string(), name.to_string()))
}

// ---- Collection ----

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let listed = super::cloudtrail::describe_trails(ctx, out).await?;
    let read_regions: BTreeSet<String> = listed.iter().map(|(r, _)| r.clone()).collect();
    let mut errors: Vec<CallError> = Vec::new();

    // Unique trails, their home region's view kept when it was read.
    let mut unique: BTreeMap<String, (TrailDescription, String)> = BTreeMap::new();
    for (region, trails) in &listed {
        for trail in trails {
            let key = trail
                .trail_arn
                .clone()
                .or_else(|| trail.name.clone())
                .unwrap_or_default();
            let home = super::cloudtrail::home_region(trail, region);
            let is_home = home == *region;
            let entry = unique
                .entry(key)
                .or_insert_with(|| (trail.clone(), home.clone()));
            if is_home {
                entry.0 = trail.clone();
            }
        }
    }
    let work: Vec<(String, TrailDescription, String)> = unique
        .into_iter()
        .map(|(arn, (trail, home))| (arn, trail, home))
        .collect();
    let mut trails: Vec<TrailRecord> = stream::iter(work)
        .map(|(arn, trail, home)| async move {
            // Only a trail that could be monitored needs its status.
            let candidate = trail.is_multi_region_trail != Some(false)
                && trail
                    .cloud_watch_logs_log_group_arn
                    .as_deref()
                    .and_then(log_group_of)
                    .is_some();
            let status = if candidate {
                Some(
                    ctx.clients
                        .cloudtrail(&home)
                        .get_trail_status()
                        .name(&arn)
                        .send()
                        .await
                        .map(|s| TrailStatus::from(&s))
                        .map_err(|e| CallError::from_sdk(&home, "GetTrailStatus", &e)),
                )
            } else {
                None
            };
            (arn, trail, home, status)
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .map(|(arn, trail, home, status)| {
            let (status, error) = match status {
                Some(Ok(s)) => (Some(s), None),
                Some(Err(e)) => (None, Some(e)),
                None => (None, None),
            };
            (trail_record(&arn, trail, &home, status), error)
        })
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|(record, error)| {
            errors.extend(error);
            record
        })
        .collect();
    trails.sort_by(|a, b| {
        (&a.row.home_region, &a.row.trail_arn).cmp(&(&b.row.home_region, &b.row.trail_arn))
    });

    // The metric filters of each monitored log group.
    let groups: BTreeSet<(String, String)> = trails
        .iter()
        .filter(|t| monitoring::monitored(&t.row) == Some(true))
        .map(|t| (t.row.log_group_region.clone(), t.row.log_group_name.clone()))
        .collect();
    let filter_results: Vec<Result<Vec<FilterRecord>, CallError>> = stream::iter(groups)
        .map(|(region, group)| async move {
            ctx.clients
                .logs(&region)
                .describe_metric_filters()
                .log_group_name(&group)
                .limit(FILTERS_PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map(|filters| {
                    filters
                        .iter()
                        .map(|f| filter_record(&region, &group, f))
                        .collect()
                })
                .map_err(|e| CallError::from_sdk(&region, DESCRIBE_METRIC_FILTERS, &e))
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    let mut filters: Vec<FilterRecord> = Vec::new();
    for result in filter_results {
        match result {
            Ok(records) => filters.extend(records),
            Err(e) => errors.push(e),
        }
    }
    filters.sort_by(|a, b| {
        (
            &a.region,
            &a.metric_filter.log_group_name,
            &a.metric_filter.filter_name,
        )
            .cmp(&(
                &b.region,
                &b.metric_filter.log_group_name,
                &b.metric_filter.filter_name,
            ))
    });
    let filter_rows: Vec<MetricFilterRow> = filters
        .iter()
        .flat_map(|f| f.rows.iter().cloned())
        .collect();

    // One alarm listing per region with a filter; the alarms on a filter's metric are kept.
    let mut metrics: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for row in &filter_rows {
        metrics
            .entry(row.region.clone())
            .or_default()
            .insert((row.metric_namespace.clone(), row.metric_name.clone()));
    }
    let alarm_results: Vec<Result<Vec<AlarmRecord>, CallError>> = stream::iter(metrics)
        .map(|(region, wanted)| async move {
            ctx.clients
                .cloudwatch(&region)
                .describe_alarms()
                .max_records(ALARMS_PAGE_SIZE)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map(|pages| {
                    pages
                        .iter()
                        .flat_map(|page| page.metric_alarms())
                        .filter(|a| {
                            let key = (
                                a.namespace.clone().unwrap_or_default(),
                                a.metric_name.clone().unwrap_or_default(),
                            );
                            wanted.contains(&key)
                        })
                        .map(|a| alarm_record(&region, a))
                        .collect()
                })
                .map_err(|e| CallError::from_sdk(&region, DESCRIBE_ALARMS, &e))
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    let mut alarms: Vec<AlarmRecord> = Vec::new();
    for result in alarm_results {
        match result {
            Ok(records) => alarms.extend(records),
            Err(e) => errors.push(e),
        }
    }
    alarms.sort_by(|a, b| {
        (&a.row.region, &a.row.alarm_name).cmp(&(&b.row.region, &b.row.alarm_name))
    });

    // The subscriptions of every topic the kept alarms notify.
    let topics: BTreeSet<String> = alarms
        .iter()
        .flat_map(|a| a.row.alarm_actions.iter())
        .filter(|action| is_topic(action))
        .map(str::to_string)
        .collect();
    let subscription_results: Vec<Result<Vec<SubscriptionRecord>, CallError>> =
        stream::iter(topics)
            .map(|topic| async move {
                let region = arn_region(&topic).to_string();
                ctx.clients
                    .sns(&region)
                    .list_subscriptions_by_topic()
                    .topic_arn(&topic)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map(|subs| {
                        subs.iter()
                            .map(|s| subscription_record(&region, &topic, s))
                            .collect()
                    })
                    .map_err(|e| CallError::from_sdk(&region, LIST_SUBSCRIPTIONS_BY_TOPIC, &e))
            })
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
    let mut subscriptions: Vec<SubscriptionRecord> = Vec::new();
    for result in subscription_results {
        match result {
            Ok(records) => subscriptions.extend(records),
            Err(e) => errors.push(e),
        }
    }
    subscriptions.sort_by(|a, b| {
        (&a.row.region, &a.row.topic_arn, &a.row.subscription_arn).cmp(&(
            &b.row.region,
            &b.row.topic_arn,
            &b.row.subscription_arn,
        ))
    });

    // Errors in the order of their region and operation, whatever order the calls ended in.
    errors.sort_by(|a, b| {
        (&a.region, &a.operation, &a.message).cmp(&(&b.region, &b.operation, &b.message))
    });
    let failed: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.operation.clone(), e.region.clone()))
        .collect();
    let trail_rows: Vec<TrailRow> = trails.iter().map(|t| t.row.clone()).collect();
    let alarm_rows: Vec<AlarmRow> = alarms.iter().map(|a| a.row.clone()).collect();
    let subscription_rows: Vec<SubscriptionRow> =
        subscriptions.iter().map(|s| s.row.clone()).collect();
    let items: Vec<MonitoringItemRow> = monitoring::judge(&monitoring::Evidence {
        trails: &trail_rows,
        filters: &filter_rows,
        alarms: &alarm_rows,
        subscriptions: &subscription_rows,
        failed: &failed,
    });
    for error in errors {
        if read_regions.contains(&error.region) {
            out.region(&error.region, CollectorStatus::Partial);
        }
        out.error(error);
    }

    out.table_with_twin(&trails, |t| t.row.clone())?;
    out.table(&filter_rows)?;
    out.json("metric-filters.json", &filters, Some(filters.len() as u64))?;
    out.table_with_twin(&alarms, |a| a.row.clone())?;
    out.table_with_twin(&subscriptions, |s| s.row.clone())?;
    out.table(&items)?;
    let count = |c: crate::contract::cis_monitoring::ItemCoverage| {
        items.iter().filter(|i| i.coverage == c).count()
    };
    use crate::contract::cis_monitoring::ItemCoverage;
    out.note("items_covered", count(ItemCoverage::Covered));
    out.note("items_not_covered", count(ItemCoverage::NotCovered));
    out.note("items_unknown", count(ItemCoverage::Unknown));
    let monitored: Vec<&str> = trails
        .iter()
        .filter(|t| monitoring::monitored(&t.row) == Some(true))
        .map(|t| t.row.trail_arn.as_str())
        .collect();
    if monitored.is_empty() {
        out.note(
            "no_monitored_trail",
            "no multi-region trail that is logging sends its events to CloudWatch Logs",
        );
    }
    Ok(())
}

fn trail_record(
    arn: &str,
    trail: TrailDescription,
    home: &str,
    status: Option<TrailStatus>,
) -> TrailRecord {
    let group_arn = trail
        .cloud_watch_logs_log_group_arn
        .clone()
        .unwrap_or_default();
    let (log_group_region, log_group_name) = log_group_of(&group_arn).unwrap_or_default();
    TrailRecord {
        row: TrailRow {
            home_region: home.to_string(),
            name: trail.name.clone().unwrap_or_default(),
            trail_arn: arn.to_string(),
            is_multi_region_trail: trail.is_multi_region_trail,
            is_organization_trail: trail.is_organization_trail,
            is_logging: status.as_ref().and_then(|s| s.is_logging),
            cloudwatch_logs_log_group_arn: group_arn,
            log_group_region,
            log_group_name,
        },
        trail,
        trail_status: status,
    }
}

fn filter_record(
    region: &str,
    group: &str,
    filter: &aws_sdk_cloudwatchlogs::types::MetricFilter,
) -> FilterRecord {
    let creation_time = filter
        .creation_time
        .map(|ms| rfc3339(&aws_smithy_types::DateTime::from_millis(ms)));
    let transformations: Vec<MetricTransformation> = filter
        .metric_transformations()
        .iter()
        .map(|t| MetricTransformation {
            metric_name: t.metric_name.clone(),
            metric_namespace: t.metric_namespace.clone(),
            metric_value: t.metric_value.clone(),
            default_value: t.default_value,
            dimensions: t
                .dimensions
                .as_ref()
                .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            unit: t.unit.as_ref().map(|u| u.as_str().to_string()),
        })
        .collect();
    let base = MetricFilterRow {
        region: region.to_string(),
        log_group_name: filter
            .log_group_name
            .clone()
            .unwrap_or_else(|| group.to_string()),
        filter_name: filter.filter_name.clone().unwrap_or_default(),
        filter_pattern: filter.filter_pattern.clone().unwrap_or_default(),
        creation_time: creation_time.clone().unwrap_or_default(),
        ..MetricFilterRow::default()
    };
    let rows = if transformations.is_empty() {
        vec![base.clone()]
    } else {
        transformations
            .iter()
            .map(|t| MetricFilterRow {
                metric_namespace: t.metric_namespace.clone(),
                metric_name: t.metric_name.clone(),
                metric_value: t.metric_value.clone(),
                ..base.clone()
            })
            .collect()
    };
    FilterRecord {
        rows,
        region: region.to_string(),
        metric_filter: MetricFilter {
            filter_name: filter.filter_name.clone(),
            filter_pattern: filter.filter_pattern.clone(),
            metric_transformations: transformations,
            creation_time,
            log_group_name: filter.log_group_name.clone(),
        },
    }
}

fn alarm_record(region: &str, alarm: &aws_sdk_cloudwatch::types::MetricAlarm) -> AlarmRecord {
    let text = |v: Option<&str>| v.map(str::to_string);
    let metric_alarm = MetricAlarm {
        alarm_name: alarm.alarm_name.clone(),
        alarm_arn: alarm.alarm_arn.clone(),
        alarm_description: alarm.alarm_description.clone(),
        actions_enabled: alarm.actions_enabled,
        ok_actions: alarm.ok_actions.clone(),
        alarm_actions: alarm.alarm_actions.clone(),
        insufficient_data_actions: alarm.insufficient_data_actions.clone(),
        state_value: text(alarm.state_value.as_ref().map(|s| s.as_str())),
        state_updated_timestamp: alarm.state_updated_timestamp.as_ref().map(rfc3339),
        metric_name: alarm.metric_name.clone(),
        namespace: alarm.namespace.clone(),
        statistic: text(alarm.statistic.as_ref().map(|s| s.as_str())),
        extended_statistic: alarm.extended_statistic.clone(),
        dimensions: alarm.dimensions.as_ref().map(|dims| {
            dims.iter()
                .map(|d| Dimension {
                    name: d.name.clone(),
                    value: d.value.clone(),
                })
                .collect()
        }),
        period: alarm.period,
        evaluation_periods: alarm.evaluation_periods,
        datapoints_to_alarm: alarm.datapoints_to_alarm,
        threshold: alarm.threshold,
        comparison_operator: text(alarm.comparison_operator.as_ref().map(|c| c.as_str())),
        treat_missing_data: alarm.treat_missing_data.clone(),
    };
    let row = AlarmRow {
        region: region.to_string(),
        alarm_name: alarm.alarm_name.clone().unwrap_or_default(),
        alarm_arn: alarm.alarm_arn.clone().unwrap_or_default(),
        metric_namespace: alarm.namespace.clone().unwrap_or_default(),
        metric_name: alarm.metric_name.clone().unwrap_or_default(),
        dimensions: alarm
            .dimensions()
            .iter()
            .map(|d| {
                format!(
                    "{}={}",
                    d.name.as_deref().unwrap_or_default(),
                    d.value.as_deref().unwrap_or_default()
                )
            })
            .collect(),
        statistic: metric_alarm.statistic.clone().unwrap_or_default(),
        comparison_operator: metric_alarm.comparison_operator.clone().unwrap_or_default(),
        threshold: alarm.threshold,
        evaluation_periods: alarm.evaluation_periods,
        period: alarm.period,
        actions_enabled: alarm.actions_enabled,
        alarm_actions: alarm.alarm_actions().iter().cloned().collect(),
        state_value: metric_alarm.state_value.clone().unwrap_or_default(),
    };
    AlarmRecord {
        row,
        region: region.to_string(),
        metric_alarm,
    }
}

fn subscription_record(
    region: &str,
    topic: &str,
    subscription: &aws_sdk_sns::types::Subscription,
) -> SubscriptionRecord {
    let protocol = subscription.protocol.clone().unwrap_or_default();
    let endpoint = subscription
        .endpoint
        .as_deref()
        .map(|e| endpoint_kept(&protocol, e));
    SubscriptionRecord {
        row: SubscriptionRow {
            region: region.to_string(),
            topic_arn: subscription
                .topic_arn
                .clone()
                .unwrap_or_else(|| topic.to_string()),
            subscription_arn: subscription.subscription_arn.clone().unwrap_or_default(),
            protocol,
            endpoint: endpoint.clone().unwrap_or_default(),
            owner: subscription.owner.clone().unwrap_or_default(),
        },
        region: region.to_string(),
        subscription: Subscription {
            subscription_arn: subscription.subscription_arn.clone(),
            owner: subscription.owner.clone(),
            protocol: subscription.protocol.clone(),
            endpoint,
            topic_arn: subscription.topic_arn.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_endpoints_keep_their_scheme_and_host_only() {
        assert_eq!(
            endpoint_kept(
                "https",
                "https://events.pagerduty.com/integration/0123456789abcdef/enqueue?x=1"
            ),
            "https://events.pagerduty.com"
        );
        assert_eq!(
            endpoint_kept("http", "http://user:secret@hooks.example.com:8080/t"),
            "http://hooks.example.com:8080"
        );
        assert_eq!(endpoint_kept("https", "not a url"), "");
        assert_eq!(
            endpoint_kept("email", "security@example.com"),
            "security@example.com"
        );
        assert_eq!(
            endpoint_kept("sqs", "arn:aws:sqs:us-east-1:123456789012:q"),
            "arn:aws:sqs:us-east-1:123456789012:q"
        );
    }

    #[test]
    fn log_groups_are_read_from_their_arn() {
        assert_eq!(
            log_group_of("arn:aws:logs:eu-west-1:123456789012:log-group:trail/logs:*"),
            Some(("eu-west-1".into(), "trail/logs".into()))
        );
        assert_eq!(
            log_group_of("arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:ct"),
            Some(("us-gov-west-1".into(), "ct".into()))
        );
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:logs:eu-west-1:123456789012:destination:d",
            "arn:aws:logs::123456789012:log-group:x:*",
            "arn:aws:logs:eu-west-1:123456789012:log-group::*",
        ] {
            assert_eq!(log_group_of(bad), None, "{bad}");
        }
    }
}
