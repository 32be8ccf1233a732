#!/usr/bin/env bash
# Module executions per host on an idempotent lvs_dr run, small vs large input, on the `make lab` lab.
# Proves the role's cost does not grow with the number of VIPs and NICs (batching, not looping).
#   make lab && benchmarks/lvs_dr_round_trips.sh
source "$(dirname "$0")/../scripts/lib.sh"
source "$ROOT/benchmarks/counting.sh"
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg
cd "$ROOT"
host=rs1 container=$PREFIX-lab-rs1

count() {  # extra-vars-json -> "module executions, tasks" (benchmarks/counting.sh)
  ansible-playbook site.yml --limit "$host" -e "$1" >/dev/null   # converge first
  local out json
  json=$(mktemp)
  out=$(counted "$json" ansible-playbook site.yml --limit "$host" -e "$1" 2>&1)
  printf '%s module executions in lvs_dr, %s in the whole site run, %s tasks executed (changed=%s)\n' \
    "$(executions "$json" "$host" lvs_dr)" "$(executions "$json" "$host")" \
    "$(grep -E "^$host +: " <<<"$out" | sed -E 's/.*ok=([0-9]+).*/\1/')" \
    "$(grep -E "^$host +: " <<<"$out" | sed -E 's/.*changed=([0-9]+).*/\1/')"
  rm -f "$json"
}

small='{"lvs_dr_vips": ["172.29.213.200"]}'
vips=$(python3 -c 'import json; print(json.dumps(["172.29.213.%d" % i for i in range(200, 220)]))')
for i in 1 2 3 4 5; do docker exec "$container" ip link add "eth0.9$i" type veth peer name "bp9$i" 2>/dev/null || true; done
large="{\"lvs_dr_vips\": $vips, \"lvs_dr_interfaces\": [\"eth0.91\", \"eth0.92\", \"eth0.93\", \"eth0.94\", \"eth0.95\"]}"

echo "1 VIP, 0 extra NICs (6 sysctl keys):    $(count "$small")"
echo "20 VIPs, 5 extra NICs (16 sysctl keys): $(count "$large")"
# Back to the lab's inventory values, then drop the benchmark NICs.
ansible-playbook site.yml --limit "$host" >/dev/null
for i in 1 2 3 4 5; do docker exec "$container" ip link del "eth0.9$i" 2>/dev/null || true; done
