//! The files of the `iam-account-summary` collector (see `crate::collectors::iam_account_summary`).
//!
//! `account-summary.json` (the SummaryMap) and `account-aliases.json` are kept as the API
//! answers them and read by no rule; the rules read `root-account.json` ([`RootAccount`]).

use serde::{Deserialize, Serialize};

super::contract! {
    id: "iam-account-summary",
    tables: {
        VirtualMfaDeviceRow => "virtual-mfa-devices.csv",
    },
    documents: {
        RootAccount => "root-account.json",
    },
}

/// One row of `virtual-mfa-devices.csv` (and of its JSON twin).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VirtualMfaDeviceRow {
    pub serial_number: String,
    pub user_name: String,
    pub user_arn: String,
    pub enable_date: String,
    /// The serial ends `:mfa/root-account-mfa-device`: root's MFA is this virtual device.
    pub is_root_device: bool,
}

/// The kind of the root user's MFA device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaDevice {
    /// Root has no MFA.
    None,
    /// Root's MFA is a virtual device (in the virtual MFA device list).
    Virtual,
    /// Root has MFA and no root virtual device is listed.
    Hardware,
    /// Root has MFA; the virtual device list could not be read.
    Unknown,
}

impl MfaDevice {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaDevice::None => "none",
            MfaDevice::Virtual => "virtual",
            MfaDevice::Hardware => "hardware",
            MfaDevice::Unknown => "unknown",
        }
    }
}

/// `root-account.json`: the root user's MFA and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootAccount {
    /// SummaryMap AccountMFAEnabled = 1.
    pub mfa_enabled: bool,
    /// SummaryMap AccountAccessKeysPresent = 1.
    pub access_keys_present: bool,
    pub mfa_device: MfaDevice,
    /// `null` when the virtual device list could not be read or root has none.
    pub root_virtual_mfa_serial: Option<String>,
    pub virtual_mfa_list_read: bool,
}
