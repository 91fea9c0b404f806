//! Signing a bundle's manifest (README "Signing"): with an OpenSSH private key (a file, or its
//! text in an environment variable for CI) or with an asymmetric AWS KMS key through kms:Sign,
//! so the private key never leaves KMS. Either way the result is the armored SSHSIG of
//! [`crate::bundle::signature`], checked against the public key before it is written.
//!
//! Calls (KMS only): kms:GetPublicKey once when the signer is opened (before any evidence is
//! collected, so a wrong key or a missing permission costs nothing), kms:Sign (MessageType RAW)
//! once per bundle. Permissions: those two on the key. The key text of a file or variable is
//! never logged, never written, and never quoted in an error.

use std::path::PathBuf;

use aws_config::BehaviorVersion;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use aws_types::region::Region;
use aws_types::SdkConfig;
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, Signature};

use crate::bundle::signature::{self, KeyKind, NAMESPACE};
use crate::bundle::{writer, BundlePaths, Staging};
use crate::error::Error;

/// The largest private key file read (an RSA-16384 key is about 13 KiB).
const MAX_KEY_BYTES: u64 = 64 << 10;

/// Where the signing key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignWith {
    /// `--sign-key FILE`: an unencrypted OpenSSH private key.
    KeyFile(PathBuf),
    /// `--sign-key-env VAR`: the same key's text in an environment variable.
    KeyEnv(String),
    /// `--sign-kms-key KEY`: an asymmetric KMS key (id, alias or ARN).
    Kms(String),
}

impl SignWith {
    /// How errors name the key (never its text).
    pub fn describe(&self) -> String {
        match self {
            SignWith::KeyFile(path) => format!("the key file {}", path.display()),
            SignWith::KeyEnv(var) => format!("the key in the environment variable {var}"),
            SignWith::Kms(key) => format!("the KMS key {key}"),
        }
    }
}

/// An opened signer: its public key is known.
pub struct Signer {
    what: String,
    kind: Kind,
}

enum Kind {
    Local(Box<PrivateKey>),
    Kms {
        client: aws_sdk_kms::Client,
        key_id: String,
        key_kind: KeyKind,
        public: KeyData,
    },
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("key", &self.what).finish()
    }
}

const KEY_FIX: &str =
    "pass an unencrypted OpenSSH private key (ed25519, ECDSA P-256 or RSA), such \
                       as `ssh-keygen -t ed25519 -N '' -f soc2-signing-key` makes, or a KMS key \
                       with --sign-kms-key";
const KMS_FIX: &str = "pass an asymmetric KMS key with key usage SIGN_VERIFY and key spec \
                       ECC_NIST_P256 or RSA_2048/3072/4096 (its id, alias or ARN), and allow \
                       kms:GetPublicKey and kms:Sign on it to the credentials in use";

