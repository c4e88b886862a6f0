#!/usr/bin/env bash
# Installs the system packages the test suite runs for real (mosquitto broker and its
# clients, redis-server and redis-cli, openssl for the TLS test's certificates, iptables for the
# partition tests, nginx for the client-certificate tests), via apt, only
# when they are missing. Used by `npm test`
# (pretest) and .ci/run.
set -euo pipefail

missing=()
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
# redis-server depends on redis-tools, which brings redis-cli (the harness creates clusters with it).
if ! { [ -x /usr/bin/redis-server ] || command -v redis-server >/dev/null 2>&1; }; then
  missing+=(redis-server)
elif ! command -v redis-cli >/dev/null 2>&1; then
  missing+=(redis-tools)
fi

command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Prometheus and promtool: the dashboard and alert-rule tests (test/prometheus-*.test.ts).
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
# The partition tests cut one gateway process off with iptables (owner match, conntrack marks).
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
# nginx: the TLS proxy doing mutual TLS in front of the gateway in the client-certificate tests.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)

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

# The Debian packages start system services (mosquitto on 1883, redis-server on 6379); the tests
# start their own servers on free ports, and the README quick start needs 1883 for the gateway's
# embedded broker. Only the services just installed are stopped, never one that was there before.
stop_service() {
  if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl disable --now "$1" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then "${sudo[@]}" service "$1" stop >/dev/null 2>&1 || true; fi
}
for pkg in "${missing[@]}"; do
  case "$pkg" in
    mosquitto | redis-server | prometheus | nginx) stop_service "$pkg" ;;
  esac
done
