#!/usr/bin/env bash
# The distribution path, as a user takes it: build the collection tarball, install it offline into an empty
# collections path, and run `ansible-playbook opsnotes.edge.site` from it against the container lab; then the tests
# against that lab, with the installed collection's playbooks.
#   scripts/galaxy-roundtrip.sh [all|prep|tests|cleanup]
#     prep     build, install, check the tarball and the execution environment's context, bring the lab up with
#              the installed collection's site (the lab stays up)
#     tests    the lab tests with the installed collection, then the failover benchmark; the lab is removed
#              afterwards unless it was up before prep
#     cleanup  what tests does at its end, alone (a run that stopped between the two)
#     all      prep, then tests (the default)
# prep and tests may run apart (scripts/test.sh runs the molecule scenarios between them); they share
# .cache/galaxy (the tarball, the installed copy, whether the lab was up before).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg
STATE=$ROOT/.cache/galaxy

prep() {
  rm -rf "$STATE"
  mkdir -p "$STATE"
  # The lab is removed after the tests only when this run started it.
  if docker ps -q --filter "label=$PREFIX.lab.name=$LAB" | grep -q .; then touch "$STATE/lab-was-up"; fi
  ansible-galaxy collection build --output-path "$STATE/dist" "$ROOT" >/dev/null
  tarball=$(ls "$STATE"/dist/opsnotes-edge-*.tar.gz)
  log "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) kB)"
  # Checkout-only files stay out of the tarball; what a user runs is in it.
  listing=$(tar -tzf "$tarball")
  # No dot entry at all: a checkout's .lab holds the lab's SSH keys, .hypothesis the property tests' database.
  if grep -E '^(tests|molecule|scripts|benchmarks|inventories|\.[^/]+)(/|$)' <<<"$listing"; then
    log "the tarball holds checkout-only files (see build_ignore in galaxy.yml)"; return 1
  fi
  for f in playbooks/site.yml playbooks/verify.yml playbooks/rolling_restart.yml playbooks/drift.yml \
           playbooks/oom_report.yml playbooks/renew_certificates.yml MANIFEST.json roles/nginx_acme/meta/argument_specs.yml \
           plugins/modules/lvs_dr_check.py; do
    grep -qx "$f" <<<"$listing" || { log "the tarball lacks $f"; return 1; }
  done

  # Offline, into an empty path. community.crypto (the one dependency) comes from the `ansible` package. --force:
  # without it, ansible-galaxy sees the checkout linked on ansible.cfg's path and installs nothing.
  ansible-galaxy collection install --offline --no-deps --force -p "$STATE/collections" "$tarball" >/dev/null 2>&1
  export ANSIBLE_COLLECTIONS_PATH=$STATE/collections
  where=$(ansible-galaxy collection list opsnotes.edge --format json | python3 -c \
    'import json,sys; print(" ".join(json.load(sys.stdin)))')
  case "$where" in
    "$STATE/collections/ansible_collections") log "opsnotes.edge resolves to the installed copy only" ;;
    *) log "opsnotes.edge resolves to: $where (expected only $STATE/collections)"; return 1 ;;
  esac
  ansible-doc opsnotes.edge.acme_certificate_check >/dev/null

  # The execution environment definition still produces a build context (building the image needs a registry).
  ansible-builder create -f execution-environment/execution-environment.yml -c "$STATE/ee" --output-filename Containerfile >/dev/null
  grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$STATE/ee/Containerfile" \
    && grep -q 'name: opsnotes.edge' "$STATE/ee/_build/requirements.yml" \
    || { log "ansible-builder create did not produce the expected build context"; return 1; }
  log "execution environment: ansible-builder create wrote a build context"
  LAB_PLAYBOOK=opsnotes.edge.site scripts/lab.sh up || return 1
  touch "$STATE/ready"
  log "galaxy round trip: tarball installed offline, opsnotes.edge.site ran green against the lab"
}

tests() {
  [ -f "$STATE/ready" ] || { log "the lab is not ready for the galaxy tests: scripts/galaxy-roundtrip.sh prep did not finish"; return 1; }
  export ANSIBLE_COLLECTIONS_PATH=$STATE/collections
  local work rc=0
  work=$(mktemp -d /tmp/opsnotes-galaxy.XXXXXX)
  # While the lab is up: the tests against it (TLS at the VIP judged by sslyze, the real servers' certificates
  # verified by the directors, IPVS on the directors' own kernels, and the day-2 playbooks of the installed
  # collection: rolling restart under load, drift, OOM report, a real OOM kill on a director, earlyoom and OOMPolicy=
  # there, the importer's round trip on its haproxy.cfg, HAProxy's Prometheus exporter, renewal, one order per
  # certificate for the group, renewal by the CA's window and profiles); each undoes what it changes.
  # The failover test runs as the failover benchmark, once (into a scratch file), which prints its row.
  PYTHONPATH=$ROOT/tests/testinfra python -m pytest -q --durations=8 -p no:cacheprovider tests/lab/test_lab_tls.py \
    tests/lab/test_lab_ipvs.py tests/lab/test_lab_drift.py tests/lab/test_lab_oom_report.py tests/lab/test_lab_oom_event.py \
    tests/lab/test_lab_oom_killers.py tests/lab/test_lab_rolling_restart.py tests/lab/test_lab_haproxy_import.py \
    tests/lab/test_lab_haproxy_metrics.py \
    tests/lab/test_lab_renew_certificates.py tests/lab/test_lab_fleet_certificates.py tests/lab/test_lab_ari_profiles.py \
    || rc=1
  if BENCH_ROUNDS=1 BENCH_OUT=$work/bench-failover.md benchmarks/bench.sh failover; then
    grep -E '^\| 1 \| director2? \|' "$work/bench-failover.md" || { log "the failover benchmark produced no row"; rc=1; }
  else
    rc=1
  fi
  rm -rf "$work"
  return $rc
}

cleanup() {
  [ -d "$STATE" ] || return 0
  [ -f "$STATE/lab-was-up" ] || scripts/lab.sh down
  rm -rf "$STATE"
}

case ${1:-all} in
  prep) prep ;;
  tests) rc=0; tests || rc=$?; cleanup; exit $rc ;;
  cleanup) cleanup ;;
  all) rc=0; prep && tests || rc=1; cleanup; exit $rc ;;
  *) log "usage: $0 [all|prep|tests|cleanup]"; exit 2 ;;
esac
