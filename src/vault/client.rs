//! One object store per vault, built from the vault's spec (provider, bucket, prefix, region,
//! network) and what the user handed backupscope on the command line (credential files,
//! endpoint overrides, a local root). Nothing here reads a cluster Secret.

use super::credentials::{CredentialError, CredentialFile, Secret};
use super::endpoint::{self, EndpointError, OssNetwork};
use super::http::{Connector, Transport};
use crate::model::Vault;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A vault's identity: vault names are unique per namespace only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct VaultKey {
    pub namespace: String,
    pub name: String,
}

impl VaultKey {
    pub fn of(v: &Vault) -> Self {
        VaultKey {
            namespace: v.namespace.clone(),
            name: v.name.clone(),
        }
    }
}

impl std::fmt::Display for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Which vaults a command-line override applies to: `NAME` (any namespace) or `NAMESPACE/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub namespace: Option<String>,
    pub name: String,
}

impl Selector {
    pub fn matches(&self, key: &VaultKey) -> bool {
        self.name == key.name
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == key.namespace)
    }
}

/// Parses `[NAMESPACE/]VAULT=VALUE`.
pub fn parse_override(s: &str) -> Result<(Selector, String), String> {
    let (sel, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected [NAMESPACE/]VAULT=VALUE, got {s:?}"))?;
    let (namespace, name) = match sel.split_once('/') {
        Some((ns, name)) => (Some(ns.trim().to_string()), name.trim().to_string()),
        None => (None, sel.trim().to_string()),
    };
    if name.is_empty() || value.trim().is_empty() || namespace.as_deref() == Some("") {
        return Err(format!("expected [NAMESPACE/]VAULT=VALUE, got {s:?}"));
    }
    Ok((Selector { namespace, name }, value.trim().to_string()))
}

/// How backupscope reaches the vaults, from the command line.
#[derive(Debug, Clone)]
pub struct Access {
    /// Every vault is the directory `<root>/<bucket>` (demos, tests, a mirrored bucket).
    pub root: Option<PathBuf>,
    /// Per-vault endpoint: an S3-compatible URL (path-style, like Velero's `s3Url` with
    /// `s3ForcePathStyle`), or `file:///dir` for a local copy of the bucket.
    pub endpoints: Vec<(Selector, String)>,
    /// Per-vault credentials file.
    pub credentials: Vec<(Selector, PathBuf)>,
    /// Upper bound of one request (the probe bounds its whole run by this too).
    pub timeout: Duration,
    pub transport: Arc<Transport>,
}

/// The object-store protocol a vault is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    S3,
    Oss,
    Gcs,
    Azure,
    File,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::S3 => "s3",
            Backend::Oss => "oss",
            Backend::Gcs => "gcs",
            Backend::Azure => "azure",
            Backend::File => "file",
        }
    }

    /// The backend of a Velero/ACK provider name (`aws`, `velero.io/aws`, `alibabacloud`, ...).
    pub fn of_provider(provider: &str) -> Option<Backend> {
        let p = provider.trim().to_ascii_lowercase();
        let p = p.rsplit('/').next().unwrap_or(&p);
        match p {
            "aws" | "s3" | "minio" => Some(Backend::S3),
            "alibabacloud" | "alibaba" | "aliyun" | "oss" => Some(Backend::Oss),
            "gcp" | "gcs" | "google" => Some(Backend::Gcs),
            "azure" => Some(Backend::Azure),
            _ => None,
        }
    }
}

/// A vault's bucket, opened.
#[derive(Debug, Clone)]
pub struct VaultStore {
    pub store: Arc<dyn ObjectStore>,
    /// The vault's prefix inside the bucket (empty for the bucket root).
    pub prefix: StorePath,
    pub backend: Backend,
    /// Where, for people: `s3://bucket/prefix (https://endpoint)`; never a credential.
    pub location: String,
}

