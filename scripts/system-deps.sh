#!/usr/bin/env bash
# Installs the system packages the test suite runs for real (mosquitto broker and its
# clients), via apt, only when they are missing. Used by `npm test` (pretest) and .ci/run.
set -euo pipefail

missing=()
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)

[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]} with apt-get" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "system-deps: need root to install ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian package starts a system broker on 1883; the tests start their own brokers on free
# ports, and the README quick start needs 1883 for the gateway's embedded broker.
if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
if command -v service >/dev/null 2>&1; then "${sudo[@]}" service mosquitto stop >/dev/null 2>&1 || true; fi
