//! Why a bucket did not answer, as a bounded reason (the `reason` label of
//! `backupcenter_backuplocation_probe_error_info`) plus the provider's own error code
//! (`AccessDenied`, `NoSuchBucket`, `SignatureDoesNotMatch`, ...) and a short message.

use super::http::{TransportError, TransportFailure};
use object_store::client::{HttpError, HttpErrorKind};
use serde::Serialize;

/// The probe failure classes; [`ProbeReason::NAMES`] are the label's bounded values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeReason {
    AccessDenied,
    NoSuchBucket,
    Network,
    Timeout,
    Tls,
    /// The prefix holds top-level folders Velero does not allow (it marks the vault
    /// Unavailable for them).
    InvalidLayout,
    Other,
}

impl ProbeReason {
    pub const ALL: [ProbeReason; 7] = [
        ProbeReason::AccessDenied,
        ProbeReason::NoSuchBucket,
        ProbeReason::Network,
        ProbeReason::Timeout,
        ProbeReason::Tls,
        ProbeReason::InvalidLayout,
        ProbeReason::Other,
    ];
    pub const NAMES: &'static [&'static str] = &[
        "access_denied",
        "no_such_bucket",
        "network",
        "timeout",
        "tls",
        "invalid_layout",
        "other",
    ];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A classified failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: ProbeReason,
    /// The provider's error code when it sent one (`<Code>` in S3/OSS/Azure XML, the status
    /// in GCS JSON); empty otherwise.
    pub code: String,
    pub message: String,
}

/// Codes that mean "these credentials may not do this" across S3, OSS, Azure and GCS.
const DENIED: &[&str] = &[
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
    "AccountProblem",
    "InvalidSecurity",
    "AuthenticationFailed",
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "InsufficientAccountPermissions",
    "UserDisable",
];
const MISSING: &[&str] = &["NoSuchBucket", "ContainerNotFound", "BucketNotFound"];

/// Longest message kept (the provider's own words, for describe and logs).
const MESSAGE_MAX: usize = 300;

/// Classifies an object_store error.
pub fn classify(error: &object_store::Error) -> Failure {
    let mut texts = Vec::new();
    let mut transport = None;
    let mut http_kind = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<TransportError>() {
            transport = Some(t.failure);
        }
        if let Some(h) = e.downcast_ref::<HttpError>() {
            http_kind = Some(h.kind());
        }
        texts.push(e.to_string());
        source = e.source();
    }
    let all = texts.join("\n");
    let code = xml_element(&all, "Code")
        .or_else(|| json_status(&all))
        .unwrap_or_default();
    let message = xml_element(&all, "Message")
        .map(|m| match texts.first() {
            Some(top) => format!("{}: {m}", first_clause(top)),
            None => m,
        })
        .unwrap_or_else(|| texts.last().cloned().unwrap_or_default());
    let reason = if DENIED.contains(&code.as_str()) || code == "PERMISSION_DENIED" {
        ProbeReason::AccessDenied
    } else if MISSING.contains(&code.as_str()) {
        ProbeReason::NoSuchBucket
    } else if let Some(t) = transport {
        match t {
            TransportFailure::Network => ProbeReason::Network,
            TransportFailure::Tls => ProbeReason::Tls,
        }
    } else if http_kind == Some(HttpErrorKind::Timeout) {
        ProbeReason::Timeout
    } else {
        match error {
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => ProbeReason::AccessDenied,
            // Listing the bucket root can only miss the bucket itself.
            object_store::Error::NotFound { .. } => ProbeReason::NoSuchBucket,
            _ => ProbeReason::Other,
        }
    };
    Failure {
        reason,
        code,
        message: clip(&message),
    }
}

/// The text before the body an error quotes (`Generic S3 error: Error performing list ...`).
fn first_clause(s: &str) -> &str {
    let s = s.split(" - Server returned").next().unwrap_or(s);
    s.split(": Server returned").next().unwrap_or(s)
}

