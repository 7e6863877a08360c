//! Throwaway certificates made with the openssl CLI: a CA, a server certificate for 127.0.0.1
//! and a client certificate it signed, and a client certificate of another CA.

use super::tempdir::TempDir;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A client certificate (clientAuth) the CA signed, and its key.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A client certificate signed by a CA the server does not know.
    pub rogue_cert: PathBuf,
    pub rogue_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run openssl ({error}): install it (Debian package openssl)")
        });
    assert!(
        output.status.success(),
        "openssl {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const EC: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

fn ca(dir: &Path, name: &str) {
    let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
    let subject = format!("/CN=backupscope test {name}");
    args.push(&subject);
    args.extend(EC);
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    args.extend(["-keyout", &key, "-out", &pem]);
    openssl(dir, &args);
}

/// A leaf named `name` with the extensions `ext`, signed by CA `ca`.
fn leaf(dir: &TempDir, ca: &str, name: &str, subject: &str, ext: &str) {
    let path = dir.path();
    let (key, csr, pem, ext_file) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let mut args = vec!["req", "-new", "-subj", subject];
    args.extend(EC);
    args.extend(["-keyout", &key, "-out", &csr]);
    openssl(path, &args);
    dir.write(&ext_file, ext);
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        path,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-set_serial",
            "1",
            "-days",
            "2",
            "-extfile",
            &ext_file,
            "-out",
            &pem,
        ],
    );
}

impl Pki {
    pub fn new(dir: &TempDir) -> Pki {
        let path = dir.path();
        // webpki refuses a CA certificate as a server's own, so the server gets a leaf signed by
        // a throwaway CA, which is what the client trusts.
        ca(path, "ca");
        ca(path, "rogue-ca");
        leaf(
            dir,
            "ca",
            "server",
            "/CN=127.0.0.1",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
        );
        let client_ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                          extendedKeyUsage=clientAuth\n";
        leaf(dir, "ca", "client", "/CN=prometheus", client_ext);
        leaf(dir, "rogue-ca", "rogue", "/CN=intruder", client_ext);
        Pki {
            ca: path.join("ca.pem"),
            ca_key: path.join("ca.key"),
            cert: path.join("server.pem"),
            key: path.join("server.key"),
            client_cert: path.join("client.pem"),
            client_key: path.join("client.key"),
            rogue_cert: path.join("rogue.pem"),
            rogue_key: path.join("rogue.key"),
        }
    }
}
