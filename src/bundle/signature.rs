//! `manifest.json.sig`: an SSHSIG signature (OpenSSH's `PROTOCOL.sshsig`, namespace
//! [`NAMESPACE`], SHA-512) of the exact bytes of a bundle's `manifest.json`, and the
//! `allowed_signers` file that says whose signatures count. The format is OpenSSH's own, so an
//! auditor checks a bundle with stock `ssh-keygen -Y verify`; this module only reads, checks and
//! assembles signatures (the keys that make them live in [`crate::bundle`]'s callers).
//!
//! Both files come from anywhere: each is read up to a bounded size ([`MAX_SIGNATURE_BYTES`],
//! [`MAX_ALLOWED_SIGNERS_BYTES`]), parsed without panicking, and every refusal says why.

use ssh_key::public::{EcdsaPublicKey, KeyData, RsaPublicKey};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, LineEnding, Mpint, PublicKey, Signature, SshSig};

/// The signature's file name, beside `manifest.json` at the bundle's top (never elsewhere).
pub const SIGNATURE_FILE: &str = "manifest.json.sig";
/// The SSHSIG namespace every bundle signature is made for (`ssh-keygen -Y ... -n`).
pub const NAMESPACE: &str = "soc2-evidence";
/// The largest signature file read: an armored RSA-16384 signature is under 8 KiB.
pub const MAX_SIGNATURE_BYTES: u64 = 16 << 10;
/// The largest `allowed_signers` file read.
pub const MAX_ALLOWED_SIGNERS_BYTES: u64 = 1 << 20;

/// A parsed signature file.
#[derive(Debug, Clone)]
pub struct BundleSignature {
    sig: SshSig,
}

impl BundleSignature {
    /// Parses an armored SSHSIG (`-----BEGIN SSH SIGNATURE-----`), refusing anything longer than
    /// [`MAX_SIGNATURE_BYTES`].
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
            return Err(format!(
                "{SIGNATURE_FILE} is {} bytes, more than the {MAX_SIGNATURE_BYTES} a signature \
                 may have",
                bytes.len()
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| format!("{SIGNATURE_FILE} is not text (an armored SSH signature)"))?;
        let sig = SshSig::from_pem(text.trim_end()).map_err(|e| {
            format!(
                "{SIGNATURE_FILE} is not a readable SSH signature ({e}); expected \
                 -----BEGIN SSH SIGNATURE-----"
            )
        })?;
        Ok(BundleSignature { sig })
    }

    /// The signing key's fingerprint, `SHA256:...` as `ssh-keygen -l` shows it.
    pub fn fingerprint(&self) -> String {
        self.sig
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }

    /// The signature's algorithm (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`, ...).
    pub fn algorithm(&self) -> String {
        self.sig.algorithm().to_string()
    }

    /// The namespace the signature was made for (untrusted text).
    pub fn namespace(&self) -> &str {
        self.sig.namespace()
    }

    /// Checks the signature of `manifest` against `signers`: the namespace must be
    /// [`NAMESPACE`], the signature must verify over `manifest`, and its key must be listed for
    /// this namespace (for `identity`, when given). Returns the signer's principals.
    pub fn check(
        &self,
        manifest: &[u8],
        signers: &AllowedSigners,
        identity: Option<&str>,
    ) -> Result<String, String> {
        let fingerprint = self.fingerprint();
        if self.sig.namespace() != NAMESPACE {
            return Err(format!(
                "the signature was made for the namespace \"{}\", not \"{NAMESPACE}\": it is not \
                 a bundle signature",
                self.sig.namespace()
            ));
        }
        let key = PublicKey::new(self.sig.public_key().clone(), "");
        key.verify(NAMESPACE, manifest, &self.sig).map_err(|_| {
            format!(
                "the signature (key {fingerprint}) does not match manifest.json: the manifest \
                 changed after it was signed, or the signature is another bundle's"
            )
        })?;
        let with_key: Vec<&SignerEntry> = signers
            .entries
            .iter()
            .filter(|e| e.key.key_data() == self.sig.public_key())
            .collect();
        if with_key.is_empty() {
            return Err(format!(
                "the signing key {fingerprint} is not in the allowed signers file"
            ));
        }
        let for_identity: Vec<&&SignerEntry> = with_key
            .iter()
            .filter(|e| identity.is_none_or(|id| pattern_list_matches(&e.principals, id)))
            .collect();
        let Some(first) = for_identity.first() else {
            return Err(format!(
                "the signing key {fingerprint} is in the allowed signers file, but not for \
                 \"{}\" (it is listed for \"{}\")",
                identity.unwrap_or_default(),
                with_key
                    .iter()
                    .map(|e| e.principals.as_str())
                    .collect::<Vec<_>>()
                    .join("\", \"")
            ));
        };
        let allowed = for_identity.iter().find(|e| {
            e.namespaces
                .as_deref()
                .is_none_or(|list| pattern_list_matches(list, NAMESPACE))
        });
        match allowed {
            Some(entry) => Ok(identity.unwrap_or(&entry.principals).to_string()),
            None => Err(format!(
                "the allowed signers file restricts the key {fingerprint} to the namespaces \
                 \"{}\", not \"{NAMESPACE}\"",
                first.namespaces.as_deref().unwrap_or_default()
            )),
        }
    }
}