impl VaultStore {
    /// `prefix/part/...`
    pub fn path(&self, parts: &[&str]) -> StorePath {
        let mut p = self.prefix.clone();
        for part in parts {
            p = p.clone().join(*part);
        }
        p
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "provider {0:?} is not supported (aws, alibabacloud, gcp, azure); map the vault to an endpoint with --vault-endpoint or to a directory with --vault-root"
    )]
    Provider(String),
    #[error("the vault names no bucket (spec.objectStorage.bucket)")]
    NoBucket,
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("--vault-endpoint {url:?}: {reason}")]
    EndpointUrl { url: String, reason: &'static str },
    #[error("the bucket directory {0} does not exist")]
    NoSuchDirectory(PathBuf),
    #[error("cannot set up the {backend} client: {source}")]
    Build {
        backend: &'static str,
        source: object_store::Error,
    },
}

impl OpenError {
    /// The probe reason of a vault that could not be opened.
    pub fn reason(&self) -> super::classify::ProbeReason {
        match self {
            OpenError::NoSuchDirectory(_) => super::classify::ProbeReason::NoSuchBucket,
            _ => super::classify::ProbeReason::Other,
        }
    }
}

/// Opens the vault's bucket. Overrides win over the spec: `--vault-endpoint` for this vault,
/// then `--vault-root`, then the endpoint the spec names (`spec.config.s3Url`), then the
/// provider's own endpoint.
pub fn open(vault: &Vault, access: &Access) -> Result<VaultStore, OpenError> {
    let key = VaultKey::of(vault);
    if vault.bucket.trim().is_empty() {
        return Err(OpenError::NoBucket);
    }
    let prefix = StorePath::from(vault.prefix.trim_matches('/'));
    let credentials = access
        .credentials
        .iter()
        .find(|(s, _)| s.matches(&key))
        .map(|(_, path)| CredentialFile::read(path))
        .transpose()?;
    let endpoint = access
        .endpoints
        .iter()
        .find(|(s, _)| s.matches(&key))
        .map(|(_, url)| url.as_str());
    let at = |backend, store, location| VaultStore {
        store,
        prefix: prefix.clone(),
        backend,
        location,
    };
    if let Some(url) = endpoint {
        if let Some(dir) = url.strip_prefix("file://") {
            let store = local(Path::new(dir))?;
            return Ok(at(Backend::File, store, format!("file://{dir}/{prefix}")));
        }
        endpoint::check_url(url).map_err(|reason| OpenError::EndpointUrl {
            url: endpoint::shown_url(url),
            // file:// was taken above.
            reason: if reason == endpoint::NOT_HTTP {
                "expected http://, https:// or file://"
            } else {
                reason
            },
        })?;
        let oss = Backend::of_provider(&vault.provider) == Some(Backend::Oss);
        let e = endpoint::S3Endpoint {
            url: url.to_string(),
            path_style: true,
            skip_tls_verify: false,
        };
        let store = s3(vault, access, credentials.as_ref(), oss, Some(&e))?;
        let location = format!("s3://{}/{} ({url})", vault.bucket, prefix);
        return Ok(at(Backend::S3, store, location));
    }
    if let Some(root) = &access.root {
        let dir = root.join(&vault.bucket);
        let store = local(&dir)?;
        return Ok(at(
            Backend::File,
            store,
            format!("file://{}/{prefix}", dir.display()),
        ));
    }
    let backend = Backend::of_provider(&vault.provider)
        .ok_or_else(|| OpenError::Provider(vault.provider.clone()))?;
    let store: Arc<dyn ObjectStore> = match backend {
        Backend::S3 => match endpoint::s3_from_config(&vault.config)? {
            // A MinIO/Ceph/... vault: where its BSL says (spec.config.s3Url).
            Some(e) => {
                let store = s3(vault, access, credentials.as_ref(), false, Some(&e))?;
                let location = format!(
                    "s3://{}/{} ({}{})",
                    vault.bucket,
                    prefix,
                    e.url,
                    if e.skip_tls_verify {
                        ", certificate not verified"
                    } else {
                        ""
                    }
                );
                return Ok(at(Backend::S3, store, location));
            }
            None => s3(vault, access, credentials.as_ref(), false, None)?,
        },
        Backend::Oss => {
            let network = OssNetwork::parse(&vault.network_policy)?;
            let host = endpoint::oss_endpoint(&vault.region, network)?;
            let url = endpoint::virtual_hosted(&host, &vault.bucket);
            let e = endpoint::S3Endpoint {
                url: url.clone(),
                path_style: false,
                skip_tls_verify: false,
            };
            let store = s3(vault, access, credentials.as_ref(), true, Some(&e))?;
            let location = format!("oss://{}/{} ({url})", vault.bucket, prefix);
            return Ok(at(Backend::Oss, store, location));
        }
        Backend::Gcs => gcs(vault, access, credentials.as_ref())?,
        Backend::Azure => azure(vault, access, credentials.as_ref())?,
        // No provider name maps to the file backend; only the overrides above do.
        Backend::File => return Err(OpenError::Provider(vault.provider.clone())),
    };
    let scheme = match backend {
        Backend::S3 => "s3",
        Backend::Oss => "oss",
        Backend::Gcs => "gs",
        Backend::Azure => "az",
        Backend::File => "file",
    };
    Ok(at(
        backend,
        store,
        format!("{scheme}://{}/{}", vault.bucket, prefix),
    ))
}

