//! The `connect` request's params (§2.3) and protocol negotiation (§2.4). Unknown keys are
//! ignored; only `minProtocol` and `maxProtocol` are required.

use super::errors::BridgeError;
use super::frames::Proto;
use super::params::Params;
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientInfo {
    pub id: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub mode: Option<String>,
    pub display_name: Option<String>,
    pub instance_id: Option<String>,
    pub device_family: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthParams {
    pub token: Option<String>,
    pub password: Option<String>,
    pub device_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceParams {
    pub id: String,
    pub public_key: String,
    pub signature: String,
    pub signed_at: i64,
    pub nonce: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectParams {
    pub min_protocol: i64,
    pub max_protocol: i64,
    pub client: ClientInfo,
    pub role: String,
    /// Requested scopes as sent (the device signature covers them in this order).
    pub scopes: Option<Vec<String>>,
    pub auth: AuthParams,
    pub device: Option<DeviceParams>,
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl ConnectParams {
    pub fn parse(raw: &Value) -> Result<Self, BridgeError> {
        let p = Params::new("connect", raw)?;
        let min_protocol = p.int_required("minProtocol", 0, i64::from(u32::MAX))?;
        let max_protocol = p.int_required("maxProtocol", 0, i64::from(u32::MAX))?;
        let c = p.object("client")?;
        let client = ClientInfo {
            id: owned(c.str_opt("id")?),
            version: owned(c.str_opt("version")?),
            platform: owned(c.str_opt("platform")?),
            mode: owned(c.str_opt("mode")?),
            display_name: owned(c.str_opt("displayName")?),
            instance_id: owned(c.str_opt("instanceId")?),
            device_family: owned(c.str_opt("deviceFamily")?),
        };
        let a = p.object("auth")?;
        let auth = AuthParams {
            token: owned(a.str_opt("token")?),
            password: a
                .str_opt("password")?
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            device_token: owned(a.str_opt("deviceToken")?),
        };
        let device = match p.value("device") {
            None => None,
            Some(_) => {
                let d = p.object("device")?;
                Some(DeviceParams {
                    id: d.str_required("id").map_err(|_| p.err("device.id is required: expected a hex string"))?.to_string(),
                    public_key: d
                        .str_required("publicKey")
                        .map_err(|_| p.err("device.publicKey is required: expected base64url of the raw Ed25519 key"))?
                        .to_string(),
                    signature: d
                        .str_required("signature")
                        .map_err(|_| p.err("device.signature is required: expected base64url"))?
                        .to_string(),
                    signed_at: d
                        .int_required("signedAt", 0, i64::MAX)
                        .map_err(|_| p.err("device.signedAt is required: expected epoch milliseconds"))?,
                    nonce: owned(d.str_opt("nonce")?),
                })
            }
        };
        Ok(ConnectParams {
            min_protocol,
            max_protocol,
            client,
            role: owned(p.str_opt("role")?).unwrap_or_else(|| "operator".to_string()),
            scopes: p
                .str_list_opt("scopes")?
                .map(|v| v.into_iter().map(str::to_string).collect()),
            auth,
            device,
        })
    }

    /// The highest version in `[minProtocol, maxProtocol] ∩ {3, 4}`.
    pub fn negotiate(&self) -> Option<Proto> {
        let within = |v: i64| self.min_protocol <= v && v <= self.max_protocol;
        if within(4) {
            Some(Proto::V4)
        } else if within(3) {
            Some(Proto::V3)
        } else {
            None
        }
    }

    /// How to render a handshake error before negotiation succeeded: clients that cannot
    /// speak 4 are protocol-3 clients.
    pub fn error_proto(&self) -> Proto {
        if self.max_protocol >= 4 {
            Proto::V4
        } else {
            Proto::V3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(min: i64, max: i64) -> ConnectParams {
        ConnectParams::parse(&json!({"minProtocol": min, "maxProtocol": max})).unwrap()
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(params(3, 3).negotiate(), Some(Proto::V3));
        assert_eq!(params(3, 4).negotiate(), Some(Proto::V4));
        assert_eq!(params(1, 9).negotiate(), Some(Proto::V4));
        assert_eq!(params(4, 4).negotiate(), Some(Proto::V4));
        assert_eq!(params(5, 6).negotiate(), None);
        assert_eq!(params(1, 2).negotiate(), None);
        assert_eq!(
            params(4, 3).negotiate(),
            None,
            "an empty range matches nothing"
        );
        assert_eq!(
            params(1, 2).error_proto(),
            Proto::V3,
            "a client that tops out below 4 is a protocol-3 client"
        );
    }

    #[test]
    fn full_openclaw_connect_parses_and_unknown_keys_are_ignored() {
        let p = ConnectParams::parse(&json!({
            "minProtocol": 3, "maxProtocol": 4, "caps": [], "locale": "en",
            "client": {"id": "cli", "mode": "cli", "version": "1.0", "platform": "linux", "extra": true},
            "role": "operator", "scopes": ["operator.read", "operator.write"],
            "auth": {"token": "mk_x"},
            "device": {"id": "ab", "publicKey": "pk", "signature": "sig", "signedAt": 5, "nonce": "n"}
        }))
        .unwrap();
        assert_eq!(p.client.id.as_deref(), Some("cli"));
        assert_eq!(
            p.scopes,
            Some(vec![
                "operator.read".to_string(),
                "operator.write".to_string()
            ])
        );
        assert_eq!(p.auth.token.as_deref(), Some("mk_x"));
        assert_eq!(p.device.unwrap().signed_at, 5);
    }

    #[test]
    fn missing_protocol_bounds_and_bad_devices_are_named() {
        let err = ConnectParams::parse(&json!({"maxProtocol": 3})).unwrap_err();
        assert!(
            format!("{err:?}").contains("minProtocol is required"),
            "{err:?}"
        );
        let err =
            ConnectParams::parse(&json!({"minProtocol":3,"maxProtocol":3,"device":{"id":"x"}}))
                .unwrap_err();
        assert!(
            format!("{err:?}").contains("device.publicKey is required"),
            "{err:?}"
        );
        let p = ConnectParams::parse(&json!({"minProtocol":3,"maxProtocol":3})).unwrap();
        assert_eq!(p.role, "operator", "role defaults to operator");
    }
}
