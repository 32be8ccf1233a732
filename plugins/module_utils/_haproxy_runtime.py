# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HAProxy runtime API over the admin (stats) socket: send a command, parse 'show stat' and 'show servers state'."""

from __future__ import annotations

import csv
import io
import ipaddress
import socket

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced/inherited/config maintenance, forced/inherited drain,
# resolution maintenance.
ADMF_FMAINT, ADMF_IMAINT, ADMF_CMAINT, ADMF_FDRAIN, ADMF_IDRAIN, ADMF_RMAINT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
MAINT_BITS = ADMF_FMAINT | ADMF_IMAINT | ADMF_CMAINT | ADMF_RMAINT
DRAIN_BITS = ADMF_FDRAIN | ADMF_IDRAIN


class RuntimeError_(Exception):
    """The socket is missing or refused, or HAProxy answered with an error."""


def command(path, text, timeout=5.0):
    """Send one runtime API command and return HAProxy's whole answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(text.encode() + b'\n')
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise RuntimeError_('cannot connect to the HAProxy admin socket %s: %s (is haproxy running, and is the '
                            'socket path right?)' % (path, exc.strerror)) from None
    except (OSError, socket.timeout) as exc:
        raise RuntimeError_('HAProxy admin socket %s: %s' % (path, exc)) from None
    finally:
        sock.close()
    return b''.join(chunks).decode('utf-8', 'replace')


def parse_stat(text):
    """'show stat' CSV -> list of dicts (pxname, svname, status, scur, weight, ...)."""
    text = text.lstrip()
    if text.startswith('# '):
        text = text[2:]
    return [dict(row) for row in csv.DictReader(io.StringIO(text)) if row.get('pxname')]


def parse_servers_state(text):
    """'show servers state' -> list of dicts with be_name, srv_name, srv_op_state, srv_admin_state, srv_uweight."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = None
    rows = []
    for line in lines:
        if line.startswith('#'):
            header = line.lstrip('# ').split()
            continue
        if line.strip() == '1' or header is None:      # the format version line
            continue
        values = line.split()
        rows.append({header[i]: values[i] for i in range(min(len(header), len(values)))})
    return rows


def _same_address(configured, row):
    """Whether a server's configured address (IP or host name) is the one a state row was saved with."""
    try:
        return ipaddress.ip_address(configured) == ipaddress.ip_address(row.get('srv_addr', ''))
    except ValueError:
        return configured.rstrip('.').lower() == row.get('srv_fqdn', '-').rstrip('.').lower()


def state_for(text, backends):
    """The 'show servers state' ``text`` to save for a configuration with ``backends`` ([{name, servers: [{name,
    address, port}]}]), and what was left out. HAProxy applies a saved row's address and port over the new
    configuration's (haproxy/haproxy#985): a server whose address or port changed would keep the old ones after
    the reload. Its row is dropped, so it starts from the configuration (UP after its checks, not drained)."""
    configured = {(backend.get('name'), server.get('name')): server
                  for backend in backends or [] for server in backend.get('servers') or []}
    kept, dropped, header = [], [], None
    for line in text.splitlines():
        values = line.split()
        if line.startswith('#'):
            header = line.lstrip('# ').split()
        if not values or line.startswith('#') or header is None or len(values) < len(header):
            kept.append(line)
            continue
        row = {name: values[index] for index, name in enumerate(header)}
        server = configured.get((row.get('be_name'), row.get('srv_name')))
        if server is not None and not (_same_address(str(server.get('address', '')), row)
                                       and str(server.get('port')) == row.get('srv_port')):
            dropped.append('%s/%s: %s:%s is now %s:%s' % (row['be_name'], row['srv_name'],
                                                          row.get('srv_fqdn') if row.get('srv_fqdn', '-') != '-'
                                                          else row.get('srv_addr'), row.get('srv_port'),
                                                          server.get('address'), server.get('port')))
            continue
        kept.append(line)
    return '\n'.join(kept) + '\n', dropped


def admin_state(row):
    """'maint', 'drain' or 'ready' from a 'show servers state' row."""
    admin = int(row.get('srv_admin_state', 0))
    if admin & MAINT_BITS:
        return 'maint'
    if admin & DRAIN_BITS:
        return 'drain'
    return 'ready'


def check_answer(answer):
    """Runtime commands answer nothing on success; anything else is HAProxy's error text."""
    text = answer.strip()
    if text:
        raise RuntimeError_(text)