impl Signer {
    /// Opens the signer: reads and checks a local key, or asks KMS for the key's public key.
    /// `sdk` is the run's AWS configuration; without one (report, merge, signer) the standard
    /// chain's is loaded, and only for a KMS key.
    pub async fn open(with: &SignWith, sdk: Option<&SdkConfig>) -> Result<Signer, Error> {
        let what = with.describe();
        let refuse = |reason: String, fix: &str| Error::Signing {
            key: what.clone(),
            reason,
            fix: fix.to_string(),
        };
        let kind = match with {
            SignWith::KeyFile(path) => {
                let text = read_key_file(path).map_err(|r| refuse(r, KEY_FIX))?;
                Kind::Local(Box::new(parse_key(&text).map_err(|r| refuse(r, KEY_FIX))?))
            }
            SignWith::KeyEnv(var) => {
                let text = match std::env::var(var) {
                    Ok(text) if !text.trim().is_empty() => text,
                    Ok(_) => return Err(refuse("the variable is empty".into(), KEY_FIX)),
                    Err(std::env::VarError::NotPresent) => {
                        return Err(refuse("the variable is not set".into(), KEY_FIX))
                    }
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(refuse("the variable is not text".into(), KEY_FIX))
                    }
                };
                Kind::Local(Box::new(parse_key(&text).map_err(|r| refuse(r, KEY_FIX))?))
            }
            SignWith::Kms(key_id) => {
                let loaded;
                let sdk = match sdk {
                    Some(sdk) => sdk,
                    None => {
                        loaded = load_default_sdk().await;
                        &loaded
                    }
                };
                let mut config = aws_sdk_kms::config::Builder::from(sdk);
                if let Some(region) = arn_region(key_id) {
                    config = config.region(Region::new(region));
                }
                let client = aws_sdk_kms::Client::from_conf(config.build());
                let answer = client
                    .get_public_key()
                    .key_id(key_id)
                    .send()
                    .await
                    .map_err(|e| {
                        // Named as every failed call is (an endpoint's bare HTTP status included).
                        let crate::vocab::CallError { code, message, .. } =
                            crate::vocab::CallError::from_sdk("", "GetPublicKey", &e);
                        refuse(
                            format!("kms:GetPublicKey failed: {code}: {message}"),
                            KMS_FIX,
                        )
                    })?;
                if let Some(usage) = answer.key_usage() {
                    if usage.as_str() != "SIGN_VERIFY" {
                        return Err(refuse(
                            format!("its key usage is {}, not SIGN_VERIFY", usage.as_str()),
                            KMS_FIX,
                        ));
                    }
                }
                let der = answer.public_key().map(Blob::as_ref).unwrap_or_default();
                let (key_kind, public) =
                    signature::public_key_from_spki(der).map_err(|r| refuse(r, KMS_FIX))?;
                Kind::Kms {
                    client,
                    key_id: key_id.clone(),
                    key_kind,
                    public,
                }
            }
        };
        Ok(Signer { what, kind })
    }

    /// [`Signer::open`] for callers without a runtime (`report`, `merge`, `signer`).
    pub fn open_blocking(with: &SignWith) -> Result<Signer, Error> {
        runtime()?.block_on(Signer::open(with, None))
    }

    /// The signer's public key.
    pub fn public_key(&self) -> &KeyData {
        match &self.kind {
            Kind::Local(key) => key.public_key().key_data(),
            Kind::Kms { public, .. } => public,
        }
    }

    /// The `allowed_signers` line naming `identity` for this signer.
    pub fn allowed_signers_line(&self, identity: &str) -> Result<String, Error> {
        signature::allowed_signers_line(identity, self.public_key()).map_err(|reason| {
            Error::Signing {
                key: self.what.clone(),
                reason,
                fix: KEY_FIX.into(),
            }
        })
    }

    /// Signs the exact bytes of `manifest.json`; returns the signature file's bytes.
    pub async fn sign(&self, manifest: &[u8]) -> Result<Vec<u8>, Error> {
        let refuse = |reason: String, fix: &str| Error::Signing {
            key: self.what.clone(),
            reason,
            fix: fix.to_string(),
        };
        match &self.kind {
            Kind::Local(key) => {
                if let Some(rsa) = key.key_data().rsa() {
                    let sig = sign_rsa(rsa, &signature::signed_data(manifest))
                        .map_err(|r| refuse(r, KEY_FIX))?;
                    return signature::assemble(key.public_key().key_data(), sig, manifest)
                        .map_err(|r| refuse(r, KEY_FIX));
                }
                let sig = key
                    .sign(NAMESPACE, HashAlg::Sha512, manifest)
                    .map_err(|e| refuse(format!("signing failed: {e}"), KEY_FIX))?;
                signature::armor(&sig, key.public_key().key_data(), manifest)
                    .map_err(|r| refuse(r, KEY_FIX))
            }
            Kind::Kms {
                client,
                key_id,
                key_kind,
                public,
            } => {
                let algorithm = match key_kind {
                    KeyKind::EcdsaP256 => SigningAlgorithmSpec::EcdsaSha256,
                    KeyKind::Rsa => SigningAlgorithmSpec::RsassaPkcs1V15Sha512,
                };
                let answer = client
                    .sign()
                    .key_id(key_id)
                    .message(Blob::new(signature::signed_data(manifest)))
                    .message_type(MessageType::Raw)
                    .signing_algorithm(algorithm)
                    .send()
                    .await
                    .map_err(|e| {
                        // Named as every failed call is (an endpoint's bare HTTP status included).
                        let crate::vocab::CallError { code, message, .. } =
                            crate::vocab::CallError::from_sdk("", "Sign", &e);
                        refuse(format!("kms:Sign failed: {code}: {message}"), KMS_FIX)
                    })?;
                let raw = answer.signature().map(Blob::as_ref).unwrap_or_default();
                let sig = match key_kind {
                    KeyKind::EcdsaP256 => signature::ecdsa_p256_from_der(raw),
                    KeyKind::Rsa => signature::rsa_sha512(raw),
                }
                .map_err(|r| refuse(r, KMS_FIX))?;
                signature::assemble(public, sig, manifest).map_err(|r| refuse(r, KMS_FIX))
            }
        }
    }

    /// [`Signer::sign`] for callers without a runtime.
    pub fn sign_blocking(&self, manifest: &[u8]) -> Result<Vec<u8>, Error> {
        runtime()?.block_on(self.sign(manifest))
    }
}

