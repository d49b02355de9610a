//! Who is calling.
//!
//! Every RPC carries `authorization: Bearer <token>`. A token is a JSON Web Token signed with
//! HMAC-SHA256 (`HS256`) under the deployment's signing key; its claims name a subject (a staff
//! member, an enrolled kiosk device or a service) and one [`Role`]. [`Authenticate`] checks the
//! token on the way in and leaves a [`Caller`] in the request; each RPC then calls [`authorize`]
//! with the roles it admits.
//!
//! This module is the one place identity plugs in. Staff accounts and logins will issue tokens
//! through [`TokenKey::issue`]; TLS wraps the transport without touching anything here.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Request, Status};

use crate::clock::SharedClock;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The `iss` claim of every token this deployment signs.
const ISSUER: &str = "clinic";

/// Signing keys shorter than this are refused: HS256 wants at least the hash's 32 bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// What a caller may do. Each RPC lists the roles it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An enrolled lobby kiosk or waiting-room display: sees only what a check-in needs.
    Kiosk,
    /// Front-desk staff.
    Reception,
    /// Collections staff, often remote: balances and contact data, never clinical notes.
    Collections,
    /// Clinic management: everything reception and collections may do, plus approvals.
    Manager,
    /// Another clinic service calling on its own behalf.
    Service,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Kiosk,
        Role::Reception,
        Role::Collections,
        Role::Manager,
        Role::Service,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Reception => "reception",
            Role::Collections => "collections",
            Role::Manager => "manager",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                format!("unknown role {text:?} (kiosk, reception, collections, manager, service)")
            })
    }
}

/// The authenticated caller of an RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who: `reception:maria`, `kiosk:lobby-1`, `service:scheduling`.
    pub subject: String,
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    role: Role,
    iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
}

/// Why a token was not accepted. Never shown to the caller in detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is not a well-formed JWT")]
    Malformed,
    #[error("token is not signed with HS256")]
    WrongAlgorithm,
    #[error("token signature does not match")]
    BadSignature,
    #[error("token was not issued by this clinic")]
    WrongIssuer,
    #[error("token has expired")]
    Expired,
}

/// The deployment's token signing key.
#[derive(Clone)]
pub struct TokenKey(SecretSlice<u8>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from configuration: at least 32 bytes of text.
    pub fn from_secret(secret: &SecretString) -> anyhow::Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        anyhow::ensure!(
            bytes.len() >= MIN_KEY_BYTES,
            "the token signing key must be at least {MIN_KEY_BYTES} bytes"
        );
        Ok(TokenKey(bytes.to_vec().into()))
    }

    /// A fresh random key, as text suitable for a config file (64 hex digits).
    pub fn generate_secret() -> SecretString {
        let mut text = String::with_capacity(64);
        for _ in 0..2 {
            text.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        text.into()
    }

    /// Signs a token for `subject` in `role`, valid from `now` for `ttl` (forever when `None`,
    /// as enrolled devices and services need).
    pub fn issue(
        &self,
        subject: &str,
        role: Role,
        now: DateTime<Utc>,
        ttl: Option<TimeDelta>,
    ) -> String {
        let header = Header {
            alg: "HS256".into(),
            typ: "JWT".into(),
        };
        let claims = Claims {
            iss: ISSUER.into(),
            sub: subject.into(),
            role,
            iat: now.timestamp(),
            exp: ttl.map(|ttl| (now + ttl).timestamp()),
        };
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&signing_input).finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// Checks a token's signature, issuer and expiry at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Caller, TokenError> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, claims) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
        if claims.contains('.') {
            return Err(TokenError::Malformed);
        }

        let header: Header = decode_json(header)?;
        if header.alg != "HS256" {
            return Err(TokenError::WrongAlgorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        // `verify_slice` compares in constant time.
        self.mac(signing_input)
            .verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;

        let claims: Claims = decode_json(claims)?;
        if claims.iss != ISSUER {
            return Err(TokenError::WrongIssuer);
        }
        if claims.exp.is_some_and(|exp| exp <= now.timestamp()) {
            return Err(TokenError::Expired);
        }
        if claims.sub.is_empty() {
            return Err(TokenError::Malformed);
        }
        Ok(Caller {
            subject: claims.sub,
            role: claims.role,
        })
    }

    fn mac(&self, signing_input: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(signing_input.as_bytes());
        mac
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// Server-side interceptor: turns the bearer token into a [`Caller`] in the request's extensions,
/// or answers `UNAUTHENTICATED`.
#[derive(Clone)]
pub struct Authenticate {
    key: TokenKey,
    clock: SharedClock,
}

impl Authenticate {
    pub fn new(key: TokenKey, clock: SharedClock) -> Self {
        Authenticate { key, clock }
    }
}

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("a bearer token is required"))?;
        match self.key.verify(token.trim(), self.clock.now()) {
            Ok(caller) => {
                // A service calling while answering a person names them; only a service may.
                let person = match caller.role {
                    Role::Service => request
                        .metadata()
                        .get(ON_BEHALF_OF_HEADER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(person_of),
                    _ => Some(caller.clone()),
                };
                // For the call's log line (see crate::rpc): who called, never what about; and
                // for calls this one makes, the person they are made for.
                if let Some(context) = request
                    .extensions()
                    .get::<std::sync::Arc<crate::rpc::RequestContext>>()
                {
                    context.set_subject(&caller.subject);
                    if let Some(person) = &person {
                        context.set_person(&person.subject);
                    }
                }
                if caller.role == Role::Service
                    && let Some(person) = person
                {
                    request.extensions_mut().insert(OnBehalfOf(person));
                }
                request.extensions_mut().insert(caller);
                Ok(request)
            }
            Err(error) => {
                tracing::info!(%error, "rejected a token");
                Err(Status::unauthenticated("the bearer token is not valid"))
            }
        }
    }
}

/// The metadata key by which a service, calling another while answering a person, names that
/// person (their token subject, e.g. `reception:maria`): the callee's audit records them.
pub const ON_BEHALF_OF_HEADER: &str = "x-on-behalf-of";

/// The person a service's call is made for (see [`ON_BEHALF_OF_HEADER`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnBehalfOf(pub Caller);

/// The person a subject such as `reception:maria` names: a role other than service, then a
/// name of printable ASCII, at most 128 characters in all.
fn person_of(subject: &str) -> Option<Caller> {
    if subject.len() > 128 || !subject.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let (role, name) = subject.split_once(':')?;
    let role: Role = role.parse().ok()?;
    (role != Role::Service && !name.is_empty()).then(|| Caller {
        subject: subject.to_owned(),
        role,
    })
}

/// Who a call reads a record for, for an audit: the caller, or, for a service's call made for a
/// person, that person with the service as `via`.
pub fn reader<T>(request: &Request<T>, caller: &Caller) -> (Caller, Option<String>) {
    match request.extensions().get::<OnBehalfOf>() {
        Some(OnBehalfOf(person)) if caller.role == Role::Service => {
            (person.clone(), Some(caller.subject.clone()))
        }
        _ => (caller.clone(), None),
    }
}

/// The caller of `request` if their role is one of `allowed`; otherwise `PERMISSION_DENIED`.
pub fn authorize<T>(request: &Request<T>, allowed: &[Role]) -> Result<Caller, Status> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| Status::unauthenticated("a bearer token is required"))?;
    if allowed.contains(&caller.role) {
        Ok(caller.clone())
    } else {
        Err(Status::permission_denied(format!(
            "the {} role may not call this method",
            caller.role
        )))
    }
}

