# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A guest kernel for the tests a container cannot show: user-mode Linux in the image of scripts/guest-image.sh.

boot(script) copies the collection's plugins and ansible-core's module_utils into the guest's Debian 12 root, writes
``script`` there as /check.sh, and boots the kernel with a small init that mounts /proc, /sys, the cgroup2 tree and
a /tmp, runs /check.sh with the modules on its PYTHONPATH, and powers off. It returns what the guest wrote to its
console. The container (named opsnotes-guest-<pid>) is removed when the guest ends, or at the timeout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PREFIX = os.environ.get('OPSNOTES_PREFIX') or 'opsnotes'

INIT = r'''#!/bin/sh
# PID 1 of the guest: what the check needs of the kernel, the check, then power off.
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
    name = '%s-guest-%d' % (PREFIX, os.getpid())
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
            sys.stderr.write(run.stdout[-6000:] + run.stderr[-2000:])
        return run.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
