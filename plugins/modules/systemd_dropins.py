#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: systemd_dropins
short_description: Write one named drop-in file for many systemd units in one call, removing stale ones
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Writes C(DIRECTORY/UNIT.d/NAME) for every unit in O(dropins), in one module call whatever the number of units,
    and runs C(systemctl daemon-reload) once when anything changed.
  - With O(exclusive=true), removes the drop-in file O(name) from units that are no longer listed, so a unit dropped
    from the list loses the setting instead of keeping a stale one.
  - Files are replaced atomically. Nothing is restarted, except the running units of O(restart) whose drop-in
    changed.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  name:
    description: File name of the drop-in inside each C(UNIT.d) directory. Must end in C(.conf).
    type: str
    required: true
  dropins:
    description:
      - "Unit name to drop-in content. The content is either the file text, or settings as
        C({Section: {Key: value}}) (a list value writes the key once per item), rendered after O(header)."
    type: dict
    required: true
  header:
    description: Comment written at the top of drop-ins given as settings.
    type: str
    default: Managed by Ansible (opsnotes.edge.systemd_dropins). Local edits are overwritten.
  directory:
    description: The unit directory.
    type: path
    default: /etc/systemd/system
  exclusive:
    description: Remove O(name) from every C(UNIT.d) directory of a unit not in O(dropins).
    type: bool
    default: true
  daemon_reload:
    description: Run C(systemctl daemon-reload) when a file was written or removed.
    type: bool
    default: true
  if_installed:
    description:
      - Units of O(dropins) that get their drop-in only when they are installed (systemd knows a unit file for
        them); one that is not is treated as not listed (with O(exclusive=true), a drop-in written earlier is
        removed). For defaults that apply to whatever the host runs.
    type: list
    elements: str
    default: []
  require_installed:
    description:
      - Fail, before anything is written, when a unit of O(dropins) not in O(if_installed) is not installed (the
        failed result names them in C(refused)).
    type: bool
    default: false
  restart:
    description:
      - Units of O(dropins) restarted after the daemon-reload when their drop-in was written or removed and they were
        running, for settings that apply only when a service starts (C(ExecStart=)). Use it for services whose
        restart costs nothing (a watchdog such as earlyoom), never for the ones being protected.
      - When one fails to start again, every drop-in is put back as it was, systemd reloads them, and the units of
        O(restart) are started again as they were.
    type: list
    elements: str
    default: []
seealso:
  - module: opsnotes.edge.oom_score
"""

EXAMPLES = r"""
- name: Durable OOM protection for two services
  opsnotes.edge.systemd_dropins:
    name: 50-oom-protect.conf
    dropins:
      rsyslog.service: {Service: {OOMScoreAdjust: -900}}
      haproxy.service: "[Service]\nOOMScoreAdjust=-900\n"

- name: A watchdog whose new command line applies at its next start
  opsnotes.edge.systemd_dropins:
    name: 50-avoid.conf
    dropins:
      earlyoom.service: {Service: {ExecStart: ['', '/usr/bin/earlyoom $EARLYOOM_ARGS --avoid "^(rsyslogd)$$"']}}
    exclusive: false
    restart: [earlyoom.service]
"""

RETURN = r"""
written:
  description: Units whose drop-in was (or would be) created or rewritten.
  returned: always
  type: list
  elements: str
  sample: [rsyslog.service]
