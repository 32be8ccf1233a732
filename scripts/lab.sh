#!/usr/bin/env bash
# The container lab: `lab.sh up` starts it and runs site.yml; `lab.sh down` removes all it created.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/container.sh"

NETWORK=$PREFIX-$LAB
SUBNET=$LAB_NET.0/24
RANGE=$LAB_NET.0/25   # dynamic addresses stay below .128; the VIP (.200, inventories/lab) lives above
# Every host has a fixed address, as a fleet's servers do: the lab keeps its addresses when its containers restart
# (a reboot, or a test stage that stops the lab to make room), so HAProxy's servers, resolved at its start, and the
# real servers' trust in their balancers still hold. The directors' (lab_director_addresses in inventories/lab): the
# real servers trust the PROXY protocol headers of their HAProxy from these addresses only, and keepalived's VRRP
# goes between them (unicast).
declare -A FIXED_IP=([director]=$LAB_NET.130 [director2]=$LAB_NET.131 [rs1]=$LAB_NET.140 [rs2]=$LAB_NET.141
                     [client]=$LAB_NET.150 [collector]=$LAB_NET.151 [acme]=$LAB_NET.152)
export OPSNOTES_LAB=$LAB OPSNOTES_LAB_NET=$LAB_NET
HOSTS=("${LAB_HOSTS[@]}")
# The site's names resolve to the load balancers (the directors) on the lab network, as public DNS would point at
# them: Pebble (on acme) validates http-01 through HAProxy, which answers for the account the directors and the real
# servers share.
WEB_NAMES=(www.lab.test lab.test)
# The real servers' content, which a deploy would put there: each page says which server answered.
WEB_ROOT=/var/www/lab
# Log files the lab's services will write, created up front so syslog-ng can follow them and the
# verify play can probe them (the web and load-balancer services of later roles take them over).
LOG_FILES=(rs1:/var/log/nginx/access.log rs2:/var/log/nginx/access.log director:/var/log/haproxy/access.log
           director2:/var/log/haproxy/access.log)

up() {
  local h
  # A lab made before its hosts had these fixed addresses is made anew: moving one host alone would leave the others
  # with its old address (HAProxy's saved server state, which it prefers to DNS at start).
  for h in "${HOSTS[@]}"; do
    if docker container inspect "$PREFIX-$LAB-$h" >/dev/null 2>&1 \
      && [ "$(docker inspect -f '{{range .NetworkSettings.Networks}}{{with .IPAMConfig}}{{.IPv4Address}}{{end}}{{end}}' \
              "$PREFIX-$LAB-$h")" != "${FIXED_IP[$h]}" ]; then
      log "$PREFIX-$LAB-$h is not at its fixed address ${FIXED_IP[$h]}: the lab is made anew"
      down
      break
    fi
  done
  docker network inspect "$NETWORK" >/dev/null 2>&1 \
    || docker network create --subnet "$SUBNET" --ip-range "$RANGE" --label "$PREFIX.lab=1" --label "$PREFIX.lab.name=$LAB" "$NETWORK" >/dev/null
  local names=()
  for h in "${HOSTS[@]}"; do
    local extra=(--ip "${FIXED_IP[$h]}")
    case $h in director|director2) for n in "${WEB_NAMES[@]}"; do extra+=(--network-alias "$n"); done ;; esac
    start_container "$PREFIX-$LAB-$h" "$NETWORK" "${extra[@]}"
    names+=("$PREFIX-$LAB-$h")
  done
  wait_systemd "${names[@]}"
  for entry in "${LOG_FILES[@]}"; do
    docker exec "$PREFIX-$LAB-${entry%%:*}" sh -c 'mkdir -p "$(dirname "$1")" && touch "$1"' _ "${entry#*:}"
  done
  for h in rs1 rs2; do
    docker exec "$PREFIX-$LAB-$h" sh -c 'mkdir -p "$1" && echo "served by $2" >"$1/index.html"' _ "$WEB_ROOT" "$h"
  done
  log "lab up: ${names[*]} on $NETWORK ($SUBNET)"
  cd "$ROOT"
  mkdir -p ".lab/$PREFIX-$LAB"
  # Lab infrastructure, not part of the collection: the Pebble ACME server the web host gets certificates from.
  ansible-playbook tests/playbooks/pebble.yml -i inventories/lab
  # LAB_PLAYBOOK=opsnotes.edge.site runs the installed collection instead of the checkout (scripts/galaxy-roundtrip.sh).
  ansible-playbook "${LAB_PLAYBOOK:-site.yml}" -i inventories/lab "$@"
  [ -n "${LAB_PLAYBOOK:-}" ] || renewal
}

