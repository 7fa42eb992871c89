#!/usr/bin/env bash
# Install the Debian packages behind the named local services (all of them when none is named).
# Used by .ci/run and by the GitHub workflow, so both provision a machine the same way.
set -euo pipefail
declare -A PKGS=(
  [postgres]="postgresql postgresql-client"
  [rabbitmq]="rabbitmq-server amqp-tools"
  [kafka]="openjdk-17-jdk-headless maven kcat"
  [hdfs]="openjdk-17-jdk-headless maven"
  [hive]="openjdk-17-jdk-headless"
  [moto]=""
  [prometheus]="prometheus"
  [pushgateway]="prometheus-pushgateway"
  # Not a service: the headless browser the showcase page is checked in.
  [showcase]="chromium"
  # Not a service: the reference exporter projects/monitoring's benchmark runs beside its own.
  [monitoring]="prometheus-postgres-exporter"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${!PKGS[@]}")
want=(lsof procps psmisc curl docker-compose)
for n in "${names[@]}"; do
  [ -v "PKGS[$n]" ] || { echo "unknown service: $n (have: ${!PKGS[*]})" >&2; exit 2; }
  # shellcheck disable=SC2206
  want+=(${PKGS[$n]})
done
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts packaged daemons on install; our services run on their own ports from their own
# state folders, so the distribution's copies on the default ports are stopped and disabled.
for unit in postgresql rabbitmq-server prometheus prometheus-pushgateway prometheus-node-exporter prometheus-postgres-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  fi
done
echo "apt: ${#want[@]} packages present (${#missing[@]} installed now)"
