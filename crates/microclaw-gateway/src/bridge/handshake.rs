//! The `connect` request (§2.3–2.7): negotiation, credentials, device identity and the
//! effective scopes. Produces the connection's [`Session`] or the error to answer with.

use super::connect_params::{ClientInfo, ConnectParams};
use super::device_auth::{self, SignedContext};
use super::devices_connected::ConnectedDevice;
use super::errors::BridgeError;
use super::frames::Proto;
use super::outbound_queue::{CLOSE_POLICY, CLOSE_PROTOCOL_ERROR};
use microclaw_core::{Error, ErrorCode, Scope, ScopeSet};
use microclaw_engine::ops::devices::{self, Admit, DeviceSeen};
use microclaw_engine::{Engine, Principal};
use serde_json::{json, Value};

/// Who is connected and what they may do.
#[derive(Debug, Clone)]
pub struct Session {
    pub proto: Proto,
    /// The credential's principal with `scopes` narrowed to the effective set.
    pub principal: Principal,
    pub role: String,
    /// `token` | `password` | `device-token` (hello-ok `auth.method`).
    pub auth_method: &'static str,
    pub client: ClientInfo,
    pub device_id: Option<String>,
    /// Counts this connection as the device's while the session lives (held for its `Drop`).
    #[allow(dead_code)]
    pub device_guard: Option<ConnectedDevice>,
}

/// A failed connect: the error (rendered for `proto`) and the close code that follows.
#[derive(Debug)]
pub struct Refusal {
    pub proto: Proto,
    pub error: BridgeError,
    pub close_code: u16,
}

pub struct HandshakeInput<'a> {
    pub engine: &'a Engine,
    pub params: &'a Value,
    pub challenge_nonce: &'a str,
    pub client_addr: &'a str,
    pub cookie_principal: Option<&'a Principal>,
    /// A local page's origin other than ours (its cookie was not honoured).
    pub foreign_origin: Option<&'a str>,
}

pub async fn connect(input: HandshakeInput<'_>) -> Result<Session, Refusal> {
    let refuse = |proto, error| Refusal {
        proto,
        error,
        close_code: CLOSE_POLICY,
    };
    let p = ConnectParams::parse(input.params).map_err(|e| refuse(Proto::V3, e))?;
    let Some(proto) = p.negotiate() else {
        return Err(Refusal {
            proto: p.error_proto(),
            error: BridgeError::ProtocolMismatch,
            close_code: CLOSE_PROTOCOL_ERROR,
        });
    };
    let (principal, auth_method) = authenticate(&input, &p)
        .await
        .map_err(|e| refuse(proto, e))?;
    let scopes = ScopeSet::effective(principal.scopes, p.scopes.as_deref());
    let device_id = match &p.device {
        None => None,
        Some(d) => {
            let ctx = SignedContext {
                challenge_nonce: input.challenge_nonce,
                now_ms: input.engine.now_ms(),
            };
            let id = device_auth::verify(&p, d, &ctx).map_err(|e| refuse(proto, e))?;
            let seen = DeviceSeen {
                device_id: id.clone(),
                public_key: d.public_key.clone(),
                client_id: p.client.id.clone().unwrap_or_default(),
                client_mode: p.client.mode.clone(),
                display_name: p.client.display_name.clone(),
                platform: p.client.platform.clone(),
                device_family: p.client.device_family.clone(),
                remote_ip: Some(input.client_addr.to_string()),
                scopes: Some(scopes.to_csv()),
            };
            admit_device(input.engine, seen)
                .await
                .map_err(|e| refuse(proto, e))?;
            Some(id)
        }
    };
    // Connect needs read, held or implied (write implies it: `["operator.write"]` connects).
    if !scopes.allows(Scope::Read) {
        return Err(refuse(proto, BridgeError::MissingScope(Scope::Read)));
    }
    Ok(Session {
        proto,
        principal: Principal {
            scopes,
            ..principal
        },
        role: "operator".to_string(),
        auth_method,
        client: p.client,
        device_guard: device_id
            .as_deref()
            .map(|id| ConnectedDevice::new(input.engine, id)),
        device_id,
    })
}

