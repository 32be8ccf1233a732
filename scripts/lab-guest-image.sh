#!/usr/bin/env bash
# The image of the lab's real-kernel hosts (the directors): a container that runs one user-mode Linux guest on the
# lab's network. The guest's root is the lab's own base image (the suite's, with systemd), plus an SSH server (how
# Ansible and the tests reach it), kmod (IPVS is a module), earlyoom and systemd-oomd (stopped) and the UML kernel's
# modules; the container holds the UML
# kernel (scripts/guest-image.sh uml) and opsnotes-guest-run, which bridges its network to the guest and boots it.
#
# Cached: the tag is a hash of this recipe and of the two images it starts from. Prints the image name.
source "$(dirname "$0")/lib.sh"

UML_IMAGE=$("$ROOT/scripts/guest-image.sh" uml)
"$ROOT/scripts/build-image.sh" >&2
recipe=$(printf '%s %s %s %s' "$(sha256sum "$0" "$ROOT/scripts/lab-guest/"* | cut -c1-16 | paste -sd' ')" \
         "$(docker image inspect -f '{{.Id}}' "$UML_IMAGE")" "$(docker image inspect -f '{{.Id}}' "$IMAGE")" "$MIRROR")
LAB_GUEST_IMAGE=$PREFIX-lab-guest-$SUITE:$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
if docker image inspect "$LAB_GUEST_IMAGE" >/dev/null 2>&1; then
  log "lab guest image $LAB_GUEST_IMAGE present, reusing it"
  echo "$LAB_GUEST_IMAGE"
  exit 0
fi
log "building $LAB_GUEST_IMAGE: a $SUITE guest root (the lab's base image with an SSH server) under user-mode Linux"
context=$(mktemp -d "/var/tmp/$PREFIX-lab-guest.XXXXXX")
trap 'rm -rf "$context"' EXIT
cp "$ROOT/scripts/lab-guest/"* "$context/"
cat >"$context/Dockerfile" <<EOF
FROM $IMAGE AS root
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server kmod earlyoom systemd-oomd \
      >/dev/null \
 && apt-get clean && find /var/lib/apt/lists -exec touch -h -d @0 {} + \
 && rm -f /etc/ssh/ssh_host_*key* /var/lib/apt/periodic/update-success-stamp
# The two user-space OOM killers operators meet, installed but stopped: oom_protect protects against each where it is
# installed (its drop-ins), and the OOM tests start them.
RUN systemctl disable earlyoom.service systemd-oomd.service systemd-oomd.socket >/dev/null 2>&1
COPY opsnotes-guest-setup /usr/local/sbin/opsnotes-guest-setup
COPY opsnotes-guest.service /etc/systemd/system/opsnotes-guest.service
# No VT gettys (the console is a pipe), the network is the setup unit's, and Ctrl-Alt-Del (what stopping the container
# sends) powers the guest off cleanly instead of rebooting it.
RUN chmod 0755 /usr/local/sbin/opsnotes-guest-setup \
 && systemctl enable opsnotes-guest.service >/dev/null 2>&1 \
 && systemctl mask getty@.service autovt@.service serial-getty@.service systemd-networkd-wait-online.service >/dev/null 2>&1 \
 && ln -sf /lib/systemd/system/poweroff.target /etc/systemd/system/ctrl-alt-del.target \
 && mkdir -p /etc/systemd/logind.conf.d && printf '[Login]\nNAutoVTs=0\nReserveVT=0\n' >/etc/systemd/logind.conf.d/opsnotes-guest.conf

FROM $UML_IMAGE
COPY --from=root / /labroot/
RUN mkdir -p /labroot/lib/modules && cp -r /usr/lib/uml/modules/* /labroot/lib/modules/
COPY opsnotes-guest-run /usr/local/sbin/
COPY opsnotes-mconsole.py /usr/local/lib/
RUN chmod 0755 /usr/local/sbin/opsnotes-guest-run
STOPSIGNAL SIGTERM
CMD ["/usr/local/sbin/opsnotes-guest-run"]
EOF
docker build --quiet --network host -t "$LAB_GUEST_IMAGE" "$context" >&2
echo "$LAB_GUEST_IMAGE"
