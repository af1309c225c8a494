//! Bearer tokens for API clients and web sessions: one mechanism. A token is 32
//! random bytes shown once (`cv_api_<hex>` or `cv_session_<hex>`); only its SHA-256
//! is stored (the value has 256 bits of entropy, so a fast hash is enough and a
//! leaked table holds nothing usable). Tokens expire, can be revoked, and are bound
//! to the user's credential epoch: a password change or an administrator's lock ends
//! every token and session of the user. Sessions also end after an idle time.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::IdentityError;
use super::secret::Secret;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    /// A bearer token an API client keeps (`POST /v1/tokens`, `callvault token create`).
    Api,
    /// A web session (`POST /v1/login`), shorter-lived and ended by idleness or logout.
    Session,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "api" => Some(TokenKind::Api),
            "session" => Some(TokenKind::Session),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Api => "cv_api_",
            TokenKind::Session => "cv_session_",
        }
    }
}

/// Lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// API token lifetime when none is asked for.
    pub api_default: TimeDelta,
    /// Longest API token lifetime.
    pub api_max: TimeDelta,
    /// A session's absolute lifetime.
    pub session_lifetime: TimeDelta,
    /// A session unused this long has ended.
    pub session_idle: TimeDelta,
}

impl Default for TokenPolicy {
    /// API tokens 30 days (at most 365); sessions 8 hours, ended after 30 idle minutes.
    fn default() -> Self {
        TokenPolicy {
            api_default: TimeDelta::days(30),
            api_max: TimeDelta::days(365),
            session_lifetime: TimeDelta::hours(8),
            session_idle: TimeDelta::minutes(30),
        }
    }
}

impl TokenPolicy {
    /// The expiry of a new token issued at `now`, `requested` for API tokens.
    pub fn expiry(
        &self,
        kind: TokenKind,
        requested: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, IdentityError> {
        match (kind, requested) {
            (TokenKind::Session, _) => Ok(now + self.session_lifetime),
            (TokenKind::Api, None) => Ok(now + self.api_default),
            (TokenKind::Api, Some(at)) if at <= now => Err(IdentityError::invalid(
                "token-expiry-in-past",
                "a token's expiry must lie in the future",
            )),
            (TokenKind::Api, Some(at)) if at - now > self.api_max => Err(IdentityError::invalid(
                "token-expiry-too-far",
                format!("an API token lives at most {} days", self.api_max.num_days()),
            )),
            (TokenKind::Api, Some(at)) => Ok(at),
        }
    }
}

/// The stored hash of a token value (hex SHA-256).
pub fn token_hash(value: &Secret) -> String {
    hex::encode(Sha256::digest(value.expose().as_bytes()))
}

/// A fresh token value and its stored hash.
pub fn generate_token(kind: TokenKind, rng: &mut (impl RngCore + CryptoRng)) -> (Secret, String) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let value = Secret::new(format!("{}{}", kind.prefix(), hex::encode(bytes)));
    zeroize::Zeroize::zeroize(&mut bytes);
    let hash = token_hash(&value);
    (value, hash)
}

