#!/usr/bin/env bash
# HAProxy role: module executions per host on an idempotent run at 1 vs 50 backends (3 servers and 2 ACLs each),
# and the latency of a reload. Runs against the haproxy molecule scenario's load balancer:
#   molecule converge -s haproxy && benchmarks/haproxy.sh && molecule destroy -s haproxy
source "$(dirname "$0")/../scripts/lib.sh"
export PATH=$VENV/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg
cd "$ROOT"
lb=$PREFIX-hap-lb
inv=(-i "$lb," -c community.docker.docker -e ansible_python_interpreter=/usr/bin/python3)

count() {  # size -> "module executions, tasks"
  ansible-playbook "${inv[@]}" benchmarks/haproxy.yml -e "size=$1" >/dev/null       # converge at this size
  local out
  out=$(ansible-playbook "${inv[@]}" benchmarks/haproxy.yml -e "size=$1" -vvv 2>&1)
  printf '%s module executions, %s tasks executed (changed=%s)' \
    "$(grep -cE "EXEC .*python3[^']* /[^ ]*AnsiballZ_[a-z_]+\.py" <<<"$out")" \
    "$(grep -E "^$lb +: " <<<"$out" | sed -E 's/.*ok=([0-9]+).*/\1/')" \
    "$(grep -E "^$lb +: " <<<"$out" | sed -E 's/.*changed=([0-9]+).*/\1/')"
}

echo "1 backend, 3 servers, 2 ACLs:       $(count 1)"
echo "50 backends, 150 servers, 100 ACLs: $(count 50)"

# Reload latency: systemctl reload (haproxy -c, then USR2 to the master) until it returns, 10 times.
times=$(for _ in $(seq 10); do
  docker exec "$lb" bash -c 's=$(date +%s%N); systemctl reload haproxy; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))'
  sleep 0.5
done | sort -n | tr '\n' ' ')
echo "reload latency at 50 backends, ms (sorted, 10 runs): $times"
