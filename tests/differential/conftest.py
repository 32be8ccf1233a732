# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The differential tests' containers, from the lab's base images, each on a network created for it and removed at
the end: ``box`` (Debian 12, systemd as PID 1) with haproxy (and its manual), syslog-ng, nginx and keepalived from
Debian's archive; ``haproxy_box``, that one, then one of Debian 13 with HAProxy and its manual."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time

import pytest

IMAGE = os.environ.get('OPSNOTES_IMAGE', 'opsnotes-base-bookworm:latest')
PREFIX = os.environ.get('OPSNOTES_PREFIX', 'opsnotes')
NAME = '%s-diff-%d' % (PREFIX, os.getpid())
# Debian 13's HAProxy (3.0), where its base image exists (make image builds it).
TRIXIE_IMAGE = os.environ.get('OPSNOTES_TRIXIE_IMAGE', 'opsnotes-base-trixie:latest')


class Box(object):
    """A container: run commands, write files."""

    def __init__(self, name=NAME):
        self.name = name

    def run(self, command, check=True, input_bytes=None, timeout=300):
        proc = subprocess.run(['docker', 'exec', '-i', self.name, 'bash', '-c', command], input=input_bytes,
                              capture_output=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError('%s: rc=%d\n%s\n%s' % (
                command, proc.returncode, proc.stdout.decode(errors='replace'), proc.stderr.decode(errors='replace')))
        return proc

    def write(self, path, text):
        data = text.encode('utf-8') if isinstance(text, str) else text
        self.run('mkdir -p %s && cat > %s' % (shlex.quote(os.path.dirname(path)), shlex.quote(path)), input_bytes=data)


@contextlib.contextmanager
def container(name, image, packages, systemd):
    """A Box of ``image`` with Debian's ``packages`` installed, on a network of its own; both removed after."""
    subprocess.run(['docker', 'network', 'create', name], check=True, capture_output=True)
    try:
        command = ['/lib/systemd/systemd'] if systemd else ['sleep', 'infinity']
        subprocess.run(['docker', 'run', '-d', '--name', name, '--hostname', 'diff', '--network', name,
                        '--cap-add', 'SYS_ADMIN', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW',
                        '--security-opt', 'apparmor=unconfined', '--tmpfs', '/run',
                        '--tmpfs', '/run/lock', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro', image] + command,
                       check=True, capture_output=True)
        b = Box(name)
        for _second in range(60 if systemd else 0):
            state = b.run('systemctl is-system-running', check=False).stdout.decode().strip()
            if state in ('running', 'degraded'):
                break
            time.sleep(1)
        b.run('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends '
              '%s >/dev/null' % ' '.join(packages), timeout=600)
        yield b
    finally:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
        subprocess.run(['docker', 'network', 'rm', name], capture_output=True, check=False)


@pytest.fixture(scope='session')
def box():
    with container(NAME, IMAGE, ['haproxy', 'haproxy-doc', 'syslog-ng-core', 'nginx-light', 'keepalived'], True) as b:
        b.run('systemctl stop haproxy nginx syslog-ng')
        yield b


def _image_exists(image):
    return subprocess.run(['docker', 'image', 'inspect', image], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope='session', params=['debian12', 'debian13'])
def haproxy_box(request):
    """Debian 12's HAProxy (the box), then Debian 13's (skipped, with the reason, without its image)."""
    if request.param == 'debian12':
        yield request.getfixturevalue('box')
        return
    if not _image_exists(TRIXIE_IMAGE):
        pytest.skip('%s is not built here (make image builds it)' % TRIXIE_IMAGE)
    with container(NAME + '-13', TRIXIE_IMAGE, ['haproxy', 'haproxy-doc'], False) as b:
        yield b
