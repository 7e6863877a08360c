//! Where a vault's bucket answers. Alibaba OSS speaks the S3 protocol at
//! `oss-<region>[-internal].aliyuncs.com` (virtual-hosted style only: OSS refuses path-style
//! requests); ACK's `spec.config.network` picks the VPC-internal or the public endpoint.
//! S3-compatible vaults (MinIO, Ceph, ...) name theirs in the BSL's `spec.config.s3Url`, with
//! `s3ForcePathStyle`, as Velero's AWS plugin reads them.

use std::collections::BTreeMap;

/// OSS regions (region ids as ACK writes them in `spec.config.region`). An id outside this
/// list still gets an endpoint built by the same rule, so a new region works before we know it.
pub const OSS_REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "us-east-1",
    "us-west-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
];

/// ACK's `spec.config.network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OssNetwork {
    /// The VPC-internal endpoint (no traffic cost; only reachable from the region's VPCs).
    Internal,
    /// The public endpoint (other regions, ACK Edge, registered clusters without a VPC route).
    Public,
    /// The global transfer-acceleration endpoint.
    Accelerate,
}

impl OssNetwork {
    /// Reads `spec.config.network` case-insensitively; empty means public, as in the
    /// alibabacloud Velero plugin.
    pub fn parse(s: &str) -> Result<OssNetwork, EndpointError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "public" => Ok(OssNetwork::Public),
            "internal" => Ok(OssNetwork::Internal),
            "accelerate" => Ok(OssNetwork::Accelerate),
            _ => Err(EndpointError::Network(s.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("the vault names no region (spec.config.region); OSS needs one to find its endpoint")]
    NoRegion,
    #[error("region {0:?} is not an OSS region id (lower-case letters, digits and '-')")]
    Region(String),
    #[error("spec.config.network {0:?} is neither internal nor public")]
    Network(String),
    #[error("spec.config.s3Url {url:?}: {reason}")]
    S3Url { url: String, reason: &'static str },
    #[error("spec.config.{key} {value:?} is neither true nor false")]
    Flag { key: &'static str, value: String },
}

/// An S3 endpoint: the URL and whether requests put the bucket in the path (`url/bucket/key`)
/// rather than in the host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    pub url: String,
    pub path_style: bool,
    /// `insecureSkipTLSVerify`: accept any certificate (a self-signed MinIO), as Velero does.
    pub skip_tls_verify: bool,
}

pub const NOT_HTTP: &str = "expected http:// or https://";

/// A URL as messages may show it: hidden when it holds credentials.
pub fn shown_url(url: &str) -> String {
    if url.contains('@') {
        "(hidden: it holds credentials)".into()
    } else {
        url.to_string()
    }
}

/// Checks an endpoint URL someone wrote (a BSL's s3Url, `--vault-endpoint`): http or https,
/// and no credentials in it (they would end up in messages and logs).
pub fn check_url(url: &str) -> Result<(), &'static str> {
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(NOT_HTTP);
    }
    if url.contains('@') {
        return Err("credentials in the URL are not supported; use --vault-credentials");
    }
    Ok(())
}

/// The endpoint a vault's `spec.config` names (`s3Url`, `s3ForcePathStyle`); `None` when it
/// names none (then the provider's own endpoint applies). Velero parses s3ForcePathStyle with Go's
/// strconv.ParseBool and defaults it to false (virtual-hosted style).
pub fn s3_from_config(
    config: &BTreeMap<String, String>,
) -> Result<Option<S3Endpoint>, EndpointError> {
    let Some(url) = config
        .get("s3Url")
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    check_url(url).map_err(|reason| EndpointError::S3Url {
        url: shown_url(url),
        reason,
    })?;
    Ok(Some(S3Endpoint {
        url: url.trim_end_matches('/').to_string(),
        path_style: flag(config, "s3ForcePathStyle")?,
        skip_tls_verify: flag(config, "insecureSkipTLSVerify")?,
    }))
}

/// A boolean of spec.config as Go's strconv.ParseBool reads it; absent or empty is false.
fn flag(config: &BTreeMap<String, String>, key: &'static str) -> Result<bool, EndpointError> {
    match config.get(key).map(|s| s.trim()) {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(EndpointError::Flag {
            key,
            value: other.to_string(),
        }),
    }
}

/// The OSS S3-compatible endpoint (`https://host`) for a region and network.
///
/// `region` may carry the `oss-` prefix some users copy from the console (`oss-cn-hangzhou`).
pub fn oss_endpoint(region: &str, network: OssNetwork) -> Result<String, EndpointError> {
    let region = region.trim();
    let region = region.strip_prefix("oss-").unwrap_or(region);
    if region.is_empty() {
        return Err(EndpointError::NoRegion);
    }
    let valid = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if !valid {
        return Err(EndpointError::Region(region.to_string()));
    }
    Ok(match network {
        OssNetwork::Internal => format!("https://oss-{region}-internal.aliyuncs.com"),
        OssNetwork::Public => format!("https://oss-{region}.aliyuncs.com"),
        OssNetwork::Accelerate => "https://oss-accelerate.aliyuncs.com".to_string(),
    })
}

