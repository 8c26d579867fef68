//! Ed25519 device identity (§2.6): the device id is the hex SHA-256 of the raw public key, the
//! nonce is the challenge's, `signedAt` is within ±10 minutes, and the signature covers the
//! `v2|…` or `v3|…` payload.

use super::connect_params::{ConnectParams, DeviceParams};
use super::errors::BridgeError;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// How far `signedAt` may be from the server's clock.
pub const MAX_SKEW_MS: i64 = 10 * 60 * 1000;

/// What the signature covers besides the device itself.
pub struct SignedContext<'a> {
    pub challenge_nonce: &'a str,
    pub now_ms: i64,
}

/// base64url (padded or not; standard alphabet tolerated).
fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let t = s.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .or_else(|| STANDARD.decode(s.trim()).ok())
}

fn device_err(detail: &'static str, message: impl Into<String>) -> BridgeError {
    BridgeError::Device {
        detail,
        message: message.into(),
    }
}

/// The signed payloads, v3 first: `v2|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce`
/// and the v3 form with `|platform|deviceFamily` appended (lower-cased).
pub fn signed_payloads(p: &ConnectParams, d: &DeviceParams) -> [String; 2] {
    let token = p
        .auth
        .token
        .as_deref()
        .or(p.auth.device_token.as_deref())
        .unwrap_or("");
    let scopes = p.scopes.as_deref().unwrap_or(&[]).join(",");
    let v2_tail = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        d.id,
        p.client.id.as_deref().unwrap_or(""),
        p.client.mode.as_deref().unwrap_or(""),
        p.role,
        scopes,
        d.signed_at,
        token,
        d.nonce.as_deref().unwrap_or("")
    );
    let platform = p.client.platform.as_deref().unwrap_or("").to_lowercase();
    let family = p
        .client
        .device_family
        .as_deref()
        .unwrap_or("")
        .to_lowercase();
    [
        format!("v3|{v2_tail}|{platform}|{family}"),
        format!("v2|{v2_tail}"),
    ]
}

/// Verifies the device of a connect request; Ok carries the verified device id.
pub fn verify(
    p: &ConnectParams,
    d: &DeviceParams,
    ctx: &SignedContext<'_>,
) -> Result<String, BridgeError> {
    let key_bytes: [u8; 32] = decode_b64(&d.public_key)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            device_err(
                "DEVICE_AUTH_PUBLIC_KEY_INVALID",
                "device publicKey must be base64url of a raw 32-byte Ed25519 key",
            )
        })?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| {
        device_err(
            "DEVICE_AUTH_PUBLIC_KEY_INVALID",
            "device publicKey is not a valid Ed25519 point",
        )
    })?;
    let expected_id = hex::encode(Sha256::digest(key_bytes));
    if !d.id.eq_ignore_ascii_case(&expected_id) {
        return Err(device_err(
            "DEVICE_AUTH_DEVICE_ID_MISMATCH",
            "device id must be the lowercase hex SHA-256 of the raw public key",
        ));
    }
    if d.nonce.as_deref() != Some(ctx.challenge_nonce) {
        return Err(device_err(
            "DEVICE_AUTH_NONCE_MISMATCH",
            "device nonce must equal the connect.challenge nonce",
        ));
    }
    if (ctx.now_ms - d.signed_at).abs() > MAX_SKEW_MS {
        return Err(device_err(
            "DEVICE_AUTH_SIGNATURE_EXPIRED",
            "device signedAt is more than 10 minutes from the server clock",
        ));
    }
    let sig_bytes: [u8; 64] = decode_b64(&d.signature)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            device_err(
                "DEVICE_AUTH_SIGNATURE_INVALID",
                "device signature must be base64url of 64 bytes",
            )
        })?;
    let sig = Signature::from_bytes(&sig_bytes);
    let ok = signed_payloads(p, d)
        .iter()
        .any(|payload| key.verify(payload.as_bytes(), &sig).is_ok());
    if !ok {
        return Err(device_err(
            "DEVICE_AUTH_SIGNATURE_INVALID",
            "device signature does not verify over the v2 or v3 connect payload",
        ));
    }
    Ok(expected_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

    const NONCE: &str = "5f0c3c1e-1111-4222-8333-444455556666";
    const NOW: i64 = 1_700_000_000_000;

    fn signed(
        version: &str,
        tamper: impl FnOnce(&mut serde_json::Value),
    ) -> (ConnectParams, DeviceParams) {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let id = hex::encode(Sha256::digest(pk));
        let scopes = "operator.read,operator.write";
        let base = format!("{id}|cli|cli|operator|{scopes}|{NOW}|mk_tok|{NONCE}");
        let payload = if version == "v3" {
            format!("v3|{base}|linux|")
        } else {
            format!("v2|{base}")
        };
        let mut raw = json!({
            "minProtocol": 3, "maxProtocol": 4, "role": "operator",
            "client": {"id": "cli", "mode": "cli", "platform": "Linux"},
            "scopes": ["operator.read", "operator.write"], "auth": {"token": "mk_tok"},
            "device": {"id": id, "publicKey": URL_SAFE_NO_PAD.encode(pk), "nonce": NONCE, "signedAt": NOW,
                       "signature": URL_SAFE_NO_PAD.encode(sk.sign(payload.as_bytes()).to_bytes())}
        });
        tamper(&mut raw);
        let p = ConnectParams::parse(&raw).unwrap();
        let d = p.device.clone().unwrap();
        (p, d)
    }

    fn check(p: &ConnectParams, d: &DeviceParams) -> Result<String, &'static str> {
        verify(
            p,
            d,
            &SignedContext {
                challenge_nonce: NONCE,
                now_ms: NOW,
            },
        )
        .map_err(|e| match e {
            BridgeError::Device { detail, .. } => detail,
            _ => "other",
        })
    }

    #[test]
    fn v2_and_v3_signatures_verify() {
        for v in ["v2", "v3"] {
            let (p, d) = signed(v, |_| {});
            assert_eq!(check(&p, &d).unwrap(), d.id, "{v} must verify");
        }
    }

    type Tamper = fn(&mut serde_json::Value);

    #[test]
    fn each_kind_of_bad_device_gets_its_code() {
        let cases: [(&str, Tamper); 6] = [
            ("DEVICE_AUTH_NONCE_MISMATCH", |r| {
                r["device"]["nonce"] = json!("other")
            }),
            ("DEVICE_AUTH_SIGNATURE_EXPIRED", |r| {
                r["device"]["signedAt"] = json!(NOW - MAX_SKEW_MS - 1)
            }),
            ("DEVICE_AUTH_DEVICE_ID_MISMATCH", |r| {
                r["device"]["id"] = json!("00")
            }),
            ("DEVICE_AUTH_PUBLIC_KEY_INVALID", |r| {
                r["device"]["publicKey"] = json!("AAAA")
            }),
            ("DEVICE_AUTH_SIGNATURE_INVALID", |r| {
                r["scopes"] = json!(["operator.admin"])
            }),
            ("DEVICE_AUTH_SIGNATURE_INVALID", |r| {
                r["auth"]["token"] = json!("mk_other")
            }),
        ];
        for (code, tamper) in cases {
            let (p, d) = signed("v3", tamper);
            assert_eq!(check(&p, &d).unwrap_err(), code);
        }
    }
}