fn local(dir: &Path) -> Result<Arc<dyn ObjectStore>, OpenError> {
    if !dir.is_dir() {
        return Err(OpenError::NoSuchDirectory(dir.to_owned()));
    }
    LocalFileSystem::new_with_prefix(dir)
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|source| OpenError::Build {
            backend: "file",
            source,
        })
}

/// Probes and scans fail fast and report; a retry loop would only hide the failure until the
/// timeout. One retry covers a connection the server closed while idle.
fn retry(access: &Access) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 1,
        retry_timeout: access.timeout,
    }
}

fn options(access: &Access, allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_timeout(access.timeout)
        .with_connect_timeout(access.timeout)
}

fn env(keys: &[&str]) -> Option<Secret> {
    keys.iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(Secret::new)
}

/// S3 and S3-compatible stores (OSS through its S3 API), at `endpoint` when given.
fn s3(
    vault: &Vault,
    access: &Access,
    file: Option<&CredentialFile>,
    oss: bool,
    endpoint: Option<&endpoint::S3Endpoint>,
) -> Result<Arc<dyn ObjectStore>, OpenError> {
    let backend = if oss { "oss" } else { "s3" };
    let transport = match endpoint {
        Some(e) if e.skip_tls_verify => Arc::new(access.transport.skipping_verification()),
        _ => access.transport.clone(),
    };
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(&vault.bucket)
        .with_http_connector(Connector(transport))
        .with_retry(retry(access));
    let region = vault.region.trim();
    let region = region.strip_prefix("oss-").unwrap_or(region);
    if !region.is_empty() {
        b = b.with_region(region);
    } else if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        b = b.with_region("us-east-1");
    }
    let mut allow_http = false;
    if let Some(e) = endpoint {
        allow_http = e.url.starts_with("http://");
        b = b
            .with_endpoint(&e.url)
            .with_virtual_hosted_style_request(!e.path_style);
    }
    b = b.with_client_options(options(access, allow_http));
    // The file the user named wins over the environment; OSS keys have their own names.
    let id_keys: &[&str] = if oss {
        &["alibaba_cloud_access_key_id", "aws_access_key_id"]
    } else {
        &["aws_access_key_id"]
    };
    let secret_keys: &[&str] = if oss {
        &["alibaba_cloud_access_key_secret", "aws_secret_access_key"]
    } else {
        &["aws_secret_access_key"]
    };
    let token_keys: &[&str] = if oss {
        &["alibaba_cloud_security_token", "aws_session_token"]
    } else {
        &["aws_session_token"]
    };
    let from_file = |keys: &[&str]| file.and_then(|f| f.get(keys)).cloned();
    let upper = |keys: &[&str]| {
        keys.iter()
            .map(|k| k.to_ascii_uppercase())
            .collect::<Vec<_>>()
    };
    let from_env = |keys: &[&str]| {
        let u = upper(keys);
        env(&u.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let id = from_file(id_keys).or_else(|| if oss { from_env(id_keys) } else { None });
    let secret = from_file(secret_keys).or_else(|| if oss { from_env(secret_keys) } else { None });
    let token = from_file(token_keys).or_else(|| if oss { from_env(token_keys) } else { None });
    if let (Some(id), Some(secret)) = (id, secret) {
        b = b
            .with_access_key_id(id.expose())
            .with_secret_access_key(secret.expose());
        if let Some(t) = token {
            b = b.with_token(t.expose());
        }
    }
    b.build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|source| OpenError::Build { backend, source })
}

