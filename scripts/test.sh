#!/usr/bin/env bash
# Every test stage; each runs even when an earlier one failed, and the run ends with a count.
#   scripts/test.sh all | lint | sanity | unit | differential | molecule [scenario...] | galaxy | platforms | bench
#                   | lanes "stage..." "stage..." [nice]  (two lanes side by side: lint, molecule:haproxy, galaxy:prep...)
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/container.sh"
set +e
cd "$ROOT"
export ANSIBLE_CONFIG=$ROOT/ansible.cfg PATH=$VENV/bin:$PATH

passed=0 failed=0 results=()
# Each stage's output streams as usual and is kept; a failed stage's last lines are printed again above the count,
# so the end of a long run (what a CI log's tail shows) says what failed and where.
tails=$(mktemp -d /tmp/opsnotes-stages.XXXXXX)
# A run that ends between galaxy:prep and galaxy:tests (a failure of this script, ^C) still removes the lab prep
# started (galaxy:tests does it otherwise).
trap '[ ! -f "$tails/galaxy-prep" ] || "$ROOT/scripts/galaxy-roundtrip.sh" cleanup; rm -rf "$tails"' EXIT
stage() {  # name command...
  local name=$1 start rc kept; shift
  start=$(date +%s)
  kept=$tails/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.:-' _).log
  log "stage $name (started $(date -u +%H:%M:%S))"
  "$@" 2>&1 | tee "$kept"; rc=${PIPESTATUS[0]}
  if [ $rc -eq 0 ]; then passed=$((passed + 1)); results+=("PASS $name ($(( $(date +%s) - start ))s)"); rm -f "$kept"
  else failed=$((failed + 1)); results+=("FAIL $name (rc=$rc, $(( $(date +%s) - start ))s)"); fi
}

