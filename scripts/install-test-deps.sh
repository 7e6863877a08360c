#!/usr/bin/env bash
# Installs the real parts the tests run against (Debian packages), only when missing.
#   prometheus             -> /usr/bin/prometheus, /usr/bin/promtool
#   prometheus-alertmanager -> /usr/bin/prometheus-alertmanager, /usr/bin/amtool
#   openssl                -> test certificates
#   chromium, nodejs, npm  -> the browser test of the web UI (tests/web_ui.rs), with the npm
#                             packages of tests/browser (playwright-core) installed by npm ci
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# openssl makes the throwaway CA and certificate of the TLS test.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The web UI test drives Debian's chromium with npm playwright-core (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)

# npm packages of the browser test, into the git-ignored tests/browser/node_modules, exactly as
# package-lock.json pins them.
browser_deps() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    echo "installing npm packages of tests/browser" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

if [ ${#need[@]} -eq 0 ]; then
  browser_deps
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
browser_deps
