# Start one lab container with systemd as PID 1 (sourced by lab.sh). Options measured on the CI hosts: no
# --privileged; explicit caps; /proc/sys remounted read-write so namespaced net.* sysctls can be set.
# shellcheck shell=bash
start_container() {  # name network [extra docker args...]
  local name=$1 network=$2; shift 2
  reuse_container "$name" "$IMAGE" && return
  docker run -d --name "$name" --hostname "${name#"$PREFIX-$LAB"-}" --network "$network" \
    --label "$PREFIX.lab=1" --label "$PREFIX.lab.name=$LAB" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW --security-opt apparmor=unconfined \
    --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
    "$@" "$IMAGE" bash -c 'mount -o remount,rw /proc/sys && exec /lib/systemd/systemd' >/dev/null
}

reuse_container() {  # name image: starts the container when it runs that image (true); removes it when it runs another
  local name=$1 image=$2
  docker container inspect "$name" >/dev/null 2>&1 || return 1
  if [ "$(docker container inspect -f '{{.Image}}' "$name")" = "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
    docker start "$name" >/dev/null
    return 0
  fi
  log "$name runs an older image: recreating it"
  docker rm -f "$name" >/dev/null
  return 1
}

# A lab host on a kernel of its own (IPVS, its own OOM killer and capabilities): a container that hands its place on
# the network (address, MAC, name) to a user-mode Linux guest (scripts/lab-guest-image.sh). The guest is reached over
# SSH with the lab's key (lab_exec, and Ansible through .lab/<lab>/ssh/config); what it needs to know of the lab
# (host names, resolvers, the key) is read from .lab/<lab>/guest at each of its boots, and again by wait_systemd.
GUEST_MEMORY=${OPSNOTES_GUEST_MEMORY:-512M}   # each guest's memory, in MiB
start_guest() {  # name network image [extra docker args...]
  local name=$1 network=$2 image=$3; shift 3
  [ -c /dev/net/tun ] || { log "$name needs /dev/net/tun on this host (a tap joins its guest to $network): modprobe tun"; return 1; }
  [[ $GUEST_MEMORY =~ ^[1-9][0-9]*M$ ]] || { log "OPSNOTES_GUEST_MEMORY=$GUEST_MEMORY: give MiB, such as 512M"; return 1; }
  reuse_container "$name" "$image" && return
  docker run -d --name "$name" --hostname "${name#"$PREFIX-$LAB"-}" --network "$network" \
    --label "$PREFIX.lab=1" --label "$PREFIX.lab.name=$LAB" --label "$PREFIX.lab.guest=1" \
    --cap-add NET_ADMIN --device /dev/net/tun --stop-timeout 30 -e GUEST_MEMORY="$GUEST_MEMORY" \
    --tmpfs /run --tmpfs "/var/lib/opsnotes-uml:exec,size=$(( ${GUEST_MEMORY%M} + 256 ))m" \
    -v "$ROOT/.lab/$PREFIX-$LAB/guest:/run/opsnotes-guest/lab:ro" "$@" "$image" >/dev/null
}

lab_ssh_config() {  # container: the SSH configuration of its lab (written by lab.sh up)
  echo "$ROOT/.lab/$PREFIX-$(docker container inspect -f "{{index .Config.Labels \"$PREFIX.lab.name\"}}" "$1")/ssh/config"
}

lab_exec() {  # container command...: runs a command on a lab host, a container (docker exec) or a guest (SSH)
  local name=$1; shift
  if [ "$(docker container inspect -f "{{index .Config.Labels \"$PREFIX.lab.guest\"}}" "$name" 2>/dev/null)" = 1 ]; then
    # ssh hands the remote shell (root's bash) one command line: each word quoted for it.
    command ssh -F "$(lab_ssh_config "$name")" "$name" "$(printf '%q ' "$@")"
  else
    docker exec -i "$name" "$@"
  fi
}

wait_systemd() {  # name...
  local name state
  for name in "$@"; do
    for _ in $(seq 60); do
      state=$(lab_exec "$name" systemctl is-system-running </dev/null 2>/dev/null || true)
      case "$state" in running|degraded) break ;; esac
      sleep 1
    done
    case "$state" in running|degraded) ;; *) log "$name: systemd is '$state'"; return 1 ;; esac
    # A guest that was already up reads the lab's files again (they may have changed since its boot).
    [ "$(docker container inspect -f "{{index .Config.Labels \"$PREFIX.lab.guest\"}}" "$name")" != 1 ] \
      || lab_exec "$name" /usr/local/sbin/opsnotes-guest-setup </dev/null
  done
}

# Room for more systemd containers. Each one takes about INOTIFY_PER_CONTAINER of the host's inotify instances
# (fs.inotify.max_user_instances: one host-wide limit, 128 on a stock kernel, that every container shares; the
# converged lab's 7 containers hold 54). A host with the lab up has room for about 9 more: a stage that starts more
# would see its containers' services fail ("Too many open files" from journald, syslog-ng's postinst) instead of
# a clear message.
INOTIFY_PER_CONTAINER=${INOTIFY_PER_CONTAINER:-8}
ROOM_STOPPED=()
inotify_free() {  # inotify instances still free (every process on the host counts against the one limit)
  echo $(( $(cat /proc/sys/fs/inotify/max_user_instances) - $(find /proc/[0-9]*/fd -lname 'anon_inode:inotify' 2>/dev/null | wc -l) ))
}

# make_room COUNT: room for COUNT more systemd containers. Where the host has too little, the running containers of
# the project's labs (label $PREFIX.lab=1, `make lab` among them) are stopped and noted; give_room_back starts them
# again, so call it on every exit (a trap). Where that is still too little, it fails at once, naming what to stop.
make_room() {  # count
  local need=$(( $1 * INOTIFY_PER_CONTAINER )) free labs
  free=$(inotify_free)
  [ "$need" -gt "$free" ] || return 0
  labs=$(docker ps -q --filter "label=$PREFIX.lab=1")
  if [ -n "$labs" ]; then
    log "$1 more containers need about $need inotify instances, $free are free: stopping the running lab containers" \
        "($(docker ps --filter "label=$PREFIX.lab=1" --format '{{.Names}}' | paste -sd' ')) until this step ends"
    # SIGRTMIN+3 is systemd's own request to halt: the containers stop at once instead of after docker's 10 s.
    # shellcheck disable=SC2086
    docker kill -s SIGRTMIN+3 $labs >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    docker stop $labs >/dev/null
    read -r -a ROOM_STOPPED <<<"$(echo $labs)"
    free=$(inotify_free)
  fi
  [ "$need" -le "$free" ] && return 0
  log "no room: $1 more systemd containers need about $need inotify instances and the host has $free free" \
      "(fs.inotify.max_user_instances=$(cat /proc/sys/fs/inotify/max_user_instances)); stop some of these first:" \
      "$(docker ps --format '{{.Names}}' | paste -sd' ')"
  return 1
}

give_room_back() {  # starts again what make_room stopped, and waits for their systemd
  [ ${#ROOM_STOPPED[@]} -gt 0 ] || return 0
  local ids=("${ROOM_STOPPED[@]}") names
  ROOM_STOPPED=()
  docker start "${ids[@]}" >/dev/null
  names=$(docker inspect -f '{{.Name}}' "${ids[@]}" | tr -d /)
  # shellcheck disable=SC2086
  wait_systemd $names && log "the lab containers are running again: $(echo $names)"
}
