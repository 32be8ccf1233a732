# Module executions per host and role for the benchmark scripts (sourced, not run): the counter is the benchmark
# callback benchmarks/callback_plugins/module_executions.py.
# shellcheck shell=bash

counted() {  # json-out command [args...] -> runs the command with the counter on; the counts land in json-out
  OPSNOTES_EXECUTIONS_JSON=$1 ANSIBLE_CALLBACK_PLUGINS=$ROOT/benchmarks/callback_plugins \
    ANSIBLE_CALLBACKS_ENABLED=module_executions,ansible.posix.profile_tasks "${@:2}"
}

executions() {  # json [host [role]] -> the count of that role on that host, of that host, or of every host
  python3 - "$@" <<'PY'
import json, sys
hosts = json.load(open(sys.argv[1]))['hosts']
if len(sys.argv) > 2:
    hosts = {sys.argv[2]: hosts.get(sys.argv[2], {})}
print(sum(counts.get(sys.argv[3], 0) if len(sys.argv) > 3 else sum(counts.values()) for counts in hosts.values()))
PY
}