/// The virtual-hosted form of `endpoint` for `bucket` (`https://bucket.host`), the only
/// addressing OSS accepts.
pub fn virtual_hosted(endpoint: &str, bucket: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
        None => format!("https://{bucket}.{endpoint}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_and_network() {
        for region in OSS_REGIONS {
            for (network, want) in [
                (
                    "internal",
                    format!("https://oss-{region}-internal.aliyuncs.com"),
                ),
                (
                    "Internal",
                    format!("https://oss-{region}-internal.aliyuncs.com"),
                ),
                ("public", format!("https://oss-{region}.aliyuncs.com")),
                ("Public", format!("https://oss-{region}.aliyuncs.com")),
                ("", format!("https://oss-{region}.aliyuncs.com")),
                (
                    "accelerate",
                    "https://oss-accelerate.aliyuncs.com".to_string(),
                ),
            ] {
                let net = OssNetwork::parse(network).unwrap();
                assert_eq!(
                    oss_endpoint(region, net).unwrap(),
                    want,
                    "{region}/{network}"
                );
            }
        }
        assert_eq!(OSS_REGIONS.len(), 28);
    }

    #[test]
    fn console_prefix_and_unknown_regions() {
        assert_eq!(
            oss_endpoint("oss-cn-beijing", OssNetwork::Internal).unwrap(),
            "https://oss-cn-beijing-internal.aliyuncs.com"
        );
        assert_eq!(
            oss_endpoint("cn-future-1", OssNetwork::Public).unwrap(),
            "https://oss-cn-future-1.aliyuncs.com"
        );
    }

    #[test]
    fn bucket_goes_in_the_host() {
        assert_eq!(
            virtual_hosted("https://oss-cn-hangzhou.aliyuncs.com", "cnfs-oss-x"),
            "https://cnfs-oss-x.oss-cn-hangzhou.aliyuncs.com"
        );
    }

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn s3_endpoint_from_the_bsl_config() {
        let minio = config(&[
            ("region", "us-east-1"),
            ("s3ForcePathStyle", "true"),
            ("s3Url", "https://minio.storage.corp.example:9000/"),
        ]);
        assert_eq!(
            s3_from_config(&minio),
            Ok(Some(S3Endpoint {
                url: "https://minio.storage.corp.example:9000".into(),
                path_style: true,
                skip_tls_verify: false,
            }))
        );
        // Velero's default is virtual-hosted style; ParseBool spellings are accepted.
        for (flag, path_style) in [
            (None, false),
            (Some("false"), false),
            (Some("1"), true),
            (Some("T"), true),
            (Some("F"), false),
        ] {
            let mut c = config(&[("s3Url", "http://127.0.0.1:9000")]);
            if let Some(f) = flag {
                c.insert("s3ForcePathStyle".into(), f.into());
            }
            assert_eq!(
                s3_from_config(&c).unwrap().map(|e| e.path_style),
                Some(path_style),
                "{flag:?}"
            );
        }
        // No s3Url (AWS itself), or an empty one: the provider's endpoint.
        assert_eq!(
            s3_from_config(&config(&[("region", "eu-central-1")])),
            Ok(None)
        );
        assert_eq!(s3_from_config(&config(&[("s3Url", " ")])), Ok(None));
    }

    #[test]
    fn bad_s3_config_is_an_error_that_hides_credentials() {
        assert_eq!(
            s3_from_config(&config(&[("s3Url", "minio:9000")])),
            Err(EndpointError::S3Url {
                url: "minio:9000".into(),
                reason: "expected http:// or https://"
            })
        );
        let err = s3_from_config(&config(&[("s3Url", "https://key:pw@minio:9000")])).unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
        assert_eq!(
            s3_from_config(&config(&[
                ("s3Url", "https://m:9000"),
                ("s3ForcePathStyle", "yes")
            ])),
            Err(EndpointError::Flag {
                key: "s3ForcePathStyle",
                value: "yes".into()
            })
        );
        let mut c = config(&[
            ("s3Url", "https://m:9000"),
            ("insecureSkipTLSVerify", "true"),
        ]);
        assert_eq!(
            s3_from_config(&c).unwrap().map(|e| e.skip_tls_verify),
            Some(true)
        );
        c.insert("insecureSkipTLSVerify".into(), "maybe".into());
        assert_eq!(
            s3_from_config(&c).unwrap_err().to_string(),
            "spec.config.insecureSkipTLSVerify \"maybe\" is neither true nor false"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(
            oss_endpoint("", OssNetwork::Public),
            Err(EndpointError::NoRegion)
        );
        assert_eq!(
            oss_endpoint("oss-", OssNetwork::Public),
            Err(EndpointError::NoRegion)
        );
        assert_eq!(
            oss_endpoint("cn-hangzhou.evil.com/", OssNetwork::Public),
            Err(EndpointError::Region("cn-hangzhou.evil.com/".into()))
        );
        assert_eq!(
            oss_endpoint("CN-HANGZHOU", OssNetwork::Public),
            Err(EndpointError::Region("CN-HANGZHOU".into()))
        );
        assert_eq!(
            OssNetwork::parse("vpc"),
            Err(EndpointError::Network("vpc".into()))
        );
    }
}