removed:
  description: Units whose stale drop-in was (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: [mysql.service]
restarted:
  description: Units of O(restart) that were (or would be) restarted.
  returned: always
  type: list
  elements: str
  sample: [earlyoom.service]
daemon_reloaded:
  description: Whether C(systemctl daemon-reload) ran.
  returned: always
  type: bool
installed:
  description: With O(if_installed) or O(require_installed), the units of O(dropins) that are installed.
  returned: always
  type: list
  elements: str
not_installed:
  description: With O(if_installed) or O(require_installed), the units of O(dropins) that are not installed.
  returned: always
  type: list
  elements: str
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._files import FileTransaction, StepFailed, read_text
from ansible_collections.opsnotes.edge.plugins.module_utils._install import unit_properties
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe, text

UNIT_RE = re.compile(r'[A-Za-z0-9:_\\-][A-Za-z0-9:_.\\@-]*\.(service|socket|timer|mount|path|slice|scope|target)')
NAME_RE = re.compile(r'[A-Za-z0-9_.@-]+\.conf')


def render(settings, header):
    """{Section: {Key: value or [values]}} -> unit file text."""
    lines = ['# ' + line for line in header.splitlines()]
    for section, keys in settings.items():
        lines.append('[%s]' % section)
        for key, value in keys.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    item = 'yes' if item else 'no'
                lines.append('%s=%s' % (key, item))
    return '\n'.join(lines) + '\n'


def value_error(value):
    """Why a value cannot stand on one unit-file line: systemd ends a line at LF, CR or NUL, and a trailing
    backslash continues it on the next line. Specifiers (%n...) are the user's to use and are written as given. An
    empty value is systemd's reset of a list (ExecStart= before a new command)."""
    if isinstance(value, (dict, list)):
        return 'must be a single value'
    try:
        text(str(value), empty=True)
    except Unsafe as exc:
        return str(exc)
    if str(value).endswith('\\'):
        return '%r must not end with a backslash (systemd reads it as a continuation line)' % (value,)
    return None


def content_errors(unit, content):
    if isinstance(content, str):
        if '\0' in content:
            return ['dropins[%s]: text content must not contain a NUL character' % unit]
        return [] if '[' in content else ['dropins[%s]: text content must hold a [Section]' % unit]
    if not isinstance(content, dict) or not content or not all(isinstance(v, dict) for v in content.values()):
        return ['dropins[%s]: content must be text or {Section: {Key: value}}' % unit]
    errors = []
    for section, keys in content.items():
        if not re.fullmatch(r'[A-Za-z][A-Za-z0-9-]*', str(section)):
            errors.append('dropins[%s]: bad section name %r' % (unit, section))
        for key, value in keys.items():
            values = value if isinstance(value, list) else [value]
            if not re.fullmatch(r'[A-Za-z][A-Za-z0-9]*', str(key)):
                errors.append('dropins[%s].%s: bad key name %r' % (unit, section, key))
            else:
                errors.extend('dropins[%s].%s.%s: %s' % (unit, section, key, why)
                              for why in map(value_error, values) if why)
    return errors


def installed_units(module, units):
    """The units of ``units`` that systemd has a unit file for (LoadState other than not-found), in one
    ``systemctl show``."""
    try:
        states = unit_properties(module, units, ['LoadState']) if units else []
    except StepFailed as exc:
        module.fail_json(msg='%s; nothing was changed' % exc.msg)
    return [units[index] for index, state in enumerate(states) if state.get('LoadState') != 'not-found']


def running_units(module, units):
    """The units of ``units`` that are active now (one ``systemctl show``)."""
    try:
        states = unit_properties(module, units, ['ActiveState']) if units else []
    except StepFailed as exc:
        module.fail_json(msg='%s; nothing was changed' % exc.msg)
    return [units[index] for index, state in enumerate(states) if state.get('ActiveState') in ('active', 'reloading')]


def input_errors(params):
    """What is wrong with the module's input, one message per problem."""
    errors = []
    if not NAME_RE.fullmatch(params['name']):
        errors.append('name: %r must be a file name ending in .conf' % params['name'])
    for unit, content in params['dropins'].items():
        if not UNIT_RE.fullmatch(unit):
            errors.append('dropins: %r is not a unit name' % unit)
        else:
            errors.extend(content_errors(unit, content))
    return errors


def select_installed(module, params):
    """(installed, not installed) of the units named, when if_installed or require_installed asks; drops the units
    that are not installed from params['dropins'], and fails naming those that must be."""
    if not (params['if_installed'] or params['require_installed']):
        return [], []
    units = sorted(params['dropins'])
    installed = installed_units(module, units)
    missing = [unit for unit in units if unit not in installed]
    required = [unit for unit in missing if unit not in params['if_installed']]
    if params['require_installed'] and required:
        module.fail_json(msg='%s not installed on this host; nothing was changed' % ', '.join(required),
                         installed=installed, not_installed=missing, refused=required)
    params['dropins'] = {unit: content for unit, content in params['dropins'].items() if unit not in missing}
    return installed, missing


def plan(params):
    """(writes [(unit, path, content)], removals [(unit, path)], diffs): what differs from the files on disk."""
    directory, name = params['directory'], params['name']
    writes, removals, diffs = [], [], []
    for unit, content in sorted(params['dropins'].items()):
        if isinstance(content, dict):
            content = render(content, params['header'])
        content = content if content.endswith('\n') else content + '\n'
        path = os.path.join(directory, unit + '.d', name)
        old = read_text(path)
        if old != content:
            writes.append((unit, path, content))
            diffs.append(dict(before_header=path, after_header=path, before=old or '', after=content))
    if params['exclusive'] and os.path.isdir(directory):
        for entry in sorted(os.listdir(directory)):
            unit = entry[:-2] if entry.endswith('.d') else None
            path = os.path.join(directory, entry, name)
            if unit and unit not in params['dropins'] and os.path.isfile(path):
                removals.append((unit, path))
                diffs.append(dict(before_header=path, after_header='(removed)', before=read_text(path) or '', after=''))
    return writes, removals, diffs


def put_back(module, transaction, result, msg, undone, not_undone='could not put back: %s'):
    """Fails with ``msg``, after every file is put back as it was (``undone`` says so) or what could not be."""
    undo = transaction.rollback()
    result.update(changed=bool(undo), written=[], removed=[])
    module.fail_json(msg='%s; %s' % (msg, undone if not undo else not_undone % '; '.join(undo)), **result)


def swap(module, writes, removals, result):
    """Writes and removes the drop-ins in one transaction (all or nothing), which it returns."""
    transaction = FileTransaction(module)
    try:
        for _unit, path, content in writes:
            transaction.write(path, content, 0o644)
        for _unit, path in removals:
            transaction.remove(path)
    except OSError as exc:
        put_back(module, transaction, result, str(exc), 'every drop-in was put back as it was')
    for _unit, path in removals:
        try:
            os.rmdir(os.path.dirname(path))     # only when empty
        except OSError:
            pass
    return transaction


def restart_units(module, transaction, systemctl, restart, result):
    """Restarts ``restart`` with the new drop-ins; on failure, the old drop-ins and the units started again."""
    rc, _out, err = module.run_command([systemctl, 'restart', '--'] + restart)
    if rc == 0:
        return
    undo = transaction.rollback()
    if undo:
        again = 'could not put back: %s' % '; '.join(undo)
    else:
        failed = [out_err[2].strip() for out_err in (module.run_command([systemctl, 'daemon-reload']),
                                                     module.run_command([systemctl, 'restart', '--'] + restart))
                  if out_err[0] != 0]
        again = 'the drop-ins were put back as they were and %s' % (
            'starting again failed too: %s' % '; '.join(failed) if failed else 'the units started again')
    result.update(changed=bool(undo), written=[], removed=[], restarted=[])
    module.fail_json(msg='systemctl restart %s failed with the new drop-ins: %s; %s'
                     % (' '.join(restart), err.strip(), again), **result)


def run(module):
    params = module.params
    errors = input_errors(params)
    if errors:
        module.fail_json(msg='; '.join(errors))
    installed, missing = select_installed(module, params)
    writes, removals, diffs = plan(params)

    changed = bool(writes or removals)
    touched = [w[0] for w in writes] + [r[0] for r in removals]
    restart = running_units(module, [unit for unit in params['restart'] if unit in touched])
    result = dict(changed=changed, written=[w[0] for w in writes], removed=[r[0] for r in removals],
                  daemon_reloaded=False, restarted=restart, diff=diffs, installed=installed, not_installed=missing)
    if module.check_mode or not changed:
        module.exit_json(**result)
    # All or nothing: a failed write or removal, or a failed daemon-reload, puts every file back as it was, so the
    # drop-ins on disk always match what systemd has loaded.
    transaction = swap(module, writes, removals, result)
    systemctl = module.get_bin_path('systemctl', required=True)
    if params['daemon_reload'] or restart:
        rc, _out, err = module.run_command([systemctl, 'daemon-reload'])
        if rc != 0:
            put_back(module, transaction, result, 'systemctl daemon-reload failed: %s' % err.strip(),
                     'the drop-ins were put back as they were')
        result['daemon_reloaded'] = True
    if restart:
        restart_units(module, transaction, systemctl, restart, result)
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            dropins=dict(type='dict', required=True),
            directory=dict(type='path', default='/etc/systemd/system'),
            header=dict(type='str', default='Managed by Ansible (opsnotes.edge.systemd_dropins). '
                                            'Local edits are overwritten.'),
            exclusive=dict(type='bool', default=True),
            daemon_reload=dict(type='bool', default=True),
            if_installed=dict(type='list', elements='str', default=[]),
            require_installed=dict(type='bool', default=False),
            restart=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
