#!/usr/bin/env bash
# The benchmarks of benchmarks/RESULTS.md. `make bench` runs them all at full size and rewrites the generated
# part of RESULTS.md; `make test` runs them at a tiny size into a scratch file (BENCH_OUT) to prove they still run.
#
#   benchmarks/bench.sh [tasks] [connections] [compare] [scale] [failover]
#   env: BENCH_ROUNDS (connections, compare and failover, default 3), BENCH_VIPS (default 10),
#        BENCH_SIZES (scale, default "10 15 25 50"), BENCH_STRATEGIES (default "linear free mitogen_linear"),
#        BENCH_CONNECTIONS (default "docker docker-nopipe ssh ssh-nopersist ssh-mitogen"),
#        BENCH_RAISE_INOTIFY=1 (scale: opt-in, see below), BENCH_OUT (default benchmarks/RESULTS.md),
#        BENCH_CONVERGED=1 (tasks and connections: the lab was just converged, skip the converging run),
#        BENCH_UNPIPED=0 (tasks: skip the run without pipelining)
#
# tasks   needs the lab (`make lab`): module executions per host and role on an idempotent site.yml run.
# connections needs the lab: the idempotent site.yml over docker exec and over SSH (scripts/lab.sh ssh), with and
#         without pipelining, ControlPersist and Mitogen.
# compare starts fresh containers: lvs_dr alone vs a naive playbook, and lvs_dr + oom_protect (benchmarks/ours.yml)
#         vs stock modules (benchmarks/stock.yml); first and idempotent runs, alternated, each round on new containers.
# scale   starts N containers and runs ours.yml with each strategy; time per host, the slowest tasks, and the curve
#         as benchmarks/scale.svg. Each systemd container takes about 7 of the host's fs.inotify.max_user_instances
#         (a global, host-wide limit, often 128): a size that does not fit is reported as not run, unless
#         BENCH_RAISE_INOTIFY=1 lets this script raise the limit for the run and restore it on exit.
# failover needs the lab: keepalived stopped on the VIP's holder under requests from the client (tests/lab), per
#         round the time until the other director holds the VIP and the longest gap between answered requests.
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/scripts/container.sh"
source "$ROOT/benchmarks/counting.sh"
cd "$ROOT"
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg

ROUNDS=${BENCH_ROUNDS:-3}
NVIPS=${BENCH_VIPS:-10}
SIZES=${BENCH_SIZES:-10 15 25 50}
STRATEGIES=${BENCH_STRATEGIES:-linear free mitogen_linear}
CONNECTIONS=${BENCH_CONNECTIONS:-docker docker-nopipe ssh ssh-nopersist ssh-mitogen}
OUT=${BENCH_OUT:-$ROOT/benchmarks/RESULTS.md}
NETWORK=$PREFIX-bench
work=$(mktemp -d /tmp/opsnotes-bench.XXXXXX)
sections=()
lab_converged=""

bench_down() {
  local ids
  ids=$(docker ps -aq --filter "label=$PREFIX.bench=1")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
}
INOTIFY=/proc/sys/fs/inotify/max_user_instances
inotify_before=""
restore_inotify() {  # the opt-in raise of scale() is undone on every exit
  [ -z "$inotify_before" ] || { echo "$inotify_before" >"$INOTIFY" && log "fs.inotify.max_user_instances back to $inotify_before"; }
}
# bench_down first: the lab containers that make_room stopped start again after the benchmark's are gone.
trap 'bench_down; restore_inotify; give_room_back; rm -rf "$work"' EXIT

