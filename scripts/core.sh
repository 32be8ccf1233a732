#!/usr/bin/env bash
# The newest ansible-core on a newer Python: `ansible-test sanity` and the unit tests with ansible-core
# $OPSNOTES_CORE (default 2.21) on Debian 13's Python 3.13, in a container of the Debian 13 base image. This host's
# Python (3.11) stops at ansible-core 2.19, which the other stages use; 2.20 and later need Python 3.12 or newer.
#   scripts/core.sh              sanity and unit tests
#   scripts/core.sh unit|sanity  one of them
# The image (the base image, python3-venv and git, and a virtual environment with ansible-core, pytest, hypothesis
# and cryptography from PyPI) is cached by its recipe, like the base images. pip reaches PyPI with this host's CA
# bundle. The collection is copied in (the tracked and new files, as scripts/sanity.sh stages them); nothing is
# written back.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CORE=${OPSNOTES_CORE:-2.21}
what=${1:-all}
CA=/etc/ssl/certs/ca-certificates.crt
BASE=$(OPSNOTES_SUITE=trixie OPSNOTES_IMAGE="" bash -c 'source scripts/lib.sh; echo "$IMAGE"')
# ansible-test bootstraps pip in each of its virtual environments from a script it downloads from a host this
# network does not reach; it takes a cached copy instead. The file name follows the pip version it pins (25.2 for
# ansible-core 2.20 and 2.21).
PIP_PIN=${OPSNOTES_CORE_PIP:-25.2}
RECIPE="3 $CORE $BASE $PIP_PIN pytest==9.2.0 hypothesis==6.170.15 cryptography"
CORE_IMAGE=$PREFIX-core-trixie:$(printf '%s' "$RECIPE" | sha256sum | cut -c1-12)

OPSNOTES_SUITE=trixie OPSNOTES_IMAGE="" scripts/build-image.sh
if docker image inspect "$CORE_IMAGE" >/dev/null 2>&1; then
  log "ansible-core $CORE image $CORE_IMAGE present, reusing it"
else
  builder=$PREFIX-core-build-$$
  trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
  log "building $CORE_IMAGE: ansible-core $CORE on Debian 13's Python"
  docker run --name "$builder" --network bridge -v "$CA:/host-ca.crt:ro" -e PIP_CERT=/host-ca.crt \
    -e DEBIAN_FRONTEND=noninteractive "$BASE" bash -c "set -e
      apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv git >/dev/null
      apt-get clean
      # Every pip here, ansible-test's own virtual environments included (it passes them no PIP_* variables),
      # trusts the host's CA bundle, mounted at each run.
      printf '[global]\ncert = /host-ca.crt\n' > /etc/pip.conf
      python3 -m venv /opt/core
      /opt/core/bin/pip install -q --disable-pip-version-check 'ansible-core==$CORE.*' pytest==9.2.0 \
        hypothesis==6.170.15 cryptography
      mkdir -p /root/.ansible/test/cache
      printf '%s\n' 'import ensurepip, subprocess, sys' 'ensurepip.bootstrap(upgrade=True)' \
        'subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"--cert\", \"/host-ca.crt\", \"pip==$PIP_PIN\"])' \
        > /root/.ansible/test/cache/get_pip_${PIP_PIN//./_}.py
      # ansible-test's sanity environments, made once here (it keeps them under ~/.ansible/test/venv, keyed by
      # their requirements and Python), in a collection of one file: each run then starts testing at once.
      prime=/tmp/prime/ansible_collections/opsnotes/prime
      mkdir -p \$prime/plugins/modules
      printf 'namespace: opsnotes\nname: prime\nversion: 0.0.1\nreadme: README.md\nauthors: [ci]\n' > \$prime/galaxy.yml
      cd \$prime && PATH=/opt/core/bin:\$PATH ansible-test sanity --prime-venvs --python \$(python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])')
      cd / && rm -rf /tmp/prime" >/dev/null \
    || { log "could not build $CORE_IMAGE"; exit 1; }
  docker commit -c 'CMD ["/bin/bash"]' "$builder" "$CORE_IMAGE" >/dev/null
  docker rm -f "$builder" >/dev/null
  log "built $CORE_IMAGE"
fi

name=$PREFIX-core-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
# The collection at /work/ansible_collections/opsnotes/edge, a git checkout of its own (ansible-test only looks at
# tracked files), then the stages asked for; each one's status is kept, both run.
git ls-files -co --exclude-standard -z | tar --null -T - -cf - \
  | docker run -i --rm --name "$name" --network bridge -v "$CA:/host-ca.crt:ro" -e PIP_CERT=/host-ca.crt \
      -e WHAT="$what" "$CORE_IMAGE" bash -c '
    set -u
    dest=/work/ansible_collections/opsnotes/edge
    mkdir -p "$dest" && tar -xf - -C "$dest" && cd "$dest"
    git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm stage
    export PATH=/opt/core/bin:$PATH
    echo "==> $(ansible --version | head -1), $(python3 --version)"
    rc=0
    if [ "$WHAT" = all ] || [ "$WHAT" = sanity ]; then
      echo "==> ansible-test sanity on $(python3 --version)"
      ansible-test sanity --python "$(python3 -c "import sys; print(\"%d.%d\" % sys.version_info[:2])")" --color no \
        || rc=1
    fi
    if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
      echo "==> unit tests"
      PYTHONPATH=/work python3 -m pytest -q -p no:cacheprovider tests/unit || rc=1
    fi
    exit $rc'