/// One usable line of an `allowed_signers` file.
#[derive(Debug, Clone)]
struct SignerEntry {
    principals: String,
    namespaces: Option<String>,
    key: PublicKey,
}

/// An `allowed_signers` file (ssh-keygen(1), ALLOWED SIGNERS): `principals [options] key`.
/// `cert-authority` lines and lines with `valid-after`/`valid-before` are not used (noted in
/// [`AllowedSigners::notes`]): they never make a signature count.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    entries: Vec<SignerEntry>,
    /// Lines left out, with the reason, for the report.
    pub notes: Vec<String>,
}

impl AllowedSigners {
    /// Parses the file's bytes; a malformed line is an error naming its number.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() as u64 > MAX_ALLOWED_SIGNERS_BYTES {
            return Err(format!(
                "the allowed signers file is {} bytes, more than the {MAX_ALLOWED_SIGNERS_BYTES} \
                 it may have",
                bytes.len()
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "the allowed signers file is not UTF-8 text".to_string())?;
        let mut signers = AllowedSigners::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("allowed signers line {number}: {why}");
            let mut fields = Fields(line);
            let principals = fields.next().ok_or_else(|| bad("no principals"))?;
            let principals = unquote(principals);
            let mut next = fields.next().ok_or_else(|| bad("no key"))?;
            let mut options = None;
            if Algorithm::new(next).is_err() {
                options = Some(next);
                next = fields
                    .next()
                    .ok_or_else(|| bad("no key after the options"))?;
            }
            let key_type = next;
            let key_b64 = fields.next().ok_or_else(|| bad("no key after its type"))?;
            let key = PublicKey::from_openssh(&format!("{key_type} {key_b64}"))
                .map_err(|e| bad(&format!("not a readable public key ({e})")))?;
            let mut namespaces = None;
            let mut skip = None;
            for option in options.map(split_options).unwrap_or_default() {
                let (name, value) = match option.split_once('=') {
                    Some((name, value)) => (name, Some(unquote(value))),
                    None => (option.as_str(), None),
                };
                match name.to_ascii_lowercase().as_str() {
                    "namespaces" => namespaces = value,
                    "cert-authority" => {
                        skip = Some("cert-authority (certificates are not accepted: list the signing key itself)")
                    }
                    "valid-after" | "valid-before" => {
                        skip = Some("valid-after/valid-before (validity periods are not evaluated: list the key without them)")
                    }
                    _ => return Err(bad(&format!("unknown option \"{name}\""))),
                }
            }
            if let Some(why) = skip {
                signers.notes.push(format!(
                    "allowed signers line {number} ({principals}) not used: {why}"
                ));
                continue;
            }
            signers.entries.push(SignerEntry {
                principals,
                namespaces,
                key,
            });
        }
        Ok(signers)
    }
}

/// Whitespace-separated fields, where a double-quoted run keeps its spaces.
struct Fields<'a>(&'a str);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0.trim_start();
        if rest.is_empty() {
            return None;
        }
        let mut quoted = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                !quoted && c.is_whitespace()
            })
            .map_or(rest.len(), |(i, _)| i);
        self.0 = &rest[end..];
        Some(&rest[..end])
    }
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

/// Splits `a,b="x,y",c` at the commas outside quotes.
fn split_options(options: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out
}

/// OpenSSH's pattern lists: comma-separated `*`/`?` patterns, `!pattern` excluding.
fn pattern_list_matches(list: &str, name: &str) -> bool {
    let mut found = false;
    for pattern in list.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        if glob(pattern.as_bytes(), name.as_bytes()) {
            if negated {
                return false;
            }
            found = true;
        }
    }
    found
}

fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The allowed_signers line for `key`: `IDENTITY namespaces="soc2-evidence" <key>`.
pub fn allowed_signers_line(identity: &str, key: &KeyData) -> Result<String, String> {
    let key = PublicKey::new(key.clone(), "")
        .to_openssh()
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
    Ok(format!("{identity} namespaces=\"{NAMESPACE}\" {key}"))
}

/// The bytes a signer signs for `manifest` (SSHSIG's signed data, SHA-512).
pub fn signed_data(manifest: &[u8]) -> Vec<u8> {
    SshSig::signed_data(NAMESPACE, HashAlg::Sha512, manifest).expect("the namespace is not empty")
}

