# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the molecule testinfra verifiers (on PYTHONPATH via .config/molecule/config.yml)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
import testinfra

PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd())
MAC_RE = re.compile(r'\[([0-9A-Fa-f:]{17})\]')


def host(container):
    """A testinfra host talking to a container through docker exec (fast, no ansible round trip)."""
    return testinfra.get_host('docker://' + container)


def ip_of(name):
    """The IPv4 address of a container on its first network."""
    return host(name).check_output("ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")


def sslyze(address, port=443, name='localhost', profile='intermediate'):
    """sslyze's verdict (a third-party judge) against Mozilla's ``profile`` for the server at ``address`` and
    ``port``, with SNI ``name``: {finding: text}, {} when compliant."""
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'sslyze'), '--mozilla_config=' + profile,
                          '%s:%d{%s}' % (name, port, address)], capture_output=True, text=True, timeout=600, check=False)
    assert 'Checking results against Mozilla' in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    verdict = run.stdout.split('Checking results against Mozilla', 1)[1]
    findings = dict(re.findall(r'^\s+\* (\w+): (.*)$', verdict, flags=re.M))
    assert bool(findings) == (run.returncode != 0), run.stdout[-3000:]
    return findings


def mac(h, iface='eth0'):
    return h.file('/sys/class/net/%s/address' % iface).content_string.strip().lower()


def arp_responders(client, address, iface='eth0', count=3):
    """MAC addresses that answer an ARP request for ``address``, seen from ``client`` (cache flushed first)."""
    client.run('ip neigh flush dev %s', iface)
    out = client.run('arping -c %s -w %s -I %s %s', str(count), str(count + 2), iface, address)
    return {m.lower() for m in MAC_RE.findall(out.stdout)}


def sysctl(h, *parts):
    return h.file('/proc/sys/' + '/'.join(parts)).content_string.strip()


def addresses(h, iface):
    """{address/prefixlen} held by ``iface``."""
    out = h.check_output('ip -o address show dev %s', iface)
    return set(re.findall(r'inet6? (\S+)', out))


def ansible_playbook(playbook, *args, **env):
    """Run a playbook against the scenario's inventory, with extra environment ``env``; returns the CompletedProcess."""
    cmd = ['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], playbook] + list(args)
    return subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
                          env=dict(os.environ, **env))


def playbook_failures(playbook, *args):
    """Run a playbook with the JSON callback; returns (returncode, [(host, task, msg) of each failed task])."""
    run = ansible_playbook(playbook, *args, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
    # Other enabled callbacks (profile_tasks) print around the JSON document, which starts at a "{" line.
    document = run.stdout[run.stdout.index('\n{') + 1:] if not run.stdout.startswith('{') else run.stdout
    failures = []
    for play in json.JSONDecoder().raw_decode(document)[0]["plays"]:
        for task in play['tasks']:
            for name, res in task['hosts'].items():
                if res.get('failed'):
                    failures.append((name, task['task']['name'], res.get('msg', '')))
    return run.returncode, failures


def restart(container, timeout=60):
    """Restart a container (a reboot for the systemd inside) and wait for systemd to settle."""
    subprocess.run(['docker', 'restart', container], check=True, capture_output=True)
    deadline = time.time() + timeout
    state = ''
    while time.time() < deadline:
        state = subprocess.run(['docker', 'exec', container, 'systemctl', 'is-system-running'],
                               capture_output=True, text=True, check=False).stdout.strip()
        if state in ('running', 'degraded'):
            return state
        time.sleep(1)
    raise AssertionError('%s: systemd is %r after restart' % (container, state))


def journal(h, lines=60):
    """The tail of the journal, for failure messages."""
    return h.run('journalctl --no-pager -n %s', str(lines)).stdout


def held_connection(client, address, port, sni):
    """Start a TLS connection held open from ``client`` (opsnotes-held-tls.py, installed by the scenario's prepare),
    asking a request every 0.5 s; returns (go, out) once its first request has been answered: touch ``go`` to end
    it, then read held_result."""
    go, out = '/tmp/go-%s' % uuid.uuid4().hex, '/tmp/held-%s.json' % uuid.uuid4().hex
    client.check_output('nohup python3 /usr/local/bin/opsnotes-held-tls.py %s %s %s %s %s >/dev/null 2>&1 &',
                        address, str(port), sni, go, out)
    for _attempt in range(40):
        if client.file(out).exists and json.loads(client.file(out).content_string)['results']:
            return go, out
        time.sleep(0.25)
    raise AssertionError('the held connection never got an answer')


def held_result(client, go, out):
    """End the held connection and return its summary: {fingerprint, results: [status or error...], done}."""
    client.check_output('touch %s', go)
    for _attempt in range(40):
        result = json.loads(client.file(out).content_string)
        if result['done']:
            return result
        time.sleep(0.25)
    raise AssertionError('the held connection client did not finish: %s' % client.file(out).content_string)


def ansible_host(name):
    """A testinfra host over the scenario's ansible inventory, for host.ansible(module, args)."""
    return testinfra.get_host('ansible://' + name, ansible_inventory=os.environ['MOLECULE_INVENTORY_FILE'])


# Pytest plumbing, imported by each scenario's tests/conftest.py: when a test fails, print the journal
# of the hosts the test module lists in JOURNAL_HOSTS.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == 'call' and report.failed:
        for container in getattr(item.module, 'JOURNAL_HOSTS', []):
            report.sections.append(('journal of %s' % container, journal(host(container))))
