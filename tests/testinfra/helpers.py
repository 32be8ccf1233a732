# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the molecule testinfra verifiers (on PYTHONPATH via .config/molecule/config.yml)."""

from __future__ import annotations

import csv
import datetime
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid

import pytest
import testinfra

PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd())
LAB_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout with the lab
MAC_RE = re.compile(r'\[([0-9A-Fa-f:]{17})\]')
# The labs' state (scripts/lab.sh): .lab/<prefix>-<lab>/ssh/config reaches the lab's guests.
LAB_STATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), '.lab')


def guest_ssh_config(container):
    """The SSH configuration that reaches ``container`` when it is a lab host on a kernel of its own (a user-mode
    Linux guest in the container's place, scripts/lab.sh), else None."""
    for config in glob.glob(os.path.join(LAB_STATE, '*', 'ssh', 'config')):
        with open(config, encoding='utf-8') as handle:
            if re.search(r'^Host %s$' % re.escape(container), handle.read(), re.M):
                return config
    return None


def host(container):
    """A testinfra host for a container (docker exec: fast, no ansible round trip) or a lab guest (SSH)."""
    config = guest_ssh_config(container)
    if config:
        return testinfra.get_host('ssh://' + container, ssh_config=config)
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


def unit_timestamp(h, unit, prop):
    """A realtime timestamp of ``unit`` (``prop``, such as ActiveEnterTimestamp) from systemd, in seconds since the
    epoch, to the microsecond."""
    text = h.check_output('systemctl show -p %s --timestamp=us+utc %s', prop, unit).split('=', 1)[1]
    return datetime.datetime.strptime(text.strip()[4:], '%Y-%m-%d %H:%M:%S.%f UTC').replace(
        tzinfo=datetime.timezone.utc).timestamp()


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
    """Run a playbook with the JSON callback; returns (returncode, [(host, task, msg) of each failed task]); a loop's
    msg holds its failed items' messages too."""
    run = ansible_playbook(playbook, *args, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
    # Other enabled callbacks (profile_tasks) print around the JSON document, which starts at a "{" line.
    document = run.stdout[run.stdout.index('\n{') + 1:] if not run.stdout.startswith('{') else run.stdout
    failures = []
    for play in json.JSONDecoder().raw_decode(document)[0]["plays"]:
        for task in play['tasks']:
            for name, res in task['hosts'].items():
                if res.get('failed'):
                    # A loop's own message is "One or more items failed": the failed items' messages follow it.
                    items = [item.get('msg', '') for item in res.get('results', []) if item.get('failed')]
                    failures.append((name, task['task']['name'], ' | '.join([res.get('msg', '')] + items)))
    return run.returncode, failures


def lab_ansible(pattern, module, args, *extra):
    """{host: result} of an ad-hoc ``module`` call with ``args`` (a dict) on the lab's ``pattern`` (the running lab's
    inventory; ``extra``: more ansible arguments, e.g. -e @vars.json); AssertionError when ansible fails."""
    run = subprocess.run(['ansible', pattern, '-i', 'inventories/lab', '-m', module]
                         + (['-a', json.dumps(args)] if args else []) + list(extra), cwd=LAB_ROOT, capture_output=True, text=True, check=False, timeout=300,
                         env=dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='json'))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # Other enabled callbacks (profile_tasks) print around the JSON document, which starts at a "{" line.
    text = run.stdout if run.stdout.startswith('{') else run.stdout[run.stdout.index('\n{') + 1:]
    document = json.JSONDecoder().raw_decode(text)[0]
    return document['plays'][0]['tasks'][-1]['hosts']


def restart(container, timeout=60):
    """Restart a container (a reboot for the systemd inside, or for its guest's) and wait for systemd to settle."""
    subprocess.run(['docker', 'restart', container], check=True, capture_output=True)
    deadline = time.time() + timeout
    state = ''
    while time.time() < deadline:
        state = host(container).run('systemctl is-system-running').stdout.strip()
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


def haproxy_server(name, socket_path, **args):
    """The result of an ad-hoc opsnotes.edge.haproxy_server call on the scenario's host ``name`` (not checked)."""
    return ansible_host(name).ansible('opsnotes.edge.haproxy_server', json.dumps(dict(socket=socket_path, **args)),
                                      check=False)


def load_while(client, url, seconds, action, out='/tmp/load.json'):
    """(what ``action()`` returned, the summary of opsnotes-load.py on ``client``): new-connection requests to ``url``
    for ``seconds`` while ``action()`` runs."""
    client.check_output('rm -f %s; nohup sh -c "python3 /usr/local/bin/opsnotes-load.py %s %s > %s" >/dev/null 2>&1 &',
                        out, url, str(seconds), out)
    time.sleep(1)
    result = action()
    assert wait_for(lambda: client.file(out).contains('failed'), seconds + 15) is not None, 'no load summary in ' + out
    return result, json.loads(client.file(out).content_string)