/// Assembles the armored signature file from a raw signature over [`signed_data`], after
/// checking that it verifies (a key that signs something else is caught before it is written).
pub fn assemble(key: &KeyData, signature: Signature, manifest: &[u8]) -> Result<Vec<u8>, String> {
    let sig = SshSig::new(key.clone(), NAMESPACE, HashAlg::Sha512, signature)
        .map_err(|e| format!("cannot build the SSH signature: {e}"))?;
    armor(&sig, key, manifest)
}

/// Armors a finished SSHSIG after checking it against `manifest`.
pub fn armor(sig: &SshSig, key: &KeyData, manifest: &[u8]) -> Result<Vec<u8>, String> {
    PublicKey::new(key.clone(), "")
        .verify(NAMESPACE, manifest, sig)
        .map_err(|e| format!("the signature made does not verify over the manifest ({e})"))?;
    let mut text = sig
        .to_pem(LineEnding::LF)
        .map_err(|e| format!("cannot armor the signature: {e}"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text.into_bytes())
}

/// An ECDSA P-256 signature in DER (`ECDSA-Sig-Value`, as AWS KMS returns it) in SSH form
/// (`mpint r, mpint s`).
pub fn ecdsa_p256_from_der(der: &[u8]) -> Result<Signature, String> {
    let bad = || "KMS returned an ECDSA signature that is not DER SEQUENCE { r, s }".to_string();
    let mut input = der;
    let seq = der_take(&mut input, 0x30).ok_or_else(bad)?;
    if !input.is_empty() {
        return Err(bad());
    }
    let mut inner = seq;
    let r = der_take(&mut inner, 0x02).ok_or_else(bad)?;
    let s = der_take(&mut inner, 0x02).ok_or_else(bad)?;
    if !inner.is_empty() {
        return Err(bad());
    }
    let mut data = Vec::new();
    for int in [r, s] {
        let int = strip_zeros(int);
        if int.is_empty() || int.len() > 32 {
            return Err(bad());
        }
        push_mpint(&mut data, int);
    }
    Signature::new(
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        },
        data,
    )
    .map_err(|e| format!("KMS returned an unusable ECDSA signature: {e}"))
}

/// An RSA PKCS#1 v1.5 SHA-512 signature as `rsa-sha2-512`.
pub fn rsa_sha512(raw: &[u8]) -> Result<Signature, String> {
    Signature::new(
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
        raw.to_vec(),
    )
    .map_err(|e| format!("KMS returned an unusable RSA signature: {e}"))
}