/// The kind a presented value claims to be, when it is shaped like a token at all;
/// anything else is refused before any lookup.
pub fn token_kind_of(value: &Secret) -> Option<TokenKind> {
    let text = value.expose();
    [TokenKind::Api, TokenKind::Session].into_iter().find(|kind| {
        text.strip_prefix(kind.prefix()).is_some_and(|rest| {
            rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    })
}

/// A token as stored (never the value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    pub id: uuid::Uuid,
    pub tenant: String,
    pub user: String,
    pub kind: TokenKind,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The user's credential epoch when the token was issued.
    pub credential_epoch: i64,
}

impl StoredToken {
    /// Whether the token may be used at `now` by a user whose credential epoch is
    /// `user_epoch`. Each refusal has its own code (the API answers 401 with it).
    pub fn check(&self, now: DateTime<Utc>, user_epoch: i64, policy: &TokenPolicy) -> Result<(), IdentityError> {
        if self.revoked_at.is_some() {
            return Err(IdentityError::unauthenticated("token-revoked", "the token was revoked"));
        }
        if self.credential_epoch != user_epoch {
            return Err(IdentityError::unauthenticated(
                "token-revoked",
                "the token was ended by a password change or an account lock",
            ));
        }
        if now >= self.expires_at || now < self.created_at {
            return Err(IdentityError::unauthenticated("token-expired", "the token has expired"));
        }
        if self.kind == TokenKind::Session && now - self.last_used_at.unwrap_or(self.created_at) >= policy.session_idle
        {
            return Err(IdentityError::unauthenticated(
                "session-expired",
                "the session ended after being idle",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn tokens_are_random_shaped_and_hashed() {
        let mut rng = rand::rngs::OsRng;
        let (a, hash_a) = generate_token(TokenKind::Api, &mut rng);
        let (b, _) = generate_token(TokenKind::Session, &mut rng);
        assert_ne!(a, b);
        assert_eq!(token_kind_of(&a), Some(TokenKind::Api));
        assert_eq!(token_kind_of(&b), Some(TokenKind::Session));
        assert_eq!(hash_a, token_hash(&a));
        assert!(!hash_a.contains(&a.expose()[7..]));
        assert!(!format!("{a:?}").contains(&a.expose()[7..]));
        for forged in [
            "",
            "cv_api_",
            "cv_api_xyz",
            &format!("{}0", a.expose()),
            &a.expose().to_uppercase(),
            &a.expose().replace("cv_api_", "cv_root_"),
        ] {
            assert_eq!(token_kind_of(&Secret::new(forged)), None, "{forged:?}");
        }
    }

    fn stored(kind: TokenKind) -> StoredToken {
        StoredToken {
            id: uuid::Uuid::nil(),
            tenant: "posti".into(),
            user: "anna".into(),
            kind,
            label: None,
            created_at: t("2026-05-01T08:00:00Z"),
            expires_at: t("2026-05-01T16:00:00Z"),
            last_used_at: Some(t("2026-05-01T09:00:00Z")),
            revoked_at: None,
            credential_epoch: 3,
        }
    }

    #[test]
    fn token_checks_expiry_revocation_epoch_and_idleness() {
        let policy = TokenPolicy::default();
        let code =
            |token: &StoredToken, now: &str, epoch: i64| token.check(t(now), epoch, &policy).err().map(|e| e.code());
        let api = stored(TokenKind::Api);
        let session = stored(TokenKind::Session);
        // (token, now, user epoch, expected refusal)
        let table: [(&StoredToken, &str, i64, Option<&str>); 8] = [
            (&api, "2026-05-01T15:59:59Z", 3, None),
            (&api, "2026-05-01T16:00:00Z", 3, Some("token-expired")),
            (&api, "2026-05-01T07:00:00Z", 3, Some("token-expired")),
            (&api, "2026-05-01T10:00:00Z", 4, Some("token-revoked")),
            (&session, "2026-05-01T09:29:59Z", 3, None),
            (&session, "2026-05-01T09:30:00Z", 3, Some("session-expired")),
            (&session, "2026-05-01T16:00:00Z", 3, Some("token-expired")),
            (&session, "2026-05-01T09:10:00Z", 2, Some("token-revoked")),
        ];
        for (token, now, epoch, expected) in table {
            assert_eq!(
                code(token, now, epoch),
                expected,
                "{:?} at {now} epoch {epoch}",
                token.kind
            );
        }
        let mut revoked = stored(TokenKind::Api);
        revoked.revoked_at = Some(t("2026-05-01T09:00:00Z"));
        assert_eq!(code(&revoked, "2026-05-01T10:00:00Z", 3), Some("token-revoked"));
    }

    #[test]
    fn expiry_of_new_tokens() {
        let policy = TokenPolicy::default();
        let now = t("2026-05-01T08:00:00Z");
        assert_eq!(
            policy.expiry(TokenKind::Session, None, now).unwrap(),
            t("2026-05-01T16:00:00Z")
        );
        assert_eq!(
            policy.expiry(TokenKind::Api, None, now).unwrap(),
            t("2026-05-31T08:00:00Z")
        );
        assert_eq!(
            policy
                .expiry(TokenKind::Api, Some(t("2026-04-01T00:00:00Z")), now)
                .unwrap_err()
                .code(),
            "token-expiry-in-past"
        );
        assert_eq!(
            policy
                .expiry(TokenKind::Api, Some(t("2028-01-01T00:00:00Z")), now)
                .unwrap_err()
                .code(),
            "token-expiry-too-far"
        );
    }
}
