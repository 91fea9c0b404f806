//! The CloudTrail answers turned into the types `trails.json` keeps them as (declared in the
//! evidence contract, `crate::contract::cloudtrail`).

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use aws_sdk_cloudtrail::types as api;

use crate::collectors::rfc3339;
use crate::contract::cloudtrail::{
    AdvancedSelector, BasicSelector, DataResource, EventSelectors, FieldSelector, TrailDescription,
    TrailStatus,
};

impl From<&api::Trail> for TrailDescription {
    fn from(t: &api::Trail) -> Self {
        TrailDescription {
            name: t.name.clone(),
            trail_arn: t.trail_arn.clone(),
            home_region: t.home_region.clone(),
            is_multi_region_trail: t.is_multi_region_trail,
            is_organization_trail: t.is_organization_trail,
            include_global_service_events: t.include_global_service_events,
            log_file_validation_enabled: t.log_file_validation_enabled,
            kms_key_id: t.kms_key_id.clone(),
            s3_bucket_name: t.s3_bucket_name.clone(),
            s3_key_prefix: t.s3_key_prefix.clone(),
            sns_topic_arn: t.sns_topic_arn.clone(),
            cloud_watch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn.clone(),
            cloud_watch_logs_role_arn: t.cloud_watch_logs_role_arn.clone(),
            has_custom_event_selectors: t.has_custom_event_selectors,
            has_insight_selectors: t.has_insight_selectors,
        }
    }
}

impl From<&GetTrailStatusOutput> for TrailStatus {
    fn from(s: &GetTrailStatusOutput) -> Self {
        let time = |t: &Option<aws_smithy_types::DateTime>| t.as_ref().map(rfc3339);
        TrailStatus {
            is_logging: s.is_logging,
            latest_delivery_error: s.latest_delivery_error.clone(),
            latest_notification_error: s.latest_notification_error.clone(),
            latest_delivery_time: time(&s.latest_delivery_time),
            latest_notification_time: time(&s.latest_notification_time),
            start_logging_time: time(&s.start_logging_time),
            stop_logging_time: time(&s.stop_logging_time),
            latest_cloud_watch_logs_delivery_error: s
                .latest_cloud_watch_logs_delivery_error
                .clone(),
            latest_cloud_watch_logs_delivery_time: time(&s.latest_cloud_watch_logs_delivery_time),
            latest_digest_delivery_time: time(&s.latest_digest_delivery_time),
            latest_digest_delivery_error: s.latest_digest_delivery_error.clone(),
            latest_delivery_attempt_time: s.latest_delivery_attempt_time.clone(),
            latest_notification_attempt_time: s.latest_notification_attempt_time.clone(),
            latest_notification_attempt_succeeded: s.latest_notification_attempt_succeeded.clone(),
            latest_delivery_attempt_succeeded: s.latest_delivery_attempt_succeeded.clone(),
            time_logging_started: s.time_logging_started.clone(),
            time_logging_stopped: s.time_logging_stopped.clone(),
        }
    }
}

impl From<&GetEventSelectorsOutput> for EventSelectors {
    fn from(o: &GetEventSelectorsOutput) -> Self {
        EventSelectors {
            trail_arn: o.trail_arn.clone(),
            event_selectors: o.event_selectors.as_ref().map(|list| {
                list.iter()
                    .map(|s| BasicSelector {
                        read_write_type: s.read_write_type.as_ref().map(|t| t.as_str().to_string()),
                        include_management_events: s.include_management_events,
                        data_resources: s.data_resources.as_ref().map(|resources| {
                            resources
                                .iter()
                                .map(|r| DataResource {
                                    r#type: r.r#type.clone(),
                                    values: r.values.clone(),
                                })
                                .collect()
                        }),
                        exclude_management_event_sources: s
                            .exclude_management_event_sources
                            .clone(),
                    })
                    .collect()
            }),
            advanced_event_selectors: o.advanced_event_selectors.as_ref().map(|list| {
                list.iter()
                    .map(|s| AdvancedSelector {
                        name: s.name.clone(),
                        field_selectors: s
                            .field_selectors
                            .iter()
                            .map(|f| FieldSelector {
                                field: f.field.clone(),
                                equals: f.equals.clone(),
                                starts_with: f.starts_with.clone(),
                                ends_with: f.ends_with.clone(),
                                not_equals: f.not_equals.clone(),
                                not_starts_with: f.not_starts_with.clone(),
                                not_ends_with: f.not_ends_with.clone(),
                            })
                            .collect(),
                    })
                    .collect()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_responses_keep_the_api_member_names() {
        let json = serde_json::to_value(TrailDescription {
            trail_arn: Some("arn".into()),
            sns_topic_arn: Some("topic".into()),
            cloud_watch_logs_log_group_arn: Some("group".into()),
            s3_bucket_name: Some("bucket".into()),
            ..TrailDescription::default()
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "TrailARN": "arn",
                "SnsTopicARN": "topic",
                "CloudWatchLogsLogGroupArn": "group",
                "S3BucketName": "bucket",
            })
        );
        let status = serde_json::to_value(TrailStatus {
            latest_cloud_watch_logs_delivery_error: Some("x".into()),
            ..TrailStatus::default()
        })
        .unwrap();
        assert_eq!(
            status,
            serde_json::json!({"LatestCloudWatchLogsDeliveryError": "x"})
        );
        let data = serde_json::to_value(DataResource {
            r#type: Some("AWS::S3::Object".into()),
            values: None,
        })
        .unwrap();
        assert_eq!(data, serde_json::json!({"Type": "AWS::S3::Object"}));
    }
}
