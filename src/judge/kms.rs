//! KMS logic (pure): whether automatic key rotation applies to a key, from the attributes
//! DescribeKey reports. The `kms-key-rotation` collector uses it to decide which keys to ask
//! GetKeyRotationStatus about and for its `in_scope` column; the `kms-rotation` rule judges the
//! scope again from the recorded attributes.

/// Whether automatic rotation applies to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationScope {
    InScope,
    /// Every reason the key is out of scope, `; `-joined.
    OutOfScope(String),
    /// Nothing rules the key out, but DescribeKey did not say enough to rule it in.
    Undetermined(String),
}

/// Rotation applies to KeyManager CUSTOMER, KeySpec SYMMETRIC_DEFAULT, Origin AWS_KMS and
/// KeyState Enabled (SPEC section 4; the keys `EnableKeyRotation` accepts that are in use).
pub fn rotation_scope(
    key_manager: Option<&str>,
    key_spec: Option<&str>,
    origin: Option<&str>,
    key_state: Option<&str>,
) -> RotationScope {
    let mut reasons = Vec::new();
    let mut missing = Vec::new();
    match key_manager {
        None => missing.push("KeyManager"),
        Some("CUSTOMER") => {}
        Some("AWS") => reasons.push("AWS managed key".to_string()),
        Some(other) => reasons.push(format!("key manager {other}")),
    }
    match key_spec {
        None => missing.push("KeySpec"),
        Some("SYMMETRIC_DEFAULT") => {}
        Some(spec) if spec.starts_with("HMAC_") => reasons.push(format!("HMAC key spec {spec}")),
        Some(spec)
            if ["RSA_", "ECC_", "SM2", "ML_DSA_"]
                .iter()
                .any(|prefix| spec.starts_with(prefix)) =>
        {
            reasons.push(format!("asymmetric key spec {spec}"))
        }
        Some(spec) => reasons.push(format!("key spec {spec}")),
    }
    match origin {
        None => missing.push("Origin"),
        Some("AWS_KMS") => {}
        Some(other) => reasons.push(format!("origin {other}")),
    }
    match key_state {
        None => missing.push("KeyState"),
        Some("Enabled") => {}
        Some("PendingDeletion") => reasons.push("pending deletion".to_string()),
        Some("PendingReplicaDeletion") => reasons.push("pending replica deletion".to_string()),
        Some(other) => reasons.push(format!("key state {other}")),
    }
    if !reasons.is_empty() {
        RotationScope::OutOfScope(reasons.join("; "))
    } else if !missing.is_empty() {
        RotationScope::Undetermined(format!("undetermined: {} not reported", missing.join(", ")))
    } else {
        RotationScope::InScope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(manager: &str, spec: &str, origin: &str, state: &str) -> RotationScope {
        rotation_scope(Some(manager), Some(spec), Some(origin), Some(state))
    }

    fn out(reason: &str) -> RotationScope {
        RotationScope::OutOfScope(reason.to_string())
    }

    #[test]
    fn enabled_symmetric_customer_keys_of_kms_origin_are_in_scope() {
        assert_eq!(
            scope("CUSTOMER", "SYMMETRIC_DEFAULT", "AWS_KMS", "Enabled"),
            RotationScope::InScope
        );
    }

    #[test]
    fn every_other_key_says_why_it_is_out_of_scope() {
        let cases = [
            (
                ["AWS", "SYMMETRIC_DEFAULT", "AWS_KMS", "Enabled"],
                "AWS managed key",
            ),
            (
                ["CUSTOMER", "RSA_2048", "AWS_KMS", "Enabled"],
                "asymmetric key spec RSA_2048",
            ),
            (
                ["CUSTOMER", "ECC_NIST_P256", "AWS_KMS", "Enabled"],
                "asymmetric key spec ECC_NIST_P256",
            ),
            (
                ["CUSTOMER", "HMAC_256", "AWS_KMS", "Enabled"],
                "HMAC key spec HMAC_256",
            ),
            (
                ["CUSTOMER", "SYMMETRIC_DEFAULT", "EXTERNAL", "Enabled"],
                "origin EXTERNAL",
            ),
            (
                ["CUSTOMER", "SYMMETRIC_DEFAULT", "AWS_KMS", "Disabled"],
                "key state Disabled",
            ),
            (
                [
                    "CUSTOMER",
                    "SYMMETRIC_DEFAULT",
                    "AWS_KMS",
                    "PendingDeletion",
                ],
                "pending deletion",
            ),
            // Every reason, in a fixed order.
            (
                ["CUSTOMER", "RSA_4096", "EXTERNAL", "PendingImport"],
                "asymmetric key spec RSA_4096; origin EXTERNAL; key state PendingImport",
            ),
        ];
        for ([manager, spec, origin, state], reason) in cases {
            assert_eq!(scope(manager, spec, origin, state), out(reason), "{reason}");
        }
    }

    #[test]
    fn absent_attributes_are_not_guessed() {
        assert_eq!(
            rotation_scope(Some("CUSTOMER"), None, Some("AWS_KMS"), Some("Enabled")),
            RotationScope::Undetermined("undetermined: KeySpec not reported".into())
        );
        // What is reported can still rule a key out.
        assert_eq!(
            rotation_scope(Some("AWS"), None, None, None),
            out("AWS managed key")
        );
    }
}
