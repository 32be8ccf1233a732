#!/usr/bin/env bash
# The roles on the other Debian releases the collection supports. For each suite: build its base image with
# debootstrap, start a lab of its own on it (containers $PREFIX-<suite>-<host>, its own network and /24, so
# `make lab` is left alone), run site.yml (which ends with the verify report and fails on any red check), run it
# again and require changed=0 on every host, then remove that lab. Debian 12 (bookworm) is covered by
# the molecule scenarios and the galaxy stage.
#   scripts/platforms.sh [suite...]      default: trixie (Debian 13); bullseye (Debian 11, out of support) on request
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/container.sh"
cd "$ROOT"
mkdir -p .cache
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie)
# One /24 per suite, below the default lab's 172.29.213.0/24.
declare -A nets=([bullseye]=172.29.211 [trixie]=172.29.212 [bookworm]=172.29.210)

# The suites' labs run side by side (each its own containers, network and /24): the stage takes about the time of
# the slowest suite instead of their sum. Each suite's output goes to .cache/platform-<suite>.log, shown when done.
# On every exit, success or failure: each suite's lab is removed (a green suite removed its own already) and what
# make_room stopped runs again.
running=()
cleanup() {
  local suite
  for suite in "${running[@]}"; do OPSNOTES_LAB=$suite scripts/lab.sh down >/dev/null 2>&1 || true; done
  give_room_back
}
trap cleanup EXIT

one_suite() {  # suite net: first run on a fresh lab, then a second run that must change nothing, then remove it
  local suite=$1 net=$2 recap
  export OPSNOTES_SUITE=$suite OPSNOTES_IMAGE="" OPSNOTES_LAB=$suite OPSNOTES_LAB_NET=$net
  log "$suite: first run of site.yml on a fresh lab"
  scripts/lab.sh down   # leftovers of an interrupted run
  scripts/lab.sh up >".cache/platform-$suite.first.log" 2>&1 \
    || { tail -60 ".cache/platform-$suite.first.log"; log "$suite: first run failed"; return 1; }
  sed -n '/HOST  *CHECK/,/^$/p' ".cache/platform-$suite.first.log" | cut -c1-160
  log "$suite: second run, every host must report changed=0"
  ansible-playbook site.yml -i inventories/lab >".cache/platform-$suite.second.log" 2>&1 \
    || { tail -60 ".cache/platform-$suite.second.log"; log "$suite: second run failed"; return 1; }
  recap=$(sed -n '/PLAY RECAP/,/^$/p' ".cache/platform-$suite.second.log")
  echo "$recap"
  if ! echo "$recap" | grep -q 'changed=0'; then log "$suite: no recap in the second run"; return 1; fi
  if echo "$recap" | grep -Eq 'changed=[1-9]'; then
    grep -B2 -E '^changed:' ".cache/platform-$suite.second.log" | head -40
    log "$suite: the second run changed something (not idempotent)"
    return 1
  fi
  log "$suite: site.yml green and idempotent"
  # The first suite's lab, converged and idempotent, also runs the benchmarks that need a lab, once each into a
  # scratch file (PLATFORMS_BENCH=1, as `make test` sets it): module executions per host and role, and the site
  # over SSH with Mitogen (the connection that takes most code: SSH set up on every host, Mitogen's strategy).
  # Their figures, and the variants left out here, come from `make bench`.
  if [ "${PLATFORMS_BENCH:-0}" = 1 ] && [ "$suite" = "${suites[0]}" ]; then
    BENCH_CONVERGED=1 BENCH_ROUNDS=1 BENCH_UNPIPED=0 BENCH_CONNECTIONS=ssh-mitogen BENCH_OUT=".cache/platform-$suite.bench.md" \
      benchmarks/bench.sh tasks connections || { log "$suite: the benchmarks on its lab failed"; return 1; }
    grep -q '^| director |' ".cache/platform-$suite.bench.md" || { log "$suite: the tasks benchmark wrote no table"; return 1; }
    grep -qE '^\| 1 \| ssh-mitogen \| [0-9.]+ \|' ".cache/platform-$suite.bench.md" \
      || { log "$suite: the connections benchmark wrote no row"; return 1; }
    # The collection's promise: at most two module executions per host and role on an idempotent run.
    if ! python3 - ".cache/platform-$suite.bench.md" <<'PY'
import sys
rows = [line.strip().strip('|').split('|') for line in open(sys.argv[1]) if line.startswith('| ')]
header = [cell.strip() for cell in rows[0]]
over = ['%s: %s %s' % (row[0].strip(), header[i], row[i].strip()) for row in rows[2:] if len(row) == len(header)
        for i in range(1, len(header)) if header[i] not in ('verify play', 'total', 'changed')
        and row[i].strip().isdigit() and int(row[i]) > 2]
for item in over:
    print('over two module executions per role on an idempotent run: ' + item)
sys.exit(1 if over or header[0] != 'Host' else 0)
PY
    then log "$suite: a role took more than two module executions on a host"; return 1; fi
    log "$suite: the benchmarks that need a lab ran on it (.cache/platform-$suite.bench.md), at most two module" \
        "executions per host and role"
  fi
  scripts/lab.sh down
}

# The base images first, one at a time (debootstrap), in this shell's environment per suite.
for suite in "${suites[@]}"; do
  [ -n "${nets[$suite]:-}" ] || { log "no lab network assigned to suite '$suite' (known: ${!nets[*]})"; exit 2; }
  # An empty OPSNOTES_IMAGE lets lib.sh derive the image of this suite (this shell exported bookworm's).
  OPSNOTES_SUITE=$suite OPSNOTES_IMAGE="" scripts/build-image.sh
done
# Every suite's lab at once.
make_room $(( ${#LAB_HOSTS[@]} * ${#suites[@]} ))
pids=()
for suite in "${suites[@]}"; do
  running+=("$suite")
  one_suite "$suite" "${nets[$suite]}" >".cache/platform-$suite.log" 2>&1 &
  pids+=($!)
done
failed=0
for index in "${!suites[@]}"; do
  wait "${pids[$index]}" || failed=1
  cat ".cache/platform-${suites[$index]}.log"
done
exit $failed