# Pytest plumbing, imported by each scenario's tests/conftest.py: when a test fails, print the journal
# of the hosts the test module lists in JOURNAL_HOSTS.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == 'call' and report.failed:
        for container in getattr(item.module, 'JOURNAL_HOSTS', []):
            report.sections.append(('journal of %s' % container, journal(host(container))))


# --- a VIP under watch: requests through it from a client, and each director's view of it -------------------------

VIP_PROBE = r'''
import fcntl, itertools, json, os, socket, ssl, sys, time
vip, port, seconds, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sni = (sys.argv[5] if len(sys.argv) > 5 else '') or None
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
# Each request from a client port of its own, below the ephemeral range, taken in turn across the probes of this
# host (a counter file): IPVS sends a connection from a port used in the last 2 minutes where that one went, weight
# 0 or not, so a reused port would make a drained server look asked. A probe takes at most 4000 ports and goes round
# them: at 25 requests a second at most, a port comes back after 160 s.
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.connect((vip, port))
me = probe.getsockname()[0]
probe.close()
with open('/var/tmp/opsnotes-vip-probe-port', 'a+') as counter:
    fcntl.flock(counter, fcntl.LOCK_EX)
    counter.seek(0)
    block = min(int(seconds * 25) + 100, 4000)
    first = int(counter.read().strip() or 2000)
    first = first if 2000 <= first and first + block <= 30000 else 2000
    counter.seek(0)
    counter.truncate()
    counter.write(str(first + block))
ports = itertools.cycle(range(first, first + block))
end, rows = time.time() + seconds, []
while time.time() < end:
    if os.path.exists(out + '.stop'):          # VipWatch.stop_after: an earlier end
        with open(out + '.stop') as handle:
            end = min(end, float(handle.read() or end))
    started, body = time.time(), None
    try:
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        raw.bind((me, next(ports)))
        raw.settimeout(0.3 if sni is None else 3)
        raw.connect((vip, port))
        with raw:
            conn = context.wrap_socket(raw, server_hostname=sni) if sni else raw
            conn.settimeout(0.3 if sni is None else 3)
            conn.sendall(('GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % (sni or 'vip')).encode())
            data = b''
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, _sep, rest = data.partition(b'\r\n\r\n')
        if b' 200 ' in head.split(b'\r\n', 1)[0] or (sni is None and b' 301 ' in head.split(b'\r\n', 1)[0]):
            body = rest.decode(errors='replace').strip() or head.split(b'\r\n', 1)[0].decode()
    except (OSError, ssl.SSLError):
        pass
    rows.append([started, body])
    time.sleep(0.05)
with open(out + '.tmp', 'w') as handle:
    json.dump(rows, handle)
os.rename(out + '.tmp', out)
'''
# Each director notes every 50 ms whether it holds the VIP: two holders at once cannot hide between the samples of
# one observer.
VIP_SAMPLER = r'''
import json, os, subprocess, sys, time
vip, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
end, rows = time.time() + seconds, []
while time.time() < end:
    if os.path.exists(out + '.stop'):          # VipWatch.stop_after: an earlier end
        with open(out + '.stop') as handle:
            end = min(end, float(handle.read() or end))
    text = subprocess.run(['ip', '-o', 'addr', 'show'], capture_output=True, text=True).stdout
    rows.append([time.time(), (' %s/' % vip) in text])
    time.sleep(0.05)
with open(out + '.tmp', 'w') as handle:
    json.dump(rows, handle)
os.rename(out + '.tmp', out)
'''


def wait_for(predicate, seconds, step=0.1):
    """Seconds until ``predicate()`` held, or None after ``seconds``."""
    start = time.time()
    while time.time() - start < seconds:
        if predicate():
            return time.time() - start
        time.sleep(step)
    return None


def vip_holders(directors, vip):
    """The names of ``directors`` ({name: testinfra host}) that hold ``vip``."""
    return [name for name, h in directors.items() if (' %s/' % vip) in h.check_output('ip -o addr show')]


