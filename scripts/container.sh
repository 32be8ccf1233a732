# Start one lab container with systemd as PID 1 (sourced by lab.sh). Options measured on the CI hosts: no
# --privileged; explicit caps; /proc/sys remounted read-write so namespaced net.* sysctls can be set.
# shellcheck shell=bash
start_container() {  # name network [extra docker args...]
  local name=$1 network=$2; shift 2
  if docker container inspect "$name" >/dev/null 2>&1; then
    # Reuse it only if it runs the current base image; otherwise it is rebuilt from the new one.
    if [ "$(docker container inspect -f '{{.Image}}' "$name")" = "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
      docker start "$name" >/dev/null
      return
    fi
    log "$name runs an older base image: recreating it"
    docker rm -f "$name" >/dev/null
  fi
  docker run -d --name "$name" --hostname "${name#"$PREFIX-$LAB"-}" --network "$network" \
    --label "$PREFIX.lab=1" --label "$PREFIX.lab.name=$LAB" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW --security-opt apparmor=unconfined \
    --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
    "$@" "$IMAGE" bash -c 'mount -o remount,rw /proc/sys && exec /lib/systemd/systemd' >/dev/null
}

wait_systemd() {  # name...
  local name state
  for name in "$@"; do
    for _ in $(seq 60); do
      state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) break ;; esac
      sleep 1
    done
    case "$state" in running|degraded) ;; *) log "$name: systemd is '$state'"; return 1 ;; esac
  done
}
