#!/usr/bin/env bash
# Installs the real parts the tests run against (Debian packages), only when missing.
#   prometheus             -> /usr/bin/prometheus, /usr/bin/promtool
#   prometheus-alertmanager -> /usr/bin/prometheus-alertmanager, /usr/bin/amtool
#   openssl                -> test certificates
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# openssl makes the throwaway CA and certificate of the TLS test.
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
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
