#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/opsnotes/edge inside a git
# checkout (it only looks at tracked files): stage the tracked and new files there.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# Workaround for this network: ansible-test downloads a pip bootstrap script from a host that is
# not reachable here. It accepts a cached copy; this stand-in bootstraps pip from ensurepip and the
# reachable package index instead. The file name follows the pip version ansible-test pins.
cache=~/.ansible/test/cache
mkdir -p "$cache"
cat > "$cache/get_pip_24_2.py" <<'PY'
import ensurepip, subprocess, sys
ensurepip.bootstrap(upgrade=True)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--cert", "/etc/ssl/certs/ca-certificates.crt", "pip==24.2"])
PY

stage=$(mktemp -d /tmp/$PREFIX-sanity.XXXXXX)
trap 'rm -rf "$stage"' EXIT
dest=$stage/ansible_collections/opsnotes/edge
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents -P {} "$dest/" 2>/dev/null
( cd "$dest" && git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm stage )
cd "$dest"
ansible-test sanity --python 3.11 --color no "$@"
