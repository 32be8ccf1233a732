#!/usr/bin/env bash
# The guest-kernel image for the tests a container's kernel cannot show (tests/kernel/): user-mode Linux (a Linux
# kernel that runs as a program, with its own OOM killer, cgroups and IPVS), and a Debian 12 root for its guest.
#
# The host kernel's containers share that kernel: no IPVS module, and no CAP_SYS_RESOURCE, so no negative OOM score.
# A guest kernel has both. Debian 12's and 13's user-mode-linux (6.1, 6.12) stop at their first process on hosts
# whose CPU has AMX ("ptrace set fp regs failed, errno = 14"); the next release's (forky, 7.x) runs there. It needs
# the C library of Debian 13, so the image is Debian 13 with user-mode-linux alone from forky (a pin: nothing else),
# and the guest's root (/guest) is Debian 12 with its kernel's modules, made with debootstrap.
#
# Cached: each tag is a hash of this recipe, so the images are reused while it stays the same. Two images: the kernel
# alone ($PREFIX-uml: Debian 13 with user-mode-linux, what the lab's guests run in, scripts/lab-guest-image.sh) and,
# on top of it, the guest root of tests/kernel ($PREFIX-guest). Prints the name of the one asked for.
#   scripts/guest-image.sh [guest|uml]      default: guest
source "$(dirname "$0")/lib.sh"

WANT=${1:-guest}
GUEST_SUITE=bookworm
GUEST_PACKAGES=python3,procps,kmod,iproute2,ipvsadm,keepalived
recipe=$(sha256sum "$0" | cut -c1-16)
UML_IMAGE=$PREFIX-uml:$(printf '%s uml' "$recipe" | sha256sum | cut -c1-12)
GUEST_IMAGE=$PREFIX-guest:$(printf '%s %s %s' "$recipe" "$GUEST_SUITE" "$GUEST_PACKAGES" | sha256sum | cut -c1-12)

if docker image inspect "$UML_IMAGE" >/dev/null 2>&1; then
  log "user-mode Linux image $UML_IMAGE present, reusing it"
else
  # The Debian 13 base image (the platform stage's), built when missing.
  base=$(OPSNOTES_SUITE=trixie OPSNOTES_IMAGE="" bash -c 'source "$0"; echo "$IMAGE"' "$(dirname "$0")/lib.sh")
  OPSNOTES_SUITE=trixie OPSNOTES_IMAGE="" "$ROOT/scripts/build-image.sh" >&2
  log "building $UML_IMAGE from $base (user-mode-linux from forky)"
  docker build --quiet --network host -t "$UML_IMAGE" - >&2 <<EOF
FROM $base
RUN printf 'deb [check-valid-until=no] $MIRROR forky main\n' > /etc/apt/sources.list.d/opsnotes-uml.list \
 && printf 'Package: user-mode-linux\nPin: release n=forky\nPin-Priority: 990\n\nPackage: *\nPin: release n=forky\nPin-Priority: -1\n' \
      > /etc/apt/preferences.d/opsnotes-uml \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends user-mode-linux debootstrap e2fsprogs \
      >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
EOF
fi
if [ "$WANT" = uml ]; then
  echo "$UML_IMAGE"
  exit 0
fi
if docker image inspect "$GUEST_IMAGE" >/dev/null 2>&1; then
  log "guest image $GUEST_IMAGE present, reusing it"
  echo "$GUEST_IMAGE"
  exit 0
fi
log "building $GUEST_IMAGE from $UML_IMAGE (a $GUEST_SUITE guest root)"
docker build --quiet --network host -t "$GUEST_IMAGE" - >&2 <<EOF
FROM $UML_IMAGE
RUN debootstrap --variant=minbase --include=$GUEST_PACKAGES $GUEST_SUITE /guest $MIRROR >/dev/null \
 && mkdir -p /guest/lib/modules && cp -r /usr/lib/uml/modules/* /guest/lib/modules/ \
 && rm -rf /guest/var/cache/apt/archives/*.deb
EOF
echo "$GUEST_IMAGE"
