//! Who may read what `serve` shows: an optional shared token (bearer for Prometheus, Basic for
//! a browser) and, with TLS, optional client certificates. The health endpoints stay open,
//! because kubelet probes carry no credentials and say nothing about the backup center.

use anyhow::Context;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct AccessArgs {
    /// Require the token in this file on every request but /healthz and /readyz:
    /// `Authorization: Bearer TOKEN` (Prometheus: `authorization.credentials_file`), or HTTP
    /// Basic with any user name and the token as password (what a browser prompts for). Read
    /// once at start; never logged.
    #[arg(long, value_name = "PATH")]
    pub auth_token_file: Option<PathBuf>,
    /// With --tls-cert: accept only clients that present a certificate signed by a CA in this
    /// PEM file (mutual TLS; Prometheus: `tls_config.cert_file`/`key_file`).
    #[arg(long, requires = "tls_cert", value_name = "PATH")]
    pub tls_client_ca: Option<PathBuf>,
}

/// The shared secret; its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(Arc<[u8]>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(redacted)")
    }
}

/// A token file longer than this is not a token (and must not cost memory).
const MAX_TOKEN_BYTES: u64 = 4096;

impl Token {
    /// Reads the token, without the trailing newline editors and `kubectl create secret
    /// --from-file` leave. Errors name the file, never its content.
    pub fn from_file(path: &Path) -> anyhow::Result<Token> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read --auth-token-file {}", path.display()))?
            .len();
        anyhow::ensure!(
            size <= MAX_TOKEN_BYTES,
            "--auth-token-file {} holds {size} bytes; a token is at most {MAX_TOKEN_BYTES}",
            path.display()
        );
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read --auth-token-file {}", path.display()))?;
        let token = bytes.trim_ascii();
        anyhow::ensure!(
            !token.is_empty(),
            "--auth-token-file {} is empty",
            path.display()
        );
        anyhow::ensure!(
            token.iter().all(|b| b.is_ascii_graphic()),
            "--auth-token-file {}: the token must be printable ASCII without spaces \
             (it travels in an HTTP header)",
            path.display()
        );
        Ok(Token(token.into()))
    }

    /// Whether an `Authorization` header carries the token, as Bearer or as Basic password.
    pub fn admits(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(value) = authorization.map(HeaderValue::as_bytes) else {
            return false;
        };
        let (scheme, credentials) = match value.iter().position(|&b| b == b' ') {
            Some(i) => (&value[..i], value[i + 1..].trim_ascii()),
            None => return false,
        };
        if scheme.eq_ignore_ascii_case(b"bearer") {
            return constant_time_eq(credentials, &self.0);
        }
        if scheme.eq_ignore_ascii_case(b"basic") {
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials) else {
                return false;
            };
            let password = match decoded.iter().position(|&b| b == b':') {
                Some(i) => &decoded[i + 1..],
                None => return false,
            };
            return constant_time_eq(password, &self.0);
        }
        false
    }
}

/// Compares without an early exit, so the time a wrong guess takes says nothing about how
/// much of it was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Paths anyone may request: what kubelet probes.
fn is_open(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// The middleware: `401` with both challenges (a browser shows its login prompt for Basic).
pub async fn require(token: Token, request: Request, next: Next) -> Response {
    if is_open(request.uri().path()) || token.admits(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    let mut response = (StatusCode::UNAUTHORIZED, "unauthorized\n").into_response();
    let challenges = response.headers_mut();
    challenges.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"backupscope\""),
    );
    challenges.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"backupscope\", charset=\"UTF-8\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Token {
        Token(b"s3cr3t-T0ken".as_slice().into())
    }

    fn header(v: &str) -> HeaderValue {
        HeaderValue::from_str(v).unwrap()
    }

    fn basic(user_password: &str) -> HeaderValue {
        header(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_password)
        ))
    }

    #[test]
    fn bearer_and_basic_carry_the_same_token() {
        let t = token();
        assert!(t.admits(Some(&header("Bearer s3cr3t-T0ken"))));
        assert!(t.admits(Some(&header("bearer   s3cr3t-T0ken "))));
        assert!(t.admits(Some(&basic("anyone:s3cr3t-T0ken"))));
        assert!(t.admits(Some(&basic(":s3cr3t-T0ken"))));
        // The password may itself contain a colon; only the first one separates the user.
        let colon = Token(b"a:b".as_slice().into());
        assert!(colon.admits(Some(&basic("u:a:b"))));
    }

    #[test]
    fn anything_else_is_refused() {
        let t = token();
        for refused in [
            None,
            Some(header("Bearer s3cr3t-T0ke")),
            Some(header("Bearer s3cr3t-T0kenX")),
            Some(header("Bearer")),
            Some(header("s3cr3t-T0ken")),
            Some(header("Token s3cr3t-T0ken")),
            Some(header("Basic !!!notbase64")),
            Some(basic("s3cr3t-T0ken")),
            Some(basic("s3cr3t-T0ken:")),
        ] {
            assert!(!t.admits(refused.as_ref()), "{refused:?}");
        }
    }

    #[test]
    fn the_token_file_is_checked_and_never_shown() {
        let dir = std::env::temp_dir().join(format!("backupscope-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "s3cr3t-T0ken\n").unwrap();
        let t = Token::from_file(&file).unwrap();
        assert!(t.admits(Some(&header("Bearer s3cr3t-T0ken"))));
        assert_eq!(format!("{t:?}"), "Token(redacted)");
        std::fs::write(&file, "\n  \n").unwrap();
        let empty = Token::from_file(&file).unwrap_err().to_string();
        assert!(empty.ends_with("token is empty"), "{empty}");
        std::fs::write(&file, "two words").unwrap();
        let spaced = format!("{:#}", Token::from_file(&file).unwrap_err());
        assert!(
            spaced.contains("printable ASCII") && !spaced.contains("two words"),
            "{spaced}"
        );
        std::fs::write(&file, "x".repeat(5000)).unwrap();
        let huge = Token::from_file(&file).unwrap_err().to_string();
        assert!(huge.contains("5000 bytes"), "{huge}");
        let missing = Token::from_file(&dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("cannot read --auth-token-file"),
            "{missing}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
