//! `ec2-instances`: every EC2 instance of each covered region with how its instance metadata
//! service (IMDS) may be reached, and whether new EBS volumes are encrypted by default.
//!
//! Calls per region, concurrently: `DescribeInstances` (paginated with the largest page, 1000
//! instances) and `GetEbsEncryptionByDefault`.
//! Permissions: `ec2:DescribeInstances`, `ec2:GetEbsEncryptionByDefault`.
//! Controls: CC6.1, CC6.6.
//! Files (tables declared in `crate::contract::ec2_instances`):
//! - `instances.csv`: one row per instance: region, instance_id, name (its `Name` tag), state,
//!   instance_type, launch_time, vpc_id, subnet_id, image_id, iam_instance_profile (ARN),
//!   public_ip, and its MetadataOptions: metadata_state, http_endpoint (`enabled`/`disabled`),
//!   http_tokens (`optional`: IMDSv1 allowed; `required`: IMDSv2 only),
//!   http_put_response_hop_limit, http_protocol_ipv6, instance_metadata_tags; security_groups.
//! - `instances.json`: the same instances with every member listed above as DescribeInstances
//!   returned it (PascalCase), tags included.
//! - `ebs-encryption.csv`: one row per covered region: instances_listed (every page of
//!   DescribeInstances was read), instance_count, ebs_encryption_by_default and sse_type from
//!   GetEbsEncryptionByDefault (empty when that call failed).
//!
//! The two calls of a region stand apart: a failed one is an error of the region (partial) and
//! its row says what is missing, so the rules over the other call still judge the region.

use aws_sdk_ec2::types::Instance;
use serde::Serialize;

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::ec2_instances::{EbsRegionRow, InstanceRow};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::ec2_instances::ID,
    title: "EC2 instances' metadata service options and EBS encryption by default",
    controls: &[Control::Cc6_1, Control::Cc6_6],
    scope: Scope::Regional,
    permissions: &["ec2:DescribeInstances", "ec2:GetEbsEncryptionByDefault"],
    run,
    optional_permissions: &[],
};

/// The largest page DescribeInstances allows.
const PAGE_SIZE: i32 = 1000;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

/// An instance as DescribeInstances returned it (the members `instances.csv` is made of), with
/// its region; its row is not part of the JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceJson {
    #[serde(skip)]
    row: InstanceRow,
    region: String,
    instance_id: Option<String>,
    state: Option<String>,
    instance_type: Option<String>,
    launch_time: Option<String>,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
    image_id: Option<String>,
    iam_instance_profile: Option<String>,
    public_ip_address: Option<String>,
    metadata_options: Option<MetadataOptionsJson>,
    security_groups: Vec<String>,
    tags: Vec<TagJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataOptionsJson {
    state: Option<String>,
    http_tokens: Option<String>,
    http_put_response_hop_limit: Option<i32>,
    http_endpoint: Option<String>,
    http_protocol_ipv6: Option<String>,
    instance_metadata_tags: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagJson {
    key: Option<String>,
    value: Option<String>,
}

fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_string)
}