lint() {
  yamllint -s . && ansible-lint && ruff check plugins tests molecule scripts \
    && python scripts/role_docs.py --check && antsibull-changelog lint && docs
}
# Every plugin's documentation renders with ansible-doc, and the collection passes antsibull-docs' linter.
docs() {
  local plugins
  plugins=$(cd plugins/modules && ls *.py | sed 's/\.py$//; s/^/opsnotes.edge./')
  ansible-doc -t module --json $plugins >/dev/null \
    && ansible-doc -t filter --json $(ls plugins/filter/*.yml | xargs -n1 basename | sed 's/\.yml$//; s/^/opsnotes.edge./') >/dev/null \
    && antsibull-docs lint-collection-docs --plugin-docs "$ROOT/.collections/ansible_collections/opsnotes/edge" \
    && "$ROOT/scripts/changelog-preview.sh"
}
sanity() { "$ROOT/scripts/sanity.sh"; }
unit() {
  # Unit tests import the collection through the collections path (.collections symlink).
  PYTHONPATH=$ROOT/.collections python -m pytest -q -p no:cacheprovider tests/unit
}
# The rendering layer against the real parsers (haproxy -c, syslog-ng --syntax-only, nginx -t, systemd) in one
# container of the base image; every value must come back from the running service byte for byte.
differential() {
  # -rP: the output of the passed tests too (the HAProxy corpus prints its matrix).
  PYTHONPATH=$ROOT/.collections:$ROOT/tests/unit python -m pytest -q -rP -p no:cacheprovider tests/differential
}
# The galaxy round trip in two parts (scripts/galaxy-roundtrip.sh): prep builds and installs the tarball and brings
# the lab up with it; tests runs the lab tests with it and removes the lab it started. `all` runs other stages
# between them; `scripts/test.sh galaxy` runs both in turn.
galaxy() { "$ROOT/scripts/galaxy-roundtrip.sh" all; }
# room COUNT command...: the command with room for COUNT more systemd containers on the host (make_room: the lab's
# containers stop while it runs, when they are in the way) and the lab running again after, whatever the result.
room() {
  local rc
  make_room "$1" || return 1
  shift
  "$@"; rc=$?
  give_room_back
  return $rc
}
lab_hosts_to_start() { if docker ps -q --filter "label=$PREFIX.lab.name=$LAB" | grep -q .; then echo 0; else echo ${#LAB_HOSTS[@]}; fi; }
scenario_hosts() {  # scenario... -> the most containers one of them starts
  python3 -c 'import sys, yaml; print(max(len(yaml.safe_load(open("molecule/%s/molecule.yml" % s))["platforms"]) for s in sys.argv[1:]))' "$@"
}
# Debian 13: the whole site on a lab of its own, green and idempotent (Debian 12: everything above).
# ansible-core's newest release (2.21) on Debian 13's Python 3.13: sanity and unit tests in a container
# (scripts/core.sh; about 5 minutes once its image is built). In `all` it runs in the niced lane of the last round.
core() { "$ROOT/scripts/core.sh"; }
# PLATFORMS_BENCH=1: its lab also runs the benchmarks that need a lab (tasks, connections), once each.
platforms() { PLATFORMS_BENCH=1 "$ROOT/scripts/platforms.sh"; }
# What a container's kernel cannot show, in a guest kernel (user-mode Linux, scripts/guest-image.sh): the OOM killer
# sparing the process the collection protects, a packet through IPVS. Each guest boots in its own container with no
# network.
kernel() {
  "$ROOT/scripts/guest-image.sh" >/dev/null
  PYTHONPATH=$ROOT/tests/kernel python -m pytest -q -p no:cacheprovider "$ROOT/tests/kernel"
}
# The benchmarks still run (tiny sizes, into a scratch file; the ones that need a lab run on the platforms stage's
# lab). Their figures come from `make bench`, never from timed tests.
bench() {
  mkdir -p "$ROOT/.cache"
  BENCH_ROUNDS=1 BENCH_SIZES=2 BENCH_OUT=$ROOT/.cache/bench-smoke.md "$ROOT/benchmarks/bench.sh" compare scale
}
# Molecule looks for a scenario named "default" to share state with; this project has none, and molecule says so
# with a CRITICAL line on every green run ("'molecule/default/molecule.yml' glob failed.  Exiting.", then "default
# scenario not found, disabling shared state" and it goes on). That one line is dropped, so a green run shows nothing
# that looks like a failure; molecule's exit status is kept.
molecule_scenario() {
  ( set -o pipefail
    COLUMNS=${COLUMNS:-400} molecule test -s "$1" 2>&1 | sed -u "/'molecule\/default\/molecule.yml' glob failed/d" )
}

# A stage by its name, as `scripts/test.sh NAME` runs it, without room of its own (the lanes make it for both).
named_stage() {
  case $1 in
    molecule:*) molecule_scenario "${1#molecule:}" ;;
    lint|sanity|unit|differential|kernel|platforms|bench|core|galaxy) "$1" ;;
    galaxy:prep) touch "$tails/galaxy-prep"; "$ROOT/scripts/galaxy-roundtrip.sh" prep ;;
    galaxy:tests) "$ROOT/scripts/galaxy-roundtrip.sh" tests ;;
    *) echo "no stage named $1" >&2; return 2 ;;
  esac
}
# The systemd containers a stage starts at most (the guests of the kernel stage run no systemd on the host).
stage_hosts() {
  case $1 in
    molecule:*) scenario_hosts "${1#molecule:}" ;;
    differential) echo 2 ;;
    platforms) echo ${#LAB_HOSTS[@]} ;;
    galaxy|galaxy:prep) lab_hosts_to_start ;;   # galaxy:tests runs on the lab prep left up
    bench) echo 2 ;;   # the scale benchmark's size in bench() below
    *) echo 0 ;;
  esac
}
lane_hosts() {  # "stage..." -> the most containers one of them starts
  local name most=0 n
  for name in $1; do n=$(stage_hosts "$name"); [ "$n" -le "$most" ] || most=$n; done
  echo $most
}

# Two lanes of stages side by side: CI has two cores, and most stages either use one (lint, sanity, unit) or spend
# most of their time waiting on containers (boots, health checks, timers, load windows). The first lane's output
# streams as usual; the second's is printed when it ends. Every stage keeps its own containers and network, and the
# room for both lanes' containers is made once, before either starts.
# With `nice`, the second lane runs at the lowest CPU priority: it takes only what the first leaves idle. The stages
# that measure timing closely (keepalived's failover gaps, the lab's rolling restart and failover) run so, beside
# nothing but such a lane.
lanes() {  # "stage..." "stage..." [nice]
  local dir pid line result nice=${3:-}
  if ! make_room $(( $(lane_hosts "$1") + $(lane_hosts "$2") )); then
    failed=$((failed + 1)); results+=("FAIL $1 | $2 (no room for their containers)"); return
  fi
  dir=$(mktemp -d /tmp/opsnotes-stages.XXXXXX)
  run_lane() {  # index stages
    local name passed=0 failed=0 results=()
    for name in $2; do stage "$name" named_stage "$name"; done
    printf '%s\n' "${results[@]}" >"$dir/$1.results"
  }
  if [ "$nice" = nice ]; then
    ( renice -n 19 -p "$BASHPID" >/dev/null; run_lane 1 "$2" ) >"$dir/1.log" 2>&1 &
  else
    run_lane 1 "$2" >"$dir/1.log" 2>&1 &
  fi
  pid=$!
  run_lane 0 "$1"
  wait "$pid"
  log "the stages run beside the ones above ($2${nice:+, at the lowest CPU priority}):"
  cat "$dir/1.log"
  for line in 0 1; do
    while read -r result; do
      results+=("$result")
      case $result in PASS*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
    done <"$dir/$line.results"
  done
  rm -rf "$dir"
  give_room_back
}

# What the project has on docker (containers, running or not, and networks named $PREFIX-*), and what of it runs.
ours() { { docker ps -a --format 'container {{.Names}}'; docker network ls --format 'network {{.Name}}'; } | grep " $PREFIX-" | sort; }
running() { docker ps --format '{{.Names}}' | grep "^$PREFIX-" | sort; }
# No stage leaves a container or a network behind, and what ran before the run (a `make lab`) runs after it: a
# leftover is named, removed, and fails the run.
leftovers() {
  local left stopped kind name
  left=$(comm -13 <(echo "$ours_before") <(ours))
  stopped=$(comm -23 <(echo "$running_before") <(running))
  [ -z "$stopped" ] || log "stopped by the run and not started again: $(echo $stopped)"
  if [ -z "$left" ]; then
    [ -n "$stopped" ] && return 1
    log "no container or network left behind"
    return 0
  fi
  log "left behind by the run (removed now): $(echo $left)"
  while read -r kind name; do
    case $kind in container) docker rm -f "$name" >/dev/null ;; esac
  done <<<"$left"
  while read -r kind name; do
    case $kind in network) docker network rm "$name" >/dev/null ;; esac
  done <<<"$left"
  return 1
}

what=${1:-all}; shift || true
case "$what" in
  all)
    ours_before=$(ours) running_before=$(running)
    # Three rounds, each two lanes: the machine's two cores stay busy, and the work is cut where it repeats, not
    # where it proves something.
    #  1. the benchmarks' smoke and the small scenarios beside the Debian 13 lab;
    #  2. the HAProxy scenario, keepalived's failover, the guest kernels' (a VRRP failover under requests, at most 3
    #     of about 60 failed), then the galaxy round trip's lab: the tarball's site on the lab (`make lab`'s when it
    #     is up, else one of its own), which stays up; beside them the ACME scenario at the lowest CPU priority (it
    #     measures no timing, and it is the longest: it takes what they leave idle);
    #  3. the lab tests against that lab (its rolling restart under load), with the checks of the code beside them
    #     at the lowest CPU priority (ansible-core 2.21's sanity and unit tests on Debian 13's Python among them).
    lanes "bench molecule:syslog_ng molecule:oom_protect molecule:lvs_dr" platforms
    lanes "molecule:haproxy molecule:keepalived kernel galaxy:prep" molecule:nginx_acme nice
    # A scenario not named here runs alone. (molecule/shared holds what the scenarios share, no scenario.)
    for s in molecule/*/molecule.yml; do
      s=${s%/molecule.yml}
      case " nginx_acme lvs_dr syslog_ng oom_protect haproxy keepalived " in
        *" $(basename "$s") "*) ;;
        *) stage "molecule:$(basename "$s")" room "$(scenario_hosts "$(basename "$s")")" molecule_scenario "$(basename "$s")" ;;
      esac
    done
    lanes galaxy:tests "lint sanity unit differential core" nice
    stage leftovers leftovers ;;
  lint|sanity|unit|differential|platforms|kernel|bench|core) stage "$what" "$what" ;;
  # The galaxy stage runs against the lab when it is up, and starts one of its own (then removes it) when not.
  galaxy) stage galaxy room "$(lab_hosts_to_start)" galaxy ;;
  lanes) lanes "$1" "$2" "${3:-}" ;;
  molecule)
    scenarios=("$@"); [ ${#scenarios[@]} -gt 0 ] || scenarios=($(cd molecule && ls -d */molecule.yml | cut -d/ -f1))
    for s in "${scenarios[@]}"; do stage "molecule:$s" room "$(scenario_hosts "$s")" molecule_scenario "$s"; done ;;
  *) echo "usage: $0 all|lint|sanity|unit|differential|molecule [scenario...]|galaxy|platforms|kernel|bench|core|lanes 'stage...' 'stage...' [nice]" >&2
     exit 2 ;;
esac

for kept in "$tails"/*.log; do
  [ -e "$kept" ] || continue
  printf '\n==> the last lines of the failed stage %s:\n' "$(basename "$kept" .log)"
  grep -av '^\(ok\|skipping\|included\): ' "$kept" | tail -n 40
done
# A CI log is often read from its last lines only: each failed stage's reasons (pytest's FAILED/ERROR lines and
# their first assertion line, Ansible's failed tasks, the scripts' own messages) come again, a few lines each, just
# above the count.
for kept in "$tails"/*.log; do
  [ -e "$kept" ] || continue
  printf '==> why %s failed:\n' "$(basename "$kept" .log)"
  sed 's/\x1b\[[0-9;]*m//g; s/^ *│ \{0,1\}//' "$kept" \
    | grep -aE '^(FAILED|ERROR) [^ ]|^E +[^ ]|^fatal: \[|^failed: \[|^==> .*(fail|lack|expect|no |not |cannot|refus)' \
    | grep -avE '^E +$' | awk '!seen[$0]++' | tail -n 6 | cut -c1-220 | sed 's/^/    /'
done
echo
printf '%s\n' "${results[@]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
