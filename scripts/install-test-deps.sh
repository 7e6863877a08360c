#!/usr/bin/env bash
# Installs the real parts the tests run against (Debian packages), only when missing.
#   prometheus             -> /usr/bin/prometheus, /usr/bin/promtool
#   prometheus-alertmanager -> /usr/bin/prometheus-alertmanager, /usr/bin/amtool
#   openssl                -> test certificates
#   nodejs, npm            -> node, and the npm packages of tests/js (Grafana's dashboard
#                             schema and table transformations, a JSON Schema generator, ajv)
#                             in tests/js/node_modules
set -euo pipefail
cd "$(dirname "$0")/.."

# The npm packages the dashboard tests run (tests/dashboards_*.rs), at the versions
# tests/js/package-lock.json pins; reinstalled when the lock changes.
install_npm_deps() {
  local stamp=tests/js/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/js/package-lock.json -nt "$stamp" ]; then
    echo "installing tests/js npm packages" >&2
    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >/dev/null
  fi
}

need=()
command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# openssl makes the throwaway CA and certificate of the TLS test.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)

if [ ${#need[@]} -eq 0 ]; then
  install_npm_deps
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing test dependencies: ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The packages start system services; tests run their own instances on free loopback ports.
for svc in prometheus prometheus-alertmanager; do
  $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
done
install_npm_deps