/// The kind of key a DER `SubjectPublicKeyInfo` holds, as far as signing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    Rsa,
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The SSH public key of a DER `SubjectPublicKeyInfo` (what kms:GetPublicKey returns): ECDSA
/// P-256 or RSA; anything else is refused.
pub fn public_key_from_spki(der: &[u8]) -> Result<(KeyKind, KeyData), String> {
    let bad = |why: &str| format!("the public key is not a usable SubjectPublicKeyInfo: {why}");
    let mut input = der;
    let mut spki = der_take(&mut input, 0x30).ok_or_else(|| bad("no SEQUENCE"))?;
    let mut alg = der_take(&mut spki, 0x30).ok_or_else(|| bad("no algorithm"))?;
    let bits = der_take(&mut spki, 0x03).ok_or_else(|| bad("no key bits"))?;
    let oid = der_take(&mut alg, 0x06).ok_or_else(|| bad("no algorithm id"))?;
    let key = match bits {
        [0, key @ ..] => key,
        _ => return Err(bad("key bits with unused bits")),
    };
    if oid == OID_EC_PUBLIC_KEY {
        let curve = der_take(&mut alg, 0x06).ok_or_else(|| bad("no curve"))?;
        if curve != OID_P256 {
            return Err(
                "the key is an elliptic-curve key on another curve than P-256 (ECC_NIST_P256 is \
                 the one SSH signatures and this tool support)"
                    .into(),
            );
        }
        let point = EcdsaPublicKey::from_sec1_bytes(key)
            .map_err(|e| bad(&format!("not a P-256 point ({e})")))?;
        return Ok((KeyKind::EcdsaP256, KeyData::Ecdsa(point)));
    }
    if oid == OID_RSA {
        let mut inner = key;
        let mut rsa = der_take(&mut inner, 0x30).ok_or_else(|| bad("no RSA key"))?;
        let n = der_take(&mut rsa, 0x02).ok_or_else(|| bad("no modulus"))?;
        let e = der_take(&mut rsa, 0x02).ok_or_else(|| bad("no exponent"))?;
        let mpint =
            |b: &[u8]| Mpint::from_positive_bytes(strip_zeros(b)).map_err(|e| bad(&format!("{e}")));
        return Ok((
            KeyKind::Rsa,
            KeyData::Rsa(RsaPublicKey {
                e: mpint(e)?,
                n: mpint(n)?,
            }),
        ));
    }
    Err("the key is neither ECC_NIST_P256 nor RSA".into())
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn push_mpint(out: &mut Vec<u8>, positive: &[u8]) {
    let pad = positive.first().is_some_and(|b| b & 0x80 != 0);
    let len = positive.len() + usize::from(pad);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    if pad {
        out.push(0);
    }
    out.extend_from_slice(positive);
}

/// Takes one DER element of tag `tag` (definite length) off the front of `input`.
fn der_take<'a>(input: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[count..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    *input = rest;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_PUB: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPP37Cm3modtVZ4MLZygrj409Km6ujcznRxmXepgrzPk";

    #[test]
    fn allowed_signers_lines_are_read_with_their_options() {
        let text = format!(
            "# auditors\n\nci@example.com namespaces=\"soc2-evidence,git\" {ED_PUB} comment\n\
             \"a b,c\" {ED_PUB}\nca@x cert-authority {ED_PUB}\nold@x valid-before=\"20200101\" {ED_PUB}\n"
        );
        let signers = AllowedSigners::parse(text.as_bytes()).unwrap();
        assert_eq!(signers.entries.len(), 2);
        assert_eq!(signers.entries[0].principals, "ci@example.com");
        assert_eq!(
            signers.entries[0].namespaces.as_deref(),
            Some("soc2-evidence,git")
        );
        assert_eq!(signers.entries[1].principals, "a b,c");
        assert_eq!(signers.notes.len(), 2, "{:?}", signers.notes);
        assert!(signers.notes[0].contains("cert-authority"));
    }

    #[test]
    fn malformed_allowed_signers_are_refused_with_the_line() {
        for (text, why) in [
            ("alone\n", "line 1: no key"),
            ("a ssh-ed25519\n", "line 1: no key after its type"),
            (
                "a ssh-ed25519 AAAA!!\n",
                "line 1: not a readable public key",
            ),
        ] {
            let err = AllowedSigners::parse(text.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
        let err = AllowedSigners::parse(format!("# x\na bogus=1 {ED_PUB}\n").as_bytes());
        assert!(err.unwrap_err().contains("line 2: unknown option"));
        assert!(AllowedSigners::parse(&[0xff, 0xfe]).is_err());
        let huge = vec![b'#'; (MAX_ALLOWED_SIGNERS_BYTES + 1) as usize];
        assert!(AllowedSigners::parse(&huge)
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn patterns_match_as_openssh_does() {
        assert!(pattern_list_matches("*@example.com", "ci@example.com"));
        assert!(pattern_list_matches("a,b?", "bc"));
        assert!(!pattern_list_matches("*,!ci@*", "ci@example.com"));
        assert!(!pattern_list_matches("git", "soc2-evidence"));
        assert!(pattern_list_matches("*", ""));
    }

    #[test]
    fn garbage_signatures_are_refused_not_panicked_on() {
        for bytes in [
            &b""[..],
            b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
            b"\xff\xfe",
            b"-----BEGIN SSH SIGNATURE-----\n",
        ] {
            assert!(BundleSignature::parse(bytes).is_err());
        }
        let huge = vec![b'A'; (MAX_SIGNATURE_BYTES + 1) as usize];
        assert!(BundleSignature::parse(&huge)
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn der_ecdsa_signatures_become_ssh_mpints() {
        // r with its high bit set (a leading 0 in DER and in the mpint), s short.
        let mut r = vec![0x00, 0x80];
        r.extend([1u8; 31]);
        let der = [
            &[0x30, 2 + 33 + 2 + 1, 0x02, 33][..],
            &r,
            &[0x02, 1, 0x05][..],
        ]
        .concat();
        let sig = ecdsa_p256_from_der(&der).unwrap();
        let data = sig.as_bytes();
        assert_eq!(&data[..5], &[0, 0, 0, 33, 0]);
        assert_eq!(&data[data.len() - 5..], &[0, 0, 0, 1, 5]);
        for bad in [
            &[][..],
            &[0x30, 0],
            &[0x30, 3, 2, 1, 1],
            &der[..der.len() - 1],
        ] {
            assert!(ecdsa_p256_from_der(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn der_lengths_never_read_past_the_input() {
        let mut input: &[u8] = &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff];
        assert!(der_take(&mut input, 0x30).is_none());
        let mut input: &[u8] = &[0x30, 0x81];
        assert!(der_take(&mut input, 0x30).is_none());
        assert!(public_key_from_spki(&[0x30, 0x03, 0x30, 0x01, 0x06]).is_err());
    }
}
