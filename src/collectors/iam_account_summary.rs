//! `iam-account-summary`: account-level IAM facts, above all the root user's MFA and keys.
//!
//! Calls: `GetAccountSummary`, `ListVirtualMFADevices` (paginated, 1000 per page: the default of
//! 100 would make the calls grow with the number of MFA devices) and `ListAccountAliases`.
//! Permissions: `iam:GetAccountSummary`, `iam:ListVirtualMFADevices`, `iam:ListAccountAliases`.
//! Controls: CC6.1, CC6.2.
//! Files: `account-summary.json` (the SummaryMap), `root-account.json` (root MFA and keys, and
//! whether root's MFA is a virtual device), `virtual-mfa-devices.csv`/`.json`,
//! `account-aliases.json` (the rules' files are declared in
//! [`crate::contract::iam_account_summary`]). A virtual MFA serial ending `:mfa/root-account-mfa-device` means
//! root has no hardware MFA. Without the summary the collector fails; without the device list or
//! the aliases it is partial.

use std::collections::BTreeMap;

use super::{rfc3339, Context};
use super::{CollectFuture, CollectorSpec};
use crate::contract::iam_account_summary::{MfaDevice, RootAccount, VirtualMfaDeviceRow};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::Scope;
use crate::vocab::{CallError, GLOBAL};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::iam_account_summary::ID,
    title: "IAM account summary (root MFA and keys, MFA devices, aliases)",
    controls: &[Control::Cc6_1, Control::Cc6_2],
    scope: Scope::Global,
    permissions: &[
        "iam:GetAccountSummary",
        "iam:ListAccountAliases",
        "iam:ListVirtualMFADevices",
    ],
    run,
    optional_permissions: &[],
};

/// The note under which the account's aliases are handed to the manifest.
pub const ALIASES_NOTE: &str = "account_aliases";

const ROOT_VIRTUAL_MFA_SUFFIX: &str = ":mfa/root-account-mfa-device";

/// The largest page IAM list calls allow (MaxItems).
const PAGE_SIZE: i32 = 1000;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let iam = ctx.clients.iam();

    let summary = iam
        .get_account_summary()
        .send()
        .await
        .map_err(|e| CallError::from_sdk(GLOBAL, "GetAccountSummary", &e))?;
    let summary: BTreeMap<String, i32> = summary
        .summary_map()
        .map(|map| {
            map.iter()
                .map(|(key, value)| (key.as_str().to_string(), *value))
                .collect()
        })
        .unwrap_or_default();
    out.json("account-summary.json", &summary, None)?;

    let devices = iam
        .list_virtual_mfa_devices()
        .max_items(PAGE_SIZE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    let devices = match devices {
        Ok(devices) => {
            let rows: Vec<VirtualMfaDeviceRow> = devices
                .iter()
                .map(|device| VirtualMfaDeviceRow {
                    serial_number: device.serial_number().to_string(),
                    user_name: device
                        .user()
                        .map(|u| u.user_name().to_string())
                        .unwrap_or_default(),
                    user_arn: device
                        .user()
                        .map(|u| u.arn().to_string())
                        .unwrap_or_default(),
                    enable_date: device.enable_date().map(rfc3339).unwrap_or_default(),
                    is_root_device: device.serial_number().ends_with(ROOT_VIRTUAL_MFA_SUFFIX),
                })
                .collect();
            out.table_with_twin(&rows, VirtualMfaDeviceRow::clone)?;
            Some(rows)
        }
        Err(e) => {
            out.error(CallError::from_sdk(GLOBAL, "ListVirtualMFADevices", &e));
            None
        }
    };

    let mfa_enabled = summary.get("AccountMFAEnabled").copied().unwrap_or(0) == 1;
    let root_virtual = devices.as_ref().and_then(|rows| {
        rows.iter()
            .find(|row| row.is_root_device)
            .map(|row| row.serial_number.clone())
    });
    let root = RootAccount {
        mfa_enabled,
        access_keys_present: summary
            .get("AccountAccessKeysPresent")
            .copied()
            .unwrap_or(0)
            == 1,
        mfa_device: match (mfa_enabled, &root_virtual) {
            (false, _) => MfaDevice::None,
            (true, Some(_)) => MfaDevice::Virtual,
            (true, None) if devices.is_some() => MfaDevice::Hardware,
            (true, None) => MfaDevice::Unknown,
        },
        root_virtual_mfa_serial: root_virtual,
        virtual_mfa_list_read: devices.is_some(),
    };
    out.document(&root, None)?;

    let aliases = iam
        .list_account_aliases()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    match aliases {
        Ok(aliases) => {
            out.json("account-aliases.json", &aliases, Some(aliases.len() as u64))?;
            out.note(ALIASES_NOTE, &aliases);
        }
        Err(e) => out.error(CallError::from_sdk(GLOBAL, "ListAccountAliases", &e)),
    }
    Ok(())
}
