#!/usr/bin/env bash
# Build the lab/molecule base image from Debian's archive with debootstrap (no registry needed).
# Cached: the tag is a hash of the suite and package list, so the image is reused while they
# stay the same and rebuilt when they change.
source "$(dirname "$0")/lib.sh"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  docker tag "$IMAGE" "${IMAGE%%:*}:latest"
  log "base image $IMAGE present, reusing it"
  exit 0
fi
work=$(mktemp -d /var/tmp/$PREFIX-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
log "debootstrap $SUITE into $work (packages: $BASE_PACKAGES)"
debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$work" "$MIRROR" >"$work.log" 2>&1 \
  || { tail -30 "$work.log"; exit 1; }
rm -f "$work.log"
# A container has no console getty to wait for and no need for the archive's package cache.
chroot "$work" systemctl mask getty@tty1.service console-getty.service systemd-udevd.service \
  systemd-udevd-kernel.socket systemd-udevd-control.socket systemd-networkd-wait-online.service >/dev/null 2>&1 || true
chroot "$work" apt-get clean
# Keep the package lists (a real host has them, and check mode needs them to find packages), but
# date them to the epoch: apt's cache_valid_time then sees them as stale and the first real install
# in a container refreshes them.
find "$work"/var/lib/apt/lists -exec touch -h -d @0 {} +
rm -f "$work"/var/lib/apt/periodic/update-success-stamp
log "importing as $IMAGE"
tar -C "$work" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$IMAGE" >/dev/null
docker tag "$IMAGE" "${IMAGE%%:*}:latest"
log "built $IMAGE"