/// The first `<name>...</name>` in `s` (S3, OSS and Azure error bodies).
pub fn xml_element(s: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = s.find(&open)? + open.len();
    let len = s[start..].find(&close)?;
    let v = s[start..start + len].trim();
    (!v.is_empty() && v.len() <= 200).then(|| v.to_string())
}

/// GCS JSON errors carry `"status": "PERMISSION_DENIED"`.
fn json_status(s: &str) -> Option<String> {
    let at = s.find("\"status\"")? + "\"status\"".len();
    let rest = s[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let v = &rest[..end];
    v.bytes()
        .all(|b| b.is_ascii_uppercase() || b == b'_')
        .then(|| v.to_string())
}

/// One line, at most [`MESSAGE_MAX`] characters.
pub fn clip(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(MESSAGE_MAX) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: text.to_string().into(),
        }
    }

    #[test]
    fn provider_codes_decide() {
        let body = "Error performing list request: Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message><AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId></Error>";
        let f = classify(&generic(body));
        assert_eq!(f.reason, ProbeReason::AccessDenied);
        assert_eq!(f.code, "SignatureDoesNotMatch");
        assert!(!f.message.contains("AKIAEXAMPLE"), "{}", f.message);
        assert!(
            f.message
                .ends_with("The request signature we calculated does not match")
        );

        let f = classify(&generic("<Error><Code>NoSuchBucket</Code></Error>"));
        assert_eq!(
            (f.reason, f.code.as_str()),
            (ProbeReason::NoSuchBucket, "NoSuchBucket")
        );
        let f = classify(&generic(
            "{\"error\": {\"code\": 403, \"status\": \"PERMISSION_DENIED\"}}",
        ));
        assert_eq!(
            (f.reason, f.code.as_str()),
            (ProbeReason::AccessDenied, "PERMISSION_DENIED")
        );
        let f = classify(&generic("<Code>SlowDown</Code>"));
        assert_eq!(
            (f.reason, f.code.as_str()),
            (ProbeReason::Other, "SlowDown")
        );
    }

    #[test]
    fn variants_without_a_code() {
        let f = classify(&object_store::Error::NotFound {
            path: "x".into(),
            source: "gone".to_string().into(),
        });
        assert_eq!((f.reason, f.code.as_str()), (ProbeReason::NoSuchBucket, ""));
        let f = classify(&object_store::Error::PermissionDenied {
            path: "x".into(),
            source: "no".to_string().into(),
        });
        assert_eq!(f.reason, ProbeReason::AccessDenied);
        assert_eq!(classify(&generic("weird")).reason, ProbeReason::Other);
    }

    #[test]
    fn transport_failures_in_the_chain() {
        let tls = HttpError::new(
            HttpErrorKind::Connect,
            TransportError {
                failure: TransportFailure::Tls,
                message: "invalid peer certificate".into(),
            },
        );
        let e = object_store::Error::Generic {
            store: "S3",
            source: Box::new(tls),
        };
        assert_eq!(classify(&e).reason, ProbeReason::Tls);
        let net = HttpError::new(
            HttpErrorKind::Connect,
            TransportError {
                failure: TransportFailure::Network,
                message: "connection refused".into(),
            },
        );
        let e = object_store::Error::Generic {
            store: "S3",
            source: Box::new(net),
        };
        let f = classify(&e);
        assert_eq!(f.reason, ProbeReason::Network);
        assert!(f.message.contains("connection refused"), "{}", f.message);
    }

    #[test]
    fn names_follow_the_enum() {
        for (r, name) in ProbeReason::ALL.iter().zip(ProbeReason::NAMES) {
            assert_eq!(r.as_str(), *name);
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(name));
        }
        assert_eq!(clip(&"é".repeat(400)).chars().count(), MESSAGE_MAX + 1);
        assert_eq!(clip("a\nb\tc"), "a b c");
    }
}
