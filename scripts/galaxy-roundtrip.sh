#!/usr/bin/env bash
# The distribution path, as a user takes it: build the collection tarball, install it offline into an empty
# collections path, and run `ansible-playbook opsnotes.edge.site` from it against the container lab.
# The lab is removed afterwards unless it was already up.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg

work=$(mktemp -d /tmp/opsnotes-galaxy.XXXXXX)
lab_was_up=$(docker ps -q --filter "label=$PREFIX.lab=1")
cleanup() {
  rm -rf "$work"
  [ -n "$lab_was_up" ] || scripts/lab.sh down
}
trap cleanup EXIT

ansible-galaxy collection build --output-path "$work/dist" "$ROOT" >/dev/null
tarball=$(ls "$work"/dist/opsnotes-edge-*.tar.gz)
log "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) kB)"
# Checkout-only files stay out of the tarball; what a user runs is in it.
listing=$(tar -tzf "$tarball")
if grep -E '^(tests|molecule|scripts|benchmarks|inventories|\.venv|\.collections)/' <<<"$listing"; then
  log "the tarball holds checkout-only files (see build_ignore in galaxy.yml)"; exit 1
fi
for f in playbooks/site.yml playbooks/verify.yml playbooks/rolling_restart.yml playbooks/drift.yml \
         playbooks/oom_report.yml playbooks/renew_certificates.yml MANIFEST.json roles/nginx_acme/meta/argument_specs.yml \
         plugins/modules/lvs_dr_check.py; do
  grep -qx "$f" <<<"$listing" || { log "the tarball lacks $f"; exit 1; }
done

# Offline, into an empty path. community.crypto (the one dependency) comes from the `ansible` package. --force:
# without it, ansible-galaxy sees the checkout linked on ansible.cfg's path and installs nothing.
ansible-galaxy collection install --offline --no-deps --force -p "$work/collections" "$tarball" >/dev/null 2>&1
export ANSIBLE_COLLECTIONS_PATH=$work/collections
where=$(ansible-galaxy collection list opsnotes.edge --format json | python3 -c \
  'import json,sys; print(" ".join(json.load(sys.stdin)))')
case "$where" in
  "$work/collections/ansible_collections") log "opsnotes.edge resolves to the installed copy only" ;;
  *) log "opsnotes.edge resolves to: $where (expected only $work/collections)"; exit 1 ;;
esac
ansible-doc opsnotes.edge.acme_certificate_check >/dev/null

# The execution environment definition still produces a build context (building the image needs a registry).
ansible-builder create -f execution-environment/execution-environment.yml -c "$work/ee" --output-filename Containerfile >/dev/null
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$work/ee/Containerfile" \
  && grep -q 'name: opsnotes.edge' "$work/ee/_build/requirements.yml" \
  || { log "ansible-builder create did not produce the expected build context"; exit 1; }
log "execution environment: ansible-builder create wrote a build context"
LAB_PLAYBOOK=opsnotes.edge.site scripts/lab.sh up
log "galaxy round trip: tarball installed offline, opsnotes.edge.site ran green against the lab"
# While the lab is up: the tests against it (TLS at the VIP judged by sslyze, the real servers' certificates
# verified by the directors, IPVS on the directors' own kernels, and the day-2 playbooks of the installed collection:
# rolling restart under load, drift, OOM report, a real OOM kill on a director, earlyoom and OOMPolicy= there, the
# importer's round trip on its haproxy.cfg, HAProxy's Prometheus exporter, renewal, one order per certificate for
# the group, renewal by the CA's window and profiles); each undoes what it changes.
# The failover test runs as the failover benchmark, once (into a scratch file), which prints its row.
PYTHONPATH=$ROOT/tests/testinfra python -m pytest -q --durations=8 -p no:cacheprovider tests/lab/test_lab_tls.py \
  tests/lab/test_lab_ipvs.py tests/lab/test_lab_drift.py tests/lab/test_lab_oom_report.py tests/lab/test_lab_oom_event.py \
  tests/lab/test_lab_oom_killers.py tests/lab/test_lab_rolling_restart.py tests/lab/test_lab_haproxy_import.py \
  tests/lab/test_lab_haproxy_metrics.py \
  tests/lab/test_lab_renew_certificates.py tests/lab/test_lab_fleet_certificates.py tests/lab/test_lab_ari_profiles.py
BENCH_ROUNDS=1 BENCH_OUT=$work/bench-failover.md benchmarks/bench.sh failover
grep -E '^\| 1 \| director2? \|' "$work/bench-failover.md" || { log "the failover benchmark produced no row"; exit 1; }