async fn authenticate(
    input: &HandshakeInput<'_>,
    p: &ConnectParams,
) -> Result<(Principal, &'static str), BridgeError> {
    let engine = input.engine;
    let (result, method) = if let Some(token) = &p.auth.token {
        (engine.authenticate_token(token).await, "token")
    } else if let Some(token) = &p.auth.device_token {
        (engine.authenticate_token(token).await, "device-token")
    } else if let Some(password) = &p.auth.password {
        (
            engine
                .authenticate_password(input.client_addr, password)
                .await,
            "password",
        )
    } else if let Some(cookie) = input.cookie_principal {
        // The cookie was checked at the upgrade; check it again now (a logout in between).
        (
            engine
                .recheck_principal(cookie)
                .await
                .map(|_| cookie.clone()),
            "token",
        )
    } else {
        return Err(BridgeError::Auth {
            detail: "AUTH_TOKEN_MISSING",
            message: missing_credentials_message(input.foreign_origin),
            retry_after_ms: None,
        });
    };
    // The connect request counts against the key's request limit like any other request.
    let result = result.and_then(|principal| {
        engine.charge_request(&principal)?;
        Ok(principal)
    });
    match result {
        Ok(principal) => Ok((principal, method)),
        Err(e) => Err(match e.code {
            ErrorCode::RateLimited => BridgeError::Auth {
                detail: "AUTH_RATE_LIMITED",
                message: e.message,
                retry_after_ms: Some(e.retry_after_ms.unwrap_or(1000)),
            },
            ErrorCode::Unauthorized | ErrorCode::Forbidden | ErrorCode::InvalidRequest => {
                BridgeError::Auth {
                    detail: "AUTH_TOKEN_MISMATCH",
                    message: e.message,
                    retry_after_ms: None,
                }
            }
            _ => BridgeError::Op(e),
        }),
    }
}

/// What a connect without credentials is told; a page from another local origin learns why
/// the console's login cookie did not count for it.
fn missing_credentials_message(foreign_origin: Option<&str>) -> String {
    const NEEDS: &str =
        "connect needs auth.token (an API key, mk_…), auth.password or auth.deviceToken";
    match foreign_origin {
        None => format!("unauthorized: {NEEDS}"),
        Some(origin) => format!(
            "unauthorized: the console's login cookie is honoured only from its own origin or \
             one in server.allowed_origins, not from {origin}: {NEEDS}"
        ),
    }
}

/// The pairing verdict on a verified device (decisions.md "Devices"): a revoked one is
/// refused, an unpaired one waits when approval is required.
async fn admit_device(engine: &Engine, seen: DeviceSeen) -> Result<(), BridgeError> {
    let id = seen.device_id.clone();
    match devices::admit(engine, seen).await? {
        Admit::Allowed => Ok(()),
        Admit::Revoked => Err(BridgeError::Auth {
            detail: "DEVICE_REVOKED",
            message: format!("device {id} was revoked by the operator"),
            retry_after_ms: None,
        }),
        Admit::PairingRequired { request_id } => Err(BridgeError::Op(
            Error::invalid(format!(
                "pairing required: device {id} waits for an operator's approval \
                 (device.pair.approve {request_id}, or the Devices section of the Auth page); \
                 the request expires after 5 minutes"
            ))
            .with_details(json!({
                "code": "PAIRING_REQUIRED", "reason": "not-paired", "requestId": request_id,
            })),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effective_scopes(granted: ScopeSet, requested: Option<&[String]>) -> ScopeSet {
        ScopeSet::effective(granted, requested)
    }

    fn set(items: &[&str]) -> ScopeSet {
        ScopeSet::parse_list(items).unwrap()
    }

    #[test]
    fn effective_scopes_are_the_requested_ones_the_key_grants() {
        let rw = set(&["read", "write"]);
        assert_eq!(
            effective_scopes(rw, None),
            rw,
            "nothing requested: all of the key's"
        );
        assert_eq!(
            effective_scopes(rw, Some(&["operator.read".into()])),
            set(&["read"])
        );
        assert_eq!(
            effective_scopes(set(&["read"]), Some(&["operator.write".into()])),
            ScopeSet::EMPTY
        );
        assert_eq!(
            effective_scopes(
                set(&["admin"]),
                Some(&["operator.read".into(), "operator.write".into()])
            ),
            rw,
            "admin grants whatever is requested"
        );
        assert_eq!(
            effective_scopes(rw, Some(&["operator.talk".into()])),
            rw,
            "unknown scopes are ignored"
        );
        let w = effective_scopes(rw, Some(&["operator.write".into()]));
        assert!(
            w.allows(Scope::Read) && w.allows(Scope::Write),
            "write-only request reads and writes"
        );
        assert!(
            !effective_scopes(rw, Some(&["operator.pairing".into()])).allows(Scope::Read),
            "pairing is a real scope now: not granted, not implied"
        );
    }
}