/// Client-side interceptor that sends a bearer token with every call.
#[derive(Clone)]
pub struct BearerToken(MetadataValue<Ascii>);

impl BearerToken {
    pub fn new(token: &str) -> anyhow::Result<Self> {
        Ok(BearerToken(format!("Bearer {token}").parse()?))
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        // A call made while answering another carries on its request id and deadline.
        crate::rpc::carry_on(&mut request);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> TokenKey {
        TokenKey::from_secret(&SecretString::from(text.repeat(32))).expect("long enough")
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T15:00:00Z".parse().expect("valid instant")
    }

    #[test]
    fn only_a_person_can_be_named_as_whom_a_service_calls_for() {
        let ana = person_of("reception:ana").expect("a person");
        assert_eq!(
            (ana.subject.as_str(), ana.role),
            ("reception:ana", Role::Reception)
        );
        assert_eq!(
            person_of("kiosk:lobby-1").map(|c| c.role),
            Some(Role::Kiosk)
        );
        for refused in [
            "service:billing",
            "reception:",
            "ana",
            "owner:ana",
            "reception:a na",
        ] {
            assert_eq!(person_of(refused), None, "{refused}");
        }
        assert_eq!(person_of(&format!("reception:{}", "a".repeat(130))), None);
    }

    #[test]
    fn a_signed_token_verifies_to_its_subject_and_role() {
        let token = key("a").issue("reception:maria", Role::Reception, now(), None);
        assert_eq!(
            key("a").verify(&token, now()),
            Ok(Caller {
                subject: "reception:maria".into(),
                role: Role::Reception
            })
        );
    }

    #[test]
    fn a_token_from_another_key_is_refused() {
        let token = key("a").issue("kiosk:lobby", Role::Kiosk, now(), None);
        assert_eq!(
            key("b").verify(&token, now()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_role_is_refused() {
        let token = key("a").issue("kiosk:lobby", Role::Kiosk, now(), None);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD
            .encode(br#"{"iss":"clinic","sub":"kiosk:lobby","role":"manager","iat":0}"#);
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(
            key("a").verify(&forged, now()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = key("a").issue(
            "reception:maria",
            Role::Reception,
            now(),
            Some(TimeDelta::hours(12)),
        );
        assert!(
            key("a")
                .verify(&token, now() + TimeDelta::hours(11))
                .is_ok()
        );
        assert_eq!(
            key("a").verify(&token, now() + TimeDelta::hours(12)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn unsigned_and_garbled_tokens_are_refused() {
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims =
            URL_SAFE_NO_PAD.encode(br#"{"iss":"clinic","sub":"x","role":"manager","iat":0}"#);
        assert_eq!(
            key("a").verify(&format!("{none_header}.{claims}."), now()),
            Err(TokenError::WrongAlgorithm)
        );
        assert_eq!(
            key("a").verify("garbage", now()),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            key("a").verify("a.b.c.d", now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenKey::from_secret(&SecretString::from("short")).is_err());
    }
}