/// Writes the bundle's manifest and, with a signer, its signature, then zips and places the
/// bundle ([`Staging::finish_signed`]). The signature is made over the very bytes written.
pub async fn finish<M: serde::Serialize>(
    staging: Staging,
    manifest: &M,
    signer: Option<&Signer>,
) -> Result<BundlePaths, Error> {
    let bytes = writer::manifest_bytes(manifest);
    let signature = match signer {
        Some(signer) => Some(signer.sign(&bytes).await?),
        None => None,
    };
    staging.finish_signed(&bytes, signature.as_deref())
}

/// [`finish`] for callers without a runtime (`report`, `merge`).
pub fn finish_blocking<M: serde::Serialize>(
    staging: Staging,
    manifest: &M,
    signer: Option<&Signer>,
) -> Result<BundlePaths, Error> {
    let bytes = writer::manifest_bytes(manifest);
    let signature = match signer {
        Some(signer) => Some(signer.sign_blocking(&bytes)?),
        None => None,
    };
    staging.finish_signed(&bytes, signature.as_deref())
}

/// `rsa-sha2-512` (RSASSA-PKCS1-v1_5 with SHA-512) over `data`. ssh-key 0.6.7 cannot: its
/// conversion to an `rsa` key passes the prime p twice instead of p and q.
fn sign_rsa(keypair: &ssh_key::private::RsaKeypair, data: &[u8]) -> Result<Signature, String> {
    use rsa::signature::{SignatureEncoding, Signer as _};
    use rsa::traits::PublicKeyParts;
    let big = |m: &ssh_key::Mpint| {
        rsa::BigUint::try_from(m).map_err(|e| format!("the RSA key is not usable: {e}"))
    };
    let key = rsa::RsaPrivateKey::from_components(
        big(&keypair.public.n)?,
        big(&keypair.public.e)?,
        big(&keypair.private.d)?,
        vec![big(&keypair.private.p)?, big(&keypair.private.q)?],
    )
    .map_err(|e| format!("the RSA key is not usable: {e}"))?;
    if key.size() * 8 < 2048 {
        return Err("the RSA key is shorter than 2048 bits".into());
    }
    let signed = rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(key)
        .try_sign(data)
        .map_err(|e| format!("RSA signing failed: {e}"))?;
    signature::rsa_sha512(&signed.to_vec())
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Signing {
            key: "the signing key".into(),
            reason: format!("cannot start the async runtime: {e}"),
            fix: "run again".into(),
        })
}

/// The standard chain's configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...), with
/// us-east-1 when no region is configured.
async fn load_default_sdk() -> SdkConfig {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    if config.region().is_none() {
        return config
            .to_builder()
            .region(Region::new(crate::aws::DEFAULT_HOME_REGION))
            .build();
    }
    config
}

/// The region of a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), which is where the key is.
fn arn_region(key: &str) -> Option<String> {
    let mut parts = key.split(':');
    let (Some("arn"), _, Some("kms"), Some(region)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (!region.is_empty()).then(|| region.to_string())
}

fn read_key_file(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(|e| format!("cannot read it: {e}"))?
        .take(MAX_KEY_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|_| "it is not a text file (an OpenSSH private key)".to_string())?;
    if text.len() as u64 > MAX_KEY_BYTES {
        return Err(format!(
            "it is larger than the {MAX_KEY_BYTES} bytes a private key may have"
        ));
    }
    Ok(text)
}

/// Parses an OpenSSH private key, refusing encrypted keys and unsupported algorithms. Errors
/// never quote the text.
fn parse_key(text: &str) -> Result<PrivateKey, String> {
    let key = PrivateKey::from_openssh(text.trim()).map_err(|_| {
        "it is not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----; a PEM key \
         converts with `ssh-keygen -p -N '' -f FILE`)"
            .to_string()
    })?;
    if key.is_encrypted() {
        return Err(
            "the key is encrypted with a passphrase, which this tool cannot ask for; keep an \
             unencrypted key in a secret store (--sign-key-env) or use --sign-kms-key"
                .into(),
        );
    }
    match key.algorithm() {
        Algorithm::Ed25519
        | Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        }
        | Algorithm::Rsa { .. } => Ok(key),
        other => Err(format!(
            "its algorithm {other} is not supported (ed25519, ecdsa-sha2-nistp256 and RSA are)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_arns_name_their_region() {
        assert_eq!(
            arn_region("arn:aws:kms:eu-west-1:111122223333:key/abc").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("alias/soc2-signing"), None);
        assert_eq!(arn_region("1234abcd-12ab"), None);
    }

    #[test]
    fn bad_key_text_is_refused_without_being_quoted() {
        let secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXRleHQ=\n-----END OPENSSH PRIVATE KEY-----\n";
        let err = parse_key(secret).unwrap_err();
        assert!(!err.contains("c2VjcmV0"), "{err}");
        assert!(err.contains("not an OpenSSH private key"), "{err}");
    }
}