# The renewal path as the timer takes it, with no playbook: the unit on the director (first of the account group)
# renews all its certificates now, every order validated through a director's HAProxy, and swaps them into its running
# HAProxy without a reload; then the unit on director2, rs1 and rs2 fetches them from it. Then the report again, with
# what the units left.
renewal() {
  local h
  for h in director director2 rs1 rs2; do
    docker exec "$PREFIX-$LAB-$h" bash -c 'echo RENEW_ARGS=--force >/etc/default/opsnotes-acme-renew
      systemctl start opsnotes-acme-renew.service; rc=$?
      rm -f /etc/default/opsnotes-acme-renew
      echo "$(hostname): $(journalctl -u opsnotes-acme-renew.service -o cat --no-pager | grep "^renewed: " | tail -n 1)"
      exit $rc' \
      || { docker exec "$PREFIX-$LAB-$h" journalctl -u opsnotes-acme-renew.service -o cat --no-pager | tail -n 15
           log "the renewal unit failed on $h (its journal above): docker exec $PREFIX-$LAB-$h journalctl -u opsnotes-acme-renew.service"
           return 1; }
  done
  log "unattended renewal done on director, director2, rs1 and rs2; the report again:"
  ansible-playbook playbooks/verify.yml -i inventories/lab
}

# SSH mode: sshd in every lab container, a key made here, and an inventory that switches the lab to ssh. Fleets are
# reached over SSH, not docker exec; this measures and runs the site as they do:
#   scripts/lab.sh ssh && ansible-playbook -i inventories/lab -i .lab/<prefix>-<lab>/ssh/inventory.yml site.yml
# The key and the inventory live in .lab/ (ignored by git), the key only for these containers.
ssh() {
  local dir=$ROOT/.lab/$PREFIX-$LAB/ssh h name
  local opts="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  declare -A addr=()
  mkdir -p "$dir" && chmod 700 "$dir"
  [ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$PREFIX-$LAB" -f "$dir/id_ed25519"
  for h in "${HOSTS[@]}"; do
    name=$PREFIX-$LAB-$h
    addr[$h]=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$name")
    docker exec -i "$name" bash -c 'set -e
      if ! command -v sshd >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
      fi
      install -d -m 700 /root/.ssh && cat >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
      systemctl enable --now ssh >/dev/null 2>&1 && systemctl is-active --quiet ssh' <"$dir/id_ed25519.pub" &
  done
  wait
  {
    echo "# Generated by scripts/lab.sh ssh: the lab's hosts reached over SSH (use it after inventories/lab)."
    echo "---"
    echo "all:"
    echo "  hosts:"
    for h in "${HOSTS[@]}"; do echo "    $h: {ansible_host: ${addr[$h]}}"; done
    echo "  vars:"
    echo "    ansible_connection: ssh"
    echo "    ansible_user: root"
    echo "    ansible_ssh_private_key_file: $dir/id_ed25519"
    echo "    ansible_ssh_common_args: $opts"
  } >"$dir/inventory.yml"
  # Each host answers with the key, as the inventory reaches it (a failed install above shows here).
  for h in "${HOSTS[@]}"; do
    # shellcheck disable=SC2086
    command ssh -q -i "$dir/id_ed25519" -o BatchMode=yes -o ConnectTimeout=10 $opts "root@${addr[$h]}" true \
      || { log "ssh to $h (${addr[$h]}) failed"; return 1; }
  done
  log "lab reachable over ssh: ansible-playbook -i inventories/lab -i $dir/inventory.yml site.yml"
}

down() {
  local ids
  ids=$(docker ps -aq --filter "label=$PREFIX.lab.name=$LAB")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  # Containers of an older layout of this lab (before the name label; web: the retired separate web host).
  for h in "${HOSTS[@]}" web; do docker rm -f "$PREFIX-$LAB-$h" >/dev/null 2>&1 || true; done
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  # The CA's certificates the controller kept for this lab (tests/playbooks/pebble.yml): a new lab, a new CA.
  rm -f "$ROOT/.lab/$PREFIX-$LAB/pebble-root.pem" "$ROOT/.lab/$PREFIX-$LAB/pebble-listener.pem"
  log "lab removed"
}

cmd=${1:-up}; shift || true
"$cmd" "$@"