fn instance_json(region: &str, i: &Instance) -> InstanceJson {
    let metadata = i.metadata_options().map(|m| MetadataOptionsJson {
        state: m.state().map(|v| v.as_str().to_string()),
        http_tokens: m.http_tokens().map(|v| v.as_str().to_string()),
        http_put_response_hop_limit: m.http_put_response_hop_limit(),
        http_endpoint: m.http_endpoint().map(|v| v.as_str().to_string()),
        http_protocol_ipv6: m.http_protocol_ipv6().map(|v| v.as_str().to_string()),
        instance_metadata_tags: m.instance_metadata_tags().map(|v| v.as_str().to_string()),
    });
    let security_groups: Vec<String> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut json = InstanceJson {
        row: InstanceRow::default(),
        region: region.to_string(),
        instance_id: owned(i.instance_id()),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string()),
        instance_type: i.instance_type().map(|t| t.as_str().to_string()),
        launch_time: i.launch_time().map(rfc3339),
        vpc_id: owned(i.vpc_id()),
        subnet_id: owned(i.subnet_id()),
        image_id: owned(i.image_id()),
        iam_instance_profile: i
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_string),
        public_ip_address: owned(i.public_ip_address()),
        metadata_options: metadata,
        security_groups,
        tags: i
            .tags()
            .iter()
            .map(|t| TagJson {
                key: owned(t.key()),
                value: owned(t.value()),
            })
            .collect(),
    };
    let m = json.metadata_options.as_ref();
    let option = |f: fn(&MetadataOptionsJson) -> &Option<String>| {
        m.and_then(|m| f(m).clone()).unwrap_or_default()
    };
    json.row = InstanceRow {
        region: region.to_string(),
        instance_id: text(&json.instance_id),
        name: i
            .tags()
            .iter()
            .find(|t| t.key() == Some("Name"))
            .and_then(|t| t.value())
            .unwrap_or_default()
            .to_string(),
        state: text(&json.state),
        instance_type: text(&json.instance_type),
        launch_time: text(&json.launch_time),
        vpc_id: text(&json.vpc_id),
        subnet_id: text(&json.subnet_id),
        image_id: text(&json.image_id),
        iam_instance_profile: text(&json.iam_instance_profile),
        public_ip: text(&json.public_ip_address),
        metadata_state: option(|m| &m.state),
        http_endpoint: option(|m| &m.http_endpoint),
        http_tokens: option(|m| &m.http_tokens),
        http_put_response_hop_limit: m.and_then(|m| m.http_put_response_hop_limit),
        http_protocol_ipv6: option(|m| &m.http_protocol_ipv6),
        instance_metadata_tags: option(|m| &m.instance_metadata_tags),
        security_groups: json.security_groups.iter().cloned().collect(),
    };
    json
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| async move {
        let ec2 = ctx.clients.ec2(&region);
        let (reservations, ebs) = tokio::join!(
            ec2.describe_instances()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .items()
                .send()
                .try_collect(),
            ec2.get_ebs_encryption_by_default().send()
        );
        let mut errors = Vec::new();
        let mut row = EbsRegionRow {
            region: region.clone(),
            ..EbsRegionRow::default()
        };
        let mut instances = Vec::new();
        match reservations {
            Ok(reservations) => {
                for reservation in reservations {
                    for instance in reservation.instances() {
                        instances.push(instance_json(&region, instance));
                    }
                }
                row.instances_listed = true;
                row.instance_count = Some(instances.len() as u64);
            }
            Err(e) => errors.push(CallError::from_sdk(&region, "DescribeInstances", &e)),
        }
        match ebs {
            Ok(output) => {
                row.ebs_encryption_by_default = output.ebs_encryption_by_default();
                row.sse_type = output
                    .sse_type()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
            }
            Err(e) => errors.push(CallError::from_sdk(
                &region,
                "GetEbsEncryptionByDefault",
                &e,
            )),
        }
        instances.sort_by(|a, b| a.row.instance_id.cmp(&b.row.instance_id));
        Ok(RegionOutput {
            value: (row, instances),
            errors,
        })
    })
    .await?;
    let mut rows = Vec::new();
    let mut instances = Vec::new();
    for (_, (row, mut listed)) in regions {
        rows.push(row);
        instances.append(&mut listed);
    }
    out.table_with_twin(&instances, |i| i.row.clone())?;
    out.table(&rows)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        HttpTokensState, InstanceMetadataEndpointState, InstanceMetadataOptionsResponse,
        InstanceState, InstanceStateName, Tag,
    };

    #[test]
    fn the_row_carries_the_metadata_options_and_the_name_tag() {
        let instance = Instance::builder()
            .instance_id("i-1")
            .state(
                InstanceState::builder()
                    .name(InstanceStateName::Running)
                    .build(),
            )
            .tags(Tag::builder().key("Name").value("web").build())
            .metadata_options(
                InstanceMetadataOptionsResponse::builder()
                    .http_tokens(HttpTokensState::Optional)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .http_put_response_hop_limit(2)
                    .build(),
            )
            .build();
        let json = instance_json("us-east-1", &instance);
        assert_eq!(json.row.name, "web");
        assert_eq!(json.row.state, "running");
        assert_eq!(json.row.http_tokens, "optional");
        assert_eq!(json.row.http_endpoint, "enabled");
        assert_eq!(json.row.http_put_response_hop_limit, Some(2));
        assert_eq!(json.row.metadata_state, "");
        let value = serde_json::to_value(&json).unwrap();
        assert_eq!(value["MetadataOptions"]["HttpTokens"], "optional");
        assert_eq!(value["Tags"][0]["Value"], "web");
        assert!(value.get("Row").is_none());

        // No metadata options reported: every cell stays empty, nothing is assumed.
        let bare = instance_json("us-east-1", &Instance::builder().instance_id("i-2").build());
        assert_eq!(bare.row.http_tokens, "");
        assert_eq!(bare.row.http_put_response_hop_limit, None);
    }
}
