#!/usr/bin/env bash
# The benchmarks of benchmarks/RESULTS.md. `make bench` runs all four at full size and rewrites the generated
# part of RESULTS.md; `make test` runs them at a tiny size into a scratch file (BENCH_OUT) to prove they still run.
#
#   benchmarks/bench.sh [tasks] [compare] [scale] [failover]
#   env: BENCH_ROUNDS (compare and failover, default 3), BENCH_VIPS (default 10), BENCH_SIZES (scale, default "10 15 25 50"),
#        BENCH_STRATEGIES (default "linear free mitogen_linear"), BENCH_OUT (default benchmarks/RESULTS.md)
#
# tasks   needs the lab (`make lab`): tasks executed per host and per role on an idempotent site.yml run.
# compare starts fresh containers: first and idempotent run of benchmarks/ours.yml vs benchmarks/stock.yml,
#         alternated, each round on new containers.
# scale   starts N containers and runs ours.yml with each strategy; time per host and the slowest tasks.
# failover needs the lab: keepalived stopped on the VIP's holder under requests from the client (tests/lab), per
#         round the time until the other director holds the VIP and the longest gap between answered requests.
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/scripts/container.sh"
cd "$ROOT"
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg

ROUNDS=${BENCH_ROUNDS:-3}
NVIPS=${BENCH_VIPS:-10}
SIZES=${BENCH_SIZES:-10 15 25 50}
STRATEGIES=${BENCH_STRATEGIES:-linear free mitogen_linear}
OUT=${BENCH_OUT:-$ROOT/benchmarks/RESULTS.md}
NETWORK=$PREFIX-bench
work=$(mktemp -d /tmp/opsnotes-bench.XXXXXX)
sections=()

bench_down() {
  local ids
  ids=$(docker ps -aq --filter "label=$PREFIX.bench=1")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
}
trap 'bench_down; rm -rf "$work"' EXIT

bench_up() {  # count -> starts opsnotes-bench-1..count, writes $work/inventory.yml
  bench_down
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
  log "benchmark 1: tasks executed per host and role, idempotent site.yml on the lab"
  ansible-playbook site.yml -i inventories/lab >/dev/null   # converge first
  ANSIBLE_STDOUT_CALLBACK=ansible.posix.json \
    ansible-playbook site.yml -i inventories/lab >"$work/site.json"
  python3 - "$work/site.json" >"$work/tasks.md" <<'PY'
import json, sys, collections
data = json.JSONDecoder().raw_decode(open(sys.argv[1]).read()[open(sys.argv[1]).read().index('{'):])[0]
count = collections.defaultdict(collections.Counter)
changed = collections.Counter()
for play in data['plays']:
    for task in play['tasks']:
        name = task['task']['name']
        role = name.split(' : ')[0].replace('opsnotes.edge.', '') if ' : ' in name else 'verify / report'
        for host, res in task['hosts'].items():
            if res.get('skipped') or host == 'localhost':
                continue
            count[host][role] += 1
            changed[host] += 1 if res.get('changed') else 0
roles = sorted({r for c in count.values() for r in c}, key=lambda r: (r == 'verify / report', r))
print('| Host | ' + ' | '.join(roles) + ' | total | changed |')
print('| --- ' * (len(roles) + 3) + '|')
for host in sorted(count):
    print('| %s | %s | %d | %d |' % (host, ' | '.join(str(count[host][r] or '-') for r in roles),
                                     sum(count[host].values()), changed[host]))
PY
  sections+=("## 1. Tasks executed per host and role on an idempotent site.yml run

Command: \`make lab && benchmarks/bench.sh tasks\` (the lab inventory; a task counts when it ran on the host,
not skipped; from the \`ansible.posix.json\` callback).

$(cat "$work/tasks.md")")
}

compare() {
  log "benchmark 2: first and idempotent run, collection roles vs stock modules, $ROUNDS alternated rounds"
  local round variant first again rows="" ours_first=() ours_again=() stock_first=() stock_again=()
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
  local med
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
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

inotify_free() {  # inotify instances root may still open (the limit is global: all containers share it)
  echo $(( $(cat /proc/sys/fs/inotify/max_user_instances) - $(find /proc/[0-9]*/fd -lname 'anon_inode:inotify' 2>/dev/null | wc -l) ))
}

scale() {
  log "benchmark 3: scale, sizes: $SIZES; strategies: $STRATEGIES"
  local size strategy secs changed rows="" profile="" lab free need
  # The lab's containers would compete for the host's inotify instances (each systemd takes about 7).
  bench_down
  lab=$(docker ps --filter "label=$PREFIX.lab=1" --format '{{.ID}} {{.Names}}' | grep -v " $PREFIX-bench-" | cut -d' ' -f1 || true)
  [ -z "$lab" ] || docker stop $lab >/dev/null
  for size in $SIZES; do
    bench_down
    free=$(inotify_free) need=$((7 * size))
    if [ "$need" -gt "$free" ]; then
      rows+="| $size | - | not run: $size systemd containers need about $need inotify instances, the host has $free left (fs.inotify.max_user_instances) | | |"$'\n'
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
  if [ -n "$lab" ]; then docker start $lab >/dev/null; wait_systemd $(docker ps --filter "label=$PREFIX.lab=1" --format '{{.Names}}'); fi
  sections+=("## 3. Scale: lvs_dr + oom_protect on N containers

Command: \`benchmarks/bench.sh scale\` (idempotent run of \`benchmarks/ours.yml\` after a converging one; forks 20
from ansible.cfg; containers on this 2-core machine, so the hosts compete with the controller for CPU).

| Hosts | Strategy | Seconds | Seconds per host | changed |
| --- | --- | --- | --- | --- |
${rows}
Sizes marked not run could not start here: every container's systemd takes about 7 inotify instances from
the host's shared \`fs.inotify.max_user_instances\` (128 on this machine), a global knob the benchmark does not
touch. On a dedicated benchmark host, raise it and run \`BENCH_SIZES='10 25 50' benchmarks/bench.sh scale\`.

Where the time goes at the largest size that ran, with the linear strategy (profile_tasks, slowest five):

${profile}")
}

failover() {
  log "benchmark 4: VIP failover between the lab's directors, $ROUNDS rounds"
  local round line rows=""
  for round in $(seq "$ROUNDS"); do
    line=$(PYTHONPATH=$ROOT/tests/testinfra python -m pytest -q -s -p no:cacheprovider tests/lab/test_lab_failover.py \
           | grep -o 'lab failover: .*') || { log "the failover test failed in round $round"; return 1; }
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

write_out() {  # rewrite OUT with the sections so far, so a later failure loses nothing
  {
    echo "# Benchmark results"
    echo
    echo "Generated by \`make bench\` (benchmarks/bench.sh) on $(date -u +%F) on this machine ($(nproc) cores); not timed tests."
    echo "\`make test\` runs the same script at a tiny size into a scratch file to prove it still works."
    local n kept
    for n in 1 2 3 4; do
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

[ $# -gt 0 ] || set -- tasks compare scale failover
for what in "$@"; do "$what"; write_out; done