fn gcs(
    vault: &Vault,
    access: &Access,
    file: Option<&CredentialFile>,
) -> Result<Arc<dyn ObjectStore>, OpenError> {
    let mut b = GoogleCloudStorageBuilder::from_env()
        .with_bucket_name(&vault.bucket)
        .with_http_connector(Connector(access.transport.clone()))
        .with_retry(retry(access))
        .with_client_options(options(access, false));
    if let Some(CredentialFile::Json(path)) = file {
        b = b.with_service_account_path(path.to_string_lossy());
    }
    b.build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|source| OpenError::Build {
            backend: "gcs",
            source,
        })
}

fn azure(
    vault: &Vault,
    access: &Access,
    file: Option<&CredentialFile>,
) -> Result<Arc<dyn ObjectStore>, OpenError> {
    let mut b = MicrosoftAzureBuilder::from_env()
        .with_container_name(&vault.bucket)
        .with_http_connector(Connector(access.transport.clone()))
        .with_retry(retry(access))
        .with_client_options(options(access, false));
    if let Some(f) = file {
        if let Some(account) = f.get(&["azure_storage_account_name", "azure_storage_account_id"]) {
            b = b.with_account(account.expose());
        }
        if let Some(key) = f.get(&["azure_storage_account_access_key", "azure_storage_key"]) {
            b = b.with_access_key(key.expose());
        } else if let (Some(client), Some(secret), Some(tenant)) = (
            f.get(&["azure_client_id"]),
            f.get(&["azure_client_secret"]),
            f.get(&["azure_tenant_id"]),
        ) {
            b = b.with_client_secret_authorization(
                client.expose(),
                secret.expose(),
                tenant.expose(),
            );
        }
    }
    b.build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|source| OpenError::Build {
            backend: "azure",
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Engine, VaultPhase};

    fn vault(provider: &str, region: &str, network: &str) -> Vault {
        Vault {
            engine: Engine::Ack,
            namespace: "csdr".into(),
            name: "v".into(),
            created: None,
            provider: provider.into(),
            bucket: "cnfs-oss-b".into(),
            prefix: "/ack-prod/".into(),
            region: region.into(),
            network_policy: network.into(),
            phase: VaultPhase::Available,
            raw_phase: "Available".into(),
            last_validation: None,
            message: String::new(),
            default: false,
            access_mode: String::new(),
            credential_secret: "secret-name".into(),
            config: Default::default(),
        }
    }

    fn access() -> Access {
        Access {
            root: None,
            endpoints: Vec::new(),
            credentials: Vec::new(),
            timeout: Duration::from_secs(1),
            transport: Arc::new(Transport::new().expect("transport")),
        }
    }

    #[test]
    fn oss_vaults_use_the_regional_virtual_hosted_endpoint() {
        let s = open(&vault("alibabacloud", "cn-hangzhou", "internal"), &access()).unwrap();
        assert_eq!(s.backend, Backend::Oss);
        assert_eq!(
            s.location,
            "oss://cnfs-oss-b/ack-prod (https://cnfs-oss-b.oss-cn-hangzhou-internal.aliyuncs.com)"
        );
        assert_eq!(s.path(&["backups"]).as_ref(), "ack-prod/backups");
        let s = open(
            &vault("velero.io/alibabacloud", "cn-beijing", "public"),
            &access(),
        )
        .unwrap();
        assert!(
            s.location
                .ends_with("(https://cnfs-oss-b.oss-cn-beijing.aliyuncs.com)"),
            "{}",
            s.location
        );
        let err = open(&vault("alibabacloud", "", "internal"), &access()).unwrap_err();
        assert!(
            matches!(err, OpenError::Endpoint(EndpointError::NoRegion)),
            "{err}"
        );
    }

    #[test]
    fn providers_and_overrides() {
        assert_eq!(Backend::of_provider("velero.io/aws"), Some(Backend::S3));
        assert_eq!(Backend::of_provider("GCP"), Some(Backend::Gcs));
        assert_eq!(Backend::of_provider("azure"), Some(Backend::Azure));
        assert_eq!(Backend::of_provider("csi"), None);
        let err = open(&vault("csi", "x", ""), &access()).unwrap_err();
        assert!(matches!(err, OpenError::Provider(_)), "{err}");

        let (sel, url) = parse_override("csdr/v=http://127.0.0.1:9000").unwrap();
        assert_eq!(url, "http://127.0.0.1:9000");
        let key = VaultKey {
            namespace: "csdr".into(),
            name: "v".into(),
        };
        assert!(sel.matches(&key));
        assert!(!sel.matches(&VaultKey {
            namespace: "velero".into(),
            name: "v".into()
        }));
        let (any_ns, _) = parse_override("v=file:///x").unwrap();
        assert!(any_ns.matches(&key));
        for bad in ["v", "=x", "v=", "/v=x"] {
            assert!(parse_override(bad).is_err(), "{bad}");
        }

        let mut a = access();
        a.endpoints = vec![parse_override("v=http://user:pw@127.0.0.1:1").unwrap()];
        let err = open(&vault("aws", "us-east-1", ""), &a)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pw"), "{err}");
        a.endpoints = vec![parse_override("v=ftp://x").unwrap()];
        assert!(matches!(
            open(&vault("aws", "", ""), &a),
            Err(OpenError::EndpointUrl { .. })
        ));
    }

    #[test]
    fn the_bsl_s3url_is_the_endpoint_unless_a_flag_says_otherwise() {
        let mut v = vault("aws", "us-east-1", "");
        v.config = [
            ("region", "us-east-1"),
            ("s3ForcePathStyle", "true"),
            ("s3Url", "http://127.0.0.1:9000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = open(&v, &access()).unwrap();
        assert_eq!(s.backend, Backend::S3);
        assert_eq!(
            s.location,
            "s3://cnfs-oss-b/ack-prod (http://127.0.0.1:9000)"
        );
        // --vault-endpoint wins over the spec.
        let mut a = access();
        a.endpoints = vec![parse_override("v=http://127.0.0.1:9001").unwrap()];
        assert_eq!(
            open(&v, &a).unwrap().location,
            "s3://cnfs-oss-b/ack-prod (http://127.0.0.1:9001)"
        );
        // So does --vault-root.
        let dir = std::env::temp_dir();
        let mut a = access();
        a.root = Some(dir.clone());
        v.bucket = ".".into();
        assert_eq!(open(&v, &a).unwrap().backend, Backend::File);
        // Without s3Url, AWS itself.
        let plain = open(&vault("aws", "us-east-1", ""), &access()).unwrap();
        assert_eq!(plain.location, "s3://cnfs-oss-b/ack-prod");
        // A bad s3Url is the vault's error, named after the field.
        v.bucket = "b".into();
        v.config.insert("s3Url".into(), "minio:9000".into());
        let err = open(&v, &access()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "spec.config.s3Url \"minio:9000\": expected http:// or https://"
        );
    }

    #[test]
    fn a_missing_bucket_directory_is_no_such_bucket() {
        let mut a = access();
        a.root = Some(PathBuf::from("/nonexistent-backupscope-root"));
        let err = open(&vault("aws", "", ""), &a).unwrap_err();
        assert_eq!(
            err.reason(),
            super::super::classify::ProbeReason::NoSuchBucket
        );
    }
}
