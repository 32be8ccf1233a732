#!/usr/bin/env bash
# Install and start what the lab and the tests need on a fresh Debian 12 machine (root):
# docker.io and debootstrap from Debian's archive, then dockerd when no daemon answers.
source "$(dirname "$0")/lib.sh"

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v git >/dev/null || missing+=(git)
# The lab's SSH mode (scripts/lab.sh ssh) and its benchmark reach the containers with ssh, as fleets are reached.
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || missing+=(openssh-client)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  # No systemd as PID 1 on these machines: start the daemon directly, detached from this shell.
  # The networks docker numbers itself (the scenarios', the benchmarks') come from 172.20.0.0/14 in /24s, never from
  # 172.29.0.0/16: docker's default pools walk every 172.16-31 /16, and a network it gave 172.29.0.0/16 would stop the
  # labs' fixed subnets there (172.29.210-213.0/24, the VIP's among them) from being created.
  setsid dockerd --default-address-pool base=172.20.0.0/14,size=24 >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/dockerd.log; log "dockerd did not start"; exit 1; }
fi
log "docker $(docker info --format '{{.ServerVersion}}') ready"