bench_up() {  # count -> starts opsnotes-bench-1..count, writes $work/inventory.yml
  bench_down
  make_room "$1"
  docker network create --label "$PREFIX.bench=1" "$NETWORK" >/dev/null
  local names=() i name state deadline
  for i in $(seq "$1"); do
    start_container "$PREFIX-bench-$i" "$NETWORK" --label "$PREFIX.bench=1" &
    names+=("$PREFIX-bench-$i")
    [ $((i % 10)) -ne 0 ] || wait
  done
  wait
  # Many systemd containers booting at once on two cores take a while: allow 60 s plus 5 s per container.
  deadline=$(( $(date +%s) + 60 + 5 * $1 ))
  for name in "${names[@]}"; do
    until state=$(docker exec "$name" systemctl is-system-running 2>/dev/null); [ "$state" = running ] || [ "$state" = degraded ]; do
      [ "$(date +%s)" -lt "$deadline" ] || { log "$name: systemd is '$state'"; return 1; }
      sleep 2
    done
  done
  python3 - "$1" "$NVIPS" "$PREFIX" >"$work/inventory.yml" <<'PY'
import json, sys
count, nvips, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
hosts = {'%s-bench-%d' % (prefix, i): {} for i in range(1, count + 1)}
print(json.dumps({'bench': {'hosts': hosts, 'vars': {
    'ansible_connection': 'community.docker.docker', 'ansible_python_interpreter': '/usr/bin/python3',
    'lvs_dr_vips': ['192.0.2.%d' % (10 + i) for i in range(nvips)],
    'oom_protect_services': [{'unit': 'systemd-journald.service', 'score_adj': -900},
                             {'unit': 'dbus.service', 'score_adj': -500}],
    'oom_protect_strict': False}}}))
PY
}

calc() { python3 -c "print($1)"; }

timed_run() {  # playbook [ansible-playbook args...] -> prints "seconds changed_total"; log in $work/last.log
  local start end
  start=$(date +%s.%N)
  ansible-playbook -i "$work/inventory.yml" "$@" >"$work/last.log" 2>&1 || { tail -30 "$work/last.log" >&2; return 1; }
  end=$(date +%s.%N)
  printf '%s %s\n' "$(calc "round($end - $start, 1)")" \
    "$(calc "$(grep -E '^[^ ]+ +: ok=' "$work/last.log" | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+)")"
}