class VipWatch(object):
    """``with VipWatch(client, directors, vip, seconds) as watch:`` requests from ``client`` through ``vip`` (port
    ``port``; over TLS with ``sni``, where only a 200 counts) every 50 ms, and each director's view of ``vip``, for
    ``seconds`` (or until ``stop_after()`` ends it earlier); afterwards ``requests`` ([start time, body or None]),
    ``longest_gap()``, ``served_by()`` (the response bodies) and ``two_holders()``."""

    def __init__(self, client, directors, vip, seconds, port=80, sni=None):
        self.client, self.directors, self.vip, self.port, self.sni = client, directors, vip, port, sni
        self.seconds, self.tag = seconds, uuid.uuid4().hex[:12]

    def __enter__(self):
        self.client.check_output('cat > /usr/local/bin/opsnotes-vip-probe <<"EOF"\n%s\nEOF' % VIP_PROBE)
        self.client.check_output('systemd-run --collect --unit opsnotes-vip-probe-%s python3 /usr/local/bin/opsnotes-vip-probe '
                                 '%s %s %s /run/opsnotes-vip-probe-%s.json %s', self.tag, self.vip, str(self.port),
                                 str(self.seconds), self.tag, self.sni or '')
        for h in self.directors.values():
            h.check_output('cat > /usr/local/bin/opsnotes-vip-sampler <<"EOF"\n%s\nEOF' % VIP_SAMPLER)
            h.check_output('systemd-run --collect --unit opsnotes-vip-sampler-%s python3 /usr/local/bin/opsnotes-vip-sampler '
                           '%s %s /run/opsnotes-vip-sampler-%s.json', self.tag, self.vip, str(self.seconds), self.tag)
        time.sleep(1)
        return self

    def stop_after(self, seconds):
        """Ends the requests and the samples ``seconds`` from now instead of at the end given at the start (the
        controller's clock, which the lab's containers and guests share)."""
        end = '%.3f' % (time.time() + seconds)
        self.client.check_output('echo %s > /run/opsnotes-vip-probe-%s.json.stop', end, self.tag)
        for h in self.directors.values():
            h.check_output('echo %s > /run/opsnotes-vip-sampler-%s.json.stop', end, self.tag)

    def __exit__(self, *exc):
        if exc[0] is not None:                 # the body failed: no reason to wait for the end given at the start
            self.stop_after(0)

        def read(h, name):
            path = '/run/%s-%s.json' % (name, self.tag)
            assert wait_for(lambda: h.file(path).exists, self.seconds + 10) is not None, path
            return json.loads(h.file(path).content_string)
        self.requests = read(self.client, 'opsnotes-vip-probe')
        self.samples = {name: read(h, 'opsnotes-vip-sampler') for name, h in self.directors.items()}
        self.client.run('rm -f /run/opsnotes-vip-probe-%s.json.stop', self.tag)
        for h in self.directors.values():
            h.run('rm -f /run/opsnotes-vip-sampler-%s.json.stop', self.tag)

    def longest_gap(self):
        """The longest time without a successful request, from the first request to the last."""
        times = [row[0] for row in self.requests if row[1]]
        edges = [self.requests[0][0]] + times + [self.requests[-1][0]]
        return max(edges[i + 1] - edges[i] for i in range(len(edges) - 1))

    def served_by(self):
        return {row[1] for row in self.requests if row[1]}

    def two_holders(self):
        """Moments when two directors held the VIP: a sample of one inside another's holding interval."""
        out = []
        for name, rows in self.samples.items():
            for other_name, other in self.samples.items():
                if other_name == name:
                    continue
                for when, held in rows:
                    before = [h for t, h in other if t <= when]
                    after = [h for t, h in other if t >= when]
                    if held and before and after and before[-1] and after[0]:
                        out.append((name, other_name, when))
        return out


# HAProxy's runtime API on a host, with the Python every test image has: "show stat" (CSV, its fields named by
# its header).
HAPROXY_COMMAND = ("printf '%%s\\n' %s | python3 -c \"import socket, sys; s = socket.socket(socket.AF_UNIX); "
                   "s.connect('%s'); s.sendall(sys.stdin.buffer.read()); "
                   "print(b''.join(iter(lambda: s.recv(65536), b'')).decode())\"")


def haproxy_command(h, command, socket_path='/run/haproxy/admin.sock'):
    """What HAProxy's admin socket on ``h`` answers to ``command``."""
    return h.check_output(HAPROXY_COMMAND % (shlex.quote(command), socket_path))


def haproxy_stat(h, socket_path='/run/haproxy/admin.sock'):
    """{(backend, server): {field: value}} from HAProxy's "show stat" on ``h`` (status, scur, econ, wretr, ...)."""
    lines = [line for line in haproxy_command(h, 'show stat', socket_path).splitlines() if line.strip()]
    header = lines[0].lstrip('# ').split(',')
    return dict(((row['pxname'], row['svname']), row) for row in csv.DictReader(lines[1:], fieldnames=header))


def journal_cursor(h):
    return h.check_output('journalctl -n 0 --show-cursor --no-pager | tail -n 1').replace('-- cursor: ', '')


def renew_unit(h, force=False):
    """Start the ACME renewal unit (opsnotes-acme-renew.service) alone on ``h``, as its timer does, forced to
    renew with ``force``; returns (rc, the journal of that run)."""
    cursor = journal_cursor(h)
    if force:
        h.check_output('echo RENEW_ARGS=--force > /etc/default/opsnotes-acme-renew')
    try:
        run = h.run('systemctl start opsnotes-acme-renew.service')
    finally:
        h.check_output('rm -f /etc/default/opsnotes-acme-renew')
    return run.rc, h.run('journalctl -u opsnotes-acme-renew.service --no-pager --after-cursor %s', cursor).stdout


def journal_since(h, cursor):
    return h.run('journalctl --no-pager -o cat --after-cursor %s', cursor).stdout
