# Shared settings for the project's shell scripts. Sourced, not run.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PREFIX=${OPSNOTES_PREFIX:-opsnotes}            # every container, network and image we create starts with this
SUITE=${OPSNOTES_SUITE:-bookworm}
MIRROR=${OPSNOTES_MIRROR:-http://deb.debian.org/debian}
# Packages of the lab base image. Changing this list changes the image tag, so the image is rebuilt.
BASE_PACKAGES=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,iputils-arping,iputils-ping,curl,ca-certificates
# Bump when build-image.sh changes what goes into the image.
IMAGE_RECIPE=3
IMAGE_TAG=$(printf '%s %s %s' "$IMAGE_RECIPE" "$SUITE" "$BASE_PACKAGES" | sha256sum | cut -c1-12)
IMAGE=${OPSNOTES_IMAGE:-$PREFIX-base-$SUITE:$IMAGE_TAG}
OPSNOTES_IMAGE=$IMAGE   # molecule.yml platforms read this
# The container lab (lab.sh): containers $PREFIX-$LAB-<host> on the network $PREFIX-$LAB, in the /24 $LAB_NET.0.
# inventories/lab reads the same two variables, so several labs (one per Debian release) can run side by side.
LAB=${OPSNOTES_LAB:-lab}
LAB_NET=${OPSNOTES_LAB_NET:-172.29.213}
# The lab's hosts (inventories/lab): one systemd container each.
LAB_HOSTS=(director director2 rs1 rs2 client collector acme)
# Those of them that run a kernel of their own (a user-mode Linux guest: IPVS, OOM kills), reached over SSH.
LAB_GUESTS=(director director2)
export VENV IMAGE PREFIX OPSNOTES_IMAGE

log() { printf '==> %s\n' "$*" >&2; }