tasks() {
  log "benchmark 1: module executions per host and role, idempotent site.yml on the lab"
  # Converge first, unless the caller just did (BENCH_CONVERGED=1); a failure says why (this run's output is
  # otherwise not kept).
  if [ "${BENCH_CONVERGED:-0}" != 1 ]; then
    ansible-playbook site.yml -i inventories/lab >"$work/converge.log" 2>&1 \
      || { tail -40 "$work/converge.log"; log "benchmark 1: the converging site.yml run failed"; return 1; }
  fi
  lab_converged=1
  local start piped unpiped
  start=$(date +%s.%N)
  counted "$work/site.json" ansible-playbook site.yml -i inventories/lab >"$work/site.log"
  piped=$(calc "round($(date +%s.%N) - $start, 1)")
  if [ "${BENCH_UNPIPED:-1}" = 0 ]; then
    unpiped="(not measured: BENCH_UNPIPED=0)"
  else
    start=$(date +%s.%N)
    ANSIBLE_PIPELINING=false ansible-playbook site.yml -i inventories/lab >"$work/unpiped.log" 2>&1 \
      || { tail -40 "$work/unpiped.log"; log "benchmark 1: the site.yml run without pipelining failed"; return 1; }
    unpiped="$(calc "round($(date +%s.%N) - $start, 1)") s"
  fi
  python3 - "$work/site.json" "$work/site.log" >"$work/tasks.md" <<'PY'
import json, re, sys
data = json.load(open(sys.argv[1]))
changed = {m.group(1): m.group(2) for m in re.finditer(r'^(\S+) +: ok=\d+ +changed=(\d+)', open(sys.argv[2]).read(), re.M)}
hosts = {h: c for h, c in data['hosts'].items() if h != 'localhost'}
buckets = sorted({b for c in hosts.values() for b in c}, key=lambda b: (b in ('play', 'verify play'), b))
print('| Host | ' + ' | '.join(buckets) + ' | total | changed |')
print('| --- ' * (len(buckets) + 3) + '|')
for host in sorted(hosts):
    counts = hosts[host]
    print('| %s | %s | %d | %s |' % (host, ' | '.join(str(counts.get(b) or '-') for b in buckets),
                                     sum(counts.values()), changed.get(host, '?')))
PY
  sections+=("## 1. Module executions per host and role on an idempotent site.yml run

Command: \`make lab && benchmarks/bench.sh tasks\` (the lab inventory, a run after a converging one). A module execution
is one Python process on the host (one call of an action plugin's \`_execute_module\`, counted by
\`benchmarks/callback_plugins/module_executions.py\`): a \`template\` task that finds its file unchanged counts 2,
a loop counts once per item, \`assert\` and \`set_fact\` count 0. \`acme\` is the certificate engine that
\`nginx_acme\` and \`haproxy\` import; \`verify play\` is what the site's verify play still reads itself (the roles'
own proofs are reused).

$(cat "$work/tasks.md")

Wall time of the same idempotent run: $piped s with \`pipelining = true\` (ansible.cfg), $unpiped without it.")
}

med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

compare_lvs_dr() {  # lvs_dr alone (the role vs a naive playbook), alternated in one run: rows and medians
  local round variant first again fchanged achanged rows="" role=() naive=() role_n="" naive_n=""
  for round in $(seq "$ROUNDS"); do
    for variant in lvs_dr lvs_dr_naive; do
      bench_up 1
      read -r first fchanged < <(timed_run "benchmarks/$variant.yml")
      read -r again achanged < <(counted "$work/exec.json" timed_run "benchmarks/$variant.yml")
      rows+="| $round | $variant | $first ($fchanged changed) | $again ($achanged changed) | $(executions "$work/exec.json") |"$'\n'
      if [ "$variant" = lvs_dr ]; then role+=("$again"); role_n=$(executions "$work/exec.json")
      else naive+=("$again"); naive_n=$(executions "$work/exec.json"); fi
    done
  done
  local r n
  r=$(med "${role[@]}") n=$(med "${naive[@]}")
  sections+=("## 2a. lvs_dr alone: the role vs a naive playbook

Command: \`benchmarks/bench.sh compare\`. One fresh container per run pair; \`benchmarks/lvs_dr.yml\` (the role on a
real server, $NVIPS VIPs, with its validation and its proof) and \`benchmarks/lvs_dr_naive.yml\` (facts gathered, one
\`ansible.posix.sysctl\` task per key, one command per VIP, a boot unit; no validation, no proof), alternated, $ROUNDS
rounds. Seconds; module executions of the idempotent run.

| Round | Variant | First run | Idempotent run | Module executions |
| --- | --- | --- | --- | --- |
${rows}
Median idempotent run: the role $r s ($role_n module executions) vs naive $n s ($naive_n); ratio role/naive
$(calc "round($r / $n, 2)").")
}

compare() {
  log "benchmark 2: first and idempotent run, collection roles vs stock modules, $ROUNDS alternated rounds"
  compare_lvs_dr
  local round variant first again fchanged achanged rows="" ours_first=() ours_again=() stock_first=() stock_again=()
  for round in $(seq "$ROUNDS"); do
    for variant in ours stock; do
      bench_up 1
      read -r first fchanged < <(timed_run "benchmarks/$variant.yml")
      read -r again achanged < <(timed_run "benchmarks/$variant.yml")
      rows+="| $round | $variant | $first ($fchanged changed) | $again ($achanged changed) |"$'\n'
      if [ "$variant" = ours ]; then ours_first+=("$first"); ours_again+=("$again")
      else stock_first+=("$first"); stock_again+=("$again"); fi
    done
  done
  local of oa sf sa
  of=$(med "${ours_first[@]}") oa=$(med "${ours_again[@]}") sf=$(med "${stock_first[@]}") sa=$(med "${stock_again[@]}")
  sections+=("## 2. Wall time: the collection's roles vs the same result with stock modules

Command: \`benchmarks/bench.sh compare\`. One fresh container per run pair; \`benchmarks/ours.yml\` (lvs_dr real
server with $NVIPS VIPs + oom_protect for 2 services) and \`benchmarks/stock.yml\` (ansible.posix.sysctl per key,
one command per VIP, a boot unit, a drop-in and a choom per service), alternated, $ROUNDS rounds. Seconds.

| Round | Variant | First run | Idempotent run |
| --- | --- | --- | --- |
${rows}
Medians: first run ours $of s vs stock $sf s (ratio stock/ours $(calc "round($sf / $of, 2)")); idempotent run
ours $oa s vs stock $sa s (ratio $(calc "round($sa / $oa, 2)")). The roles also verify (lvs_dr_check,
oom_score read-back) and validate input, which the stock playbook does not; its choom step reports a change on
every run where the kernel accepts the value, so it is not idempotent.")
}

scale() {
  log "benchmark 3: scale, sizes: $SIZES; strategies: $STRATEGIES"
  local size strategy secs changed rows="" profile="" free need
  for size in $SIZES; do
    bench_down
    # The lab's containers compete for the host's inotify instances: make_room stops them when they are in the way.
    make_room "$size" || true
    free=$(inotify_free) need=$((INOTIFY_PER_CONTAINER * size))
    if [ "$need" -gt "$free" ] && [ "${BENCH_RAISE_INOTIFY:-0}" = 1 ]; then
      # Opt-in only: a global knob of the host kernel, raised by what is missing plus a margin, restored on exit.
      [ -n "$inotify_before" ] || inotify_before=$(cat "$INOTIFY")
      echo $(( $(cat "$INOTIFY") + need - free + 32 )) >"$INOTIFY"
      log "BENCH_RAISE_INOTIFY=1: fs.inotify.max_user_instances raised from $inotify_before to $(cat "$INOTIFY") for this run"
      free=$(inotify_free)
    fi
    if [ "$need" -gt "$free" ]; then
      rows+="| $size | - | not run: $size systemd containers need about $need inotify instances, the host has $free left (fs.inotify.max_user_instances; BENCH_RAISE_INOTIFY=1 raises it for the run) | | |"$'\n'
      continue
    fi
    if ! bench_up "$size"; then
      rows+="| $size | - | not run: the containers did not finish booting | | |"$'\n'
      continue
    fi
    ansible-playbook -i "$work/inventory.yml" benchmarks/ours.yml >/dev/null 2>&1 || true   # converge once
    for strategy in $STRATEGIES; do
      local plugins="" extra=()
      if [ "${strategy#mitogen}" != "$strategy" ]; then
        # Mitogen takes over connections by their short name only ('docker', not community.docker.docker).
        extra=(-e ansible_connection=docker)
        plugins=$(python3 -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))' 2>/dev/null) \
          || { rows+="| $size | $strategy | mitogen not installed | | |"$'\n'; continue; }
        plugins=$plugins/plugins/strategy
      fi
      if read -r secs changed < <(ANSIBLE_STRATEGY=$strategy ANSIBLE_STRATEGY_PLUGINS=$plugins timed_run benchmarks/ours.yml "${extra[@]}"); then
        rows+="| $size | $strategy | $secs | $(calc "round($secs / $size, 2)") | $changed |"$'\n'
      else
        rows+="| $size | $strategy | failed: $(grep -m1 -E 'ERROR|fatal' "$work/last.log" | cut -c1-80) | | |"$'\n'
      fi
      [ "$strategy" != linear ] || profile=$(sed -n '/TASKS RECAP/,$p' "$work/last.log" | grep -E -- '-{3,} [0-9.]+s$' | head -5 \
        | sed -E 's/^(.*[^ -]) -+ ([0-9.]+s)$/- \2 \1/')
    done
  done
  bench_down
  restore_inotify; inotify_before=""
  give_room_back
  # The curve, next to the results file (benchmarks/scale.svg for `make bench`).
  local svg
  svg=$(dirname "$OUT")/scale.svg
  [ "$OUT" = "$ROOT/benchmarks/RESULTS.md" ] || svg=$OUT.scale.svg
  grep -E '^\| [0-9]+ \| [a-z_]+ \| [0-9.]+ \| [0-9.]+ \|' <<<"$rows" | awk -F'|' '{print $2, $3, $5}' \
    | python3 "$ROOT/benchmarks/plot_scale.py" "$svg" || log "no size ran: no curve"
  sections+=("## 3. Scale: lvs_dr + oom_protect on N containers

Command: \`benchmarks/bench.sh scale\` (idempotent run of \`benchmarks/ours.yml\` after a converging one; forks 20
from ansible.cfg; containers on this 2-core machine, so the hosts compete with the controller for CPU).

| Hosts | Strategy | Seconds | Seconds per host | changed |
| --- | --- | --- | --- | --- |
${rows}
The curve (seconds per host against hosts, per strategy): [scale.svg](scale.svg).

Every container's systemd takes about 7 inotify instances from the host's shared
\`fs.inotify.max_user_instances\` (128 on this machine), a global knob the benchmark leaves alone unless
\`BENCH_RAISE_INOTIFY=1\` is set: it then raises the limit by what the size needs and restores it on exit. A size
marked not run did not fit without that opt-in.

Where the time goes at the largest size that ran, with the linear strategy (profile_tasks, slowest five):

${profile}")
}

failover() {
  log "benchmark 4: VIP failover between the lab's directors, $ROUNDS rounds"
  local round line rows=""
  for round in $(seq "$ROUNDS"); do
    # The test's own output is kept: when it fails, its assertion is what says why.
    if ! PYTHONPATH=$ROOT/tests/testinfra python -m pytest -q -s -p no:cacheprovider tests/lab/test_lab_failover.py \
        >"$work/failover.log" 2>&1; then
      grep -E '^(E |FAILED|ERROR|lab (ipvs )?failover:)' "$work/failover.log" | head -30 >&2
      log "the failover test failed in round $round"
      return 1
    fi
    line=$(grep -o 'lab failover: .*' "$work/failover.log") || { log "the failover test printed no row in round $round"; return 1; }
    rows+=$(python3 - "$round" "$line" <<'PY'
import re, sys
m = re.search(r'stopped on (\S+), VIP on (\S+) after ([0-9.]+)s, longest gap between answered requests ([0-9.]+)s', sys.argv[2])
print('| %s | %s | %s | %s | %s |' % (sys.argv[1], m.group(1), m.group(2), m.group(3), m.group(4)))
PY
)$'\n'
  done
  sections+=("## 4. VIP failover between the lab's directors

Command: \`make lab && BENCH_ROUNDS=$ROUNDS benchmarks/bench.sh failover\` (tests/lab/test_lab_failover.py: keepalived
stopped on the holder while the client sends a request through the VIP every 50 ms; the VIP's move is polled every
100 ms; the gap is the longest time between two answered requests).

| Round | Stopped on | VIP moved to | Moved after (s) | Longest request gap (s) |
| --- | --- | --- | --- | --- |
${rows%$'\n'}")
}

connections() {
  log "benchmark 5: the lab's idempotent site.yml by connection, $ROUNDS alternated rounds"
  "$ROOT/scripts/lab.sh" ssh >/dev/null
  local ssh_inv=$ROOT/.lab/$PREFIX-$LAB/ssh/inventory.yml mitogen round variant secs rows="" summary=""
  mitogen=$(python3 -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy
  declare -A times=()
  [ -n "$lab_converged" ] || [ "${BENCH_CONVERGED:-0}" = 1 ] || ansible-playbook site.yml -i inventories/lab >/dev/null   # converge first
  for round in $(seq "$ROUNDS"); do
    for variant in $CONNECTIONS; do
      local start env=() inv=(-i inventories/lab)
      case $variant in
        docker) ;;
        docker-nopipe) env=(ANSIBLE_PIPELINING=false) ;;
        ssh) inv+=(-i "$ssh_inv") ;;
        ssh-nopersist) inv+=(-i "$ssh_inv"); env=(ANSIBLE_SSH_ARGS="-o ControlMaster=no") ;;
        ssh-mitogen) inv+=(-i "$ssh_inv"); env=(ANSIBLE_STRATEGY=mitogen_linear ANSIBLE_STRATEGY_PLUGINS="$mitogen") ;;
        *) log "unknown connection variant $variant"; return 1 ;;
      esac
      start=$(date +%s.%N)
      env "${env[@]}" ansible-playbook site.yml "${inv[@]}" >"$work/last.log" 2>&1 \
        || { tail -30 "$work/last.log" >&2; return 1; }
      secs=$(calc "round($(date +%s.%N) - $start, 1)")
      grep -qE '^director +: .*changed=0 ' "$work/last.log" || { log "$variant: the run was not idempotent"; return 1; }
      times[$variant]+="$secs "
      rows+="| $round | $variant | $secs |"$'\n'
    done
  done
  for variant in $CONNECTIONS; do
    # shellcheck disable=SC2086
    summary+="- $variant: median $(med ${times[$variant]}) s"$'\n'
  done
  sections+=("## 5. Connections: docker exec vs SSH, ControlPersist, Mitogen

Command: \`make lab && benchmarks/bench.sh connections\` (\`scripts/lab.sh ssh\` gives every lab container sshd and a key
made on this machine; the idempotent site.yml, after a converging run, over each connection in turn). Variants:
\`docker\` (community.docker.docker, pipelining on, as ansible.cfg has it), \`docker-nopipe\` (pipelining off),
\`ssh\` (pipelining and ansible's default ControlMaster=auto/ControlPersist=60s), \`ssh-nopersist\` (a new SSH
connection per command), \`ssh-mitogen\` (Mitogen's mitogen_linear strategy over SSH). Seconds.

| Round | Variant | Seconds |
| --- | --- | --- |
${rows}
${summary%$'\n'}")
}

write_out() {  # rewrite OUT with the sections so far, so a later failure loses nothing
  {
    echo "# Benchmark results"
    echo
    echo "Generated by \`make bench\` (benchmarks/bench.sh) on $(date -u +%F) on this machine ($(nproc) cores); not timed tests."
    echo "\`make test\` runs the same script at a tiny size into a scratch file to prove it still works."
    local n kept
    for n in 1 2a 2 3 4 5; do
      kept=""
      for sec in "${sections[@]}"; do [ "${sec#"## $n. "}" = "$sec" ] || kept=$sec; done
      # A benchmark not run this time keeps its section from the existing file.
      [ -n "$kept" ] || [ ! -f "$OUT" ] || kept=$(awk -v h="## $n. " 'index($0, h) == 1 {on=1} on && /^## / && index($0, h) != 1 {on=0} on' "$OUT")
      [ -z "$kept" ] || { echo; echo "$kept"; }
    done
    if [ "$OUT" = "$ROOT/benchmarks/RESULTS.md" ] && [ -f "$ROOT/benchmarks/MODULE_EXECUTIONS.md" ]; then
      echo; cat "$ROOT/benchmarks/MODULE_EXECUTIONS.md"
    fi
  } >"$OUT.new"
  mv "$OUT.new" "$OUT"
  log "wrote $OUT"
}

[ $# -gt 0 ] || set -- tasks connections compare scale failover
for what in "$@"; do "$what"; write_out; done
