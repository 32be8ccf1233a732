# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A guest kernel for the tests a container cannot show: user-mode Linux in the image of scripts/guest-image.sh.

boot(script) copies the collection's plugins and ansible-core's module_utils into the guest's Debian 12 root, writes
``script`` there as /check.sh, and boots the kernel with a small init that mounts /proc, /sys, the cgroup2 tree and
a /tmp, runs /check.sh with the modules on its PYTHONPATH, and powers off. It returns what the guest wrote to its
console. The container (named opsnotes-guest-<pid>-<random>) is removed when the guest ends, or at the timeout."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PREFIX = os.environ.get('OPSNOTES_PREFIX') or 'opsnotes'

INIT = r'''#!/bin/sh
# PID 1 of the guest: what the check needs of the kernel, the check, then power off. The kernel starts it with no
# PATH; without one, "ip netns exec" finds nothing in the sbin directories.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 none /sys/fs/cgroup
mount -t tmpfs tmp /tmp
echo "guest: kernel $(uname -r), CapEff $(grep CapEff /proc/self/status | cut -f2)"
PYTHONPATH=/opt/opsnotes /bin/sh /check.sh
echo "guest: done"
echo o > /proc/sysrq-trigger
sleep 30
'''

# In the container: the guest's root with the collection, as an ext4 image, and the kernel with its console on
# pipes (stdin must be a pipe) and its memory file in /tmp (docker's /dev/shm is too small).
BOOT = r'''set -e
mkdir -p /guest/opt/opsnotes/ansible_collections/opsnotes/edge
cp -r /src/ansible /guest/opt/opsnotes/
cp -r /src/plugins /guest/opt/opsnotes/ansible_collections/opsnotes/edge/
cp /src/check/init.sh /guest/init.sh && cp /src/check/check.sh /guest/check.sh && chmod 0755 /guest/init.sh
truncate -s 1G /tmp/root.img && mkfs.ext4 -q -F -d /guest /tmp/root.img
mkfifo /tmp/console-in
sleep %d > /tmp/console-in &
keep=$!
TMPDIR=/tmp linux.uml ubd0=/tmp/root.img root=/dev/ubda rw mem=%s init=/init.sh con=none ssl=none con0=fd:0,fd:1 \
    < /tmp/console-in 2>&1
kill $keep
'''


MODULES = '/opt/opsnotes/ansible_collections/opsnotes/edge/plugins/modules'

# An LVS-DR site in one guest kernel, from network namespaces on one bridge: a client (10.0.0.10), the director (the
# guest's own namespace, 10.0.0.1 on br0, holding the VIP 10.0.0.100, with IPVS loaded) and three real servers
# (10.0.0.11 to .13), each serving its own name over HTTP on port 80. rs1 and rs2 hold the VIP on lo with a real
# server's ARP settings; rs3 holds nothing (a control). With module NAME JSON [LABEL [NETNS]] (the collection's
# module in this kernel, in that namespace: one line "MODULE label result"), ask LABEL (one request from the client to the VIP: one line "ASK label
# answer", or "failed: ..."), serve N (rs<N>'s HTTP server, in the background; its PID in /tmp/rs<N>.pid, its
# access log, which names each client's address, in /tmp/rs<N>.log).
LVS_FUNCTIONS = r'''
module() {
  printf '{"ANSIBLE_MODULE_ARGS": %s}' "$2" > /tmp/args.json
  printf 'MODULE %s %s\n' "${3:-$1}" "$(${4:+ip netns exec $4} python3 ''' + MODULES + r'''/$1.py /tmp/args.json | tr -d '\n')"
}
ask() {
  printf 'ASK %s %s\n' "$1" "$(ip netns exec client python3 -c 'import urllib.request
try:
    print(urllib.request.urlopen("http://10.0.0.100/", timeout=3).read().decode().strip())
except Exception as exc:
    print("failed:", type(exc).__name__)')"
}
serve() {
  mkdir -p /srv/rs$1 && echo rs$1 > /srv/rs$1/index.html
  ip netns exec rs$1 python3 -m http.server 80 --bind 0.0.0.0 --directory /srv/rs$1 >>/tmp/rs$1.log 2>&1 &
  echo $! > /tmp/rs$1.pid
}
real_server() {  # n: rs<n> holds the VIP on lo, with a real server's ARP settings
  ip -n rs$1 addr add 10.0.0.100/32 dev lo
  ip netns exec rs$1 sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
}
attach() {  # ns address: a namespace on the bridge br0, with its address on its eth0
  ip netns add $1
  ip link add v-$1 type veth peer name eth0 netns $1
  ip link set v-$1 master br0 up
  ip -n $1 link set lo up
  ip -n $1 link set eth0 up
  ip -n $1 addr add $2/24 dev eth0
}
modprobe ip_vs && modprobe ip_vs_rr
ip link set lo up
ip link add br0 type bridge && ip link set br0 up
'''
LVS_SITE = LVS_FUNCTIONS + r'''
ip addr add 10.0.0.1/24 dev br0
attach client 10.0.0.10
for n in 1 2 3; do
  attach rs$n 10.0.0.1$n
  serve $n
done
real_server 1
real_server 2
ip addr add 10.0.0.100/32 dev br0
'''


def image():
    """The guest image (built when missing, cached by its recipe)."""
    return subprocess.run([os.path.join(ROOT, 'scripts', 'guest-image.sh')], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]


def ansible_package():
    import ansible
    return os.path.dirname(ansible.__file__)


def boot(script, timeout=240, memory='512M'):
    """Run ``script`` (sh) in a fresh guest; returns its console output."""
    work = tempfile.mkdtemp(prefix='%s-guest.' % PREFIX)
    # A name of its own per boot: docker may still be removing the previous guest's container (--rm) when the
    # next one starts.
    name = '%s-guest-%d-%s' % (PREFIX, os.getpid(), uuid.uuid4().hex[:8])
    try:
        with open(os.path.join(work, 'init.sh'), 'w') as handle:
            handle.write(INIT)
        with open(os.path.join(work, 'check.sh'), 'w') as handle:
            handle.write(script)
        argv = ['docker', 'run', '--rm', '--name', name, '--network', 'none',
                '-v', '%s:/src/plugins:ro' % os.path.join(ROOT, 'plugins'),
                '-v', '%s:/src/ansible:ro' % ansible_package(), '-v', '%s:/src/check:ro' % work,
                image(), 'sh', '-c', BOOT % (timeout, memory)]
        try:
            run = subprocess.run(argv, capture_output=True, text=True, errors='replace', timeout=timeout + 30,
                                 check=False)
        except subprocess.TimeoutExpired as exc:
            subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
            raise AssertionError('the guest did not power off within %d s: %s' % (timeout, exc.stdout)) from None
        if 'guest: done' not in run.stdout:
            raise AssertionError('the guest did not finish its check (docker run status %d): %s\n%s'
                                 % (run.returncode, run.stdout[-6000:], run.stderr[-2000:]))
        return run.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
