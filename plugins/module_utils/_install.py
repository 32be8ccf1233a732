# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Putting a validated configuration file live: the one path every ``*_config`` module takes once the service's
own checker has accepted a staged copy (outside the configuration tree).

1. the new text replaces the file atomically (readers see the old file or the new one), with the file's mode;
2. optionally the service's checker reads the live tree once more (nginx: a file staged alone can pass while the
   live tree it joins does not);
3. a running service is reloaded;
4. when step 2 or 3 refuses, the previous file is put back (or the new file removed, when there was none), and
   the module fails naming what refused, its output, and what was put back. The service, which refused the
   reload, still runs the previous configuration, so disk and memory agree again.

A run therefore never ends with a file the service has not accepted, whichever step fails.
"""

from __future__ import annotations

import os

from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed, read_text, write_atomic

RESTORED = 'the previous file was restored'
REMOVED = 'the new file was removed (there was no previous one)'


class LiveFile(object):
    """The live configuration file at ``path``, whose content before the change is ``old`` (None: no file)."""

    def __init__(self, module, path, old, mode=0o644, group=None):
        self.module, self.path, self.old, self.mode, self.group = module, path, old, mode, group

    def write(self, text):
        # A file with a group (secrets for the service's group) is root's; the others keep write_atomic's owner.
        write_atomic(self.module, self.path, text, self.mode, 0 if self.group else None, self.group)

    def restore(self):
        """Put the previous content back, or remove the new file when there was none; a sentence saying which."""
        if self.old is None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            return REMOVED
        self.write(self.old)
        return RESTORED

    def install(self, result, content, live_check=None, reload=None, hint=''):
        """Swap ``content`` in, then run ``live_check`` (() -> (ok, output)) and ``reload`` ((name, () -> (rc,
        output)), None when the service is not to be reloaded). On a refusal the previous file comes back and the
        module fails with ``result``, the refusal's output and ``hint``. Sets result['reloaded']."""
        self.write(content)
        if live_check is not None:
            ok, output = live_check()
            if not ok:
                self.fail(result, 'the live configuration fails the check after the swap (%s)' % output, hint)
        if reload is not None:
            name, action = reload
            rc, output = action()
            if rc != 0:
                self.fail(result, '%s failed (%s)' % (name, output.strip() or 'no output'), hint)
            result['reloaded'] = True

    def fail(self, result, problem, hint=''):
        done = self.restore()
        result['changed'] = False
        self.module.fail_json(msg='%s; %s%s' % (problem, done, hint), **result)


def run_reload(module, argv):
    """(rc, output) of a reload command."""
    rc, out, err = module.run_command(argv)
    return rc, (out + err).strip()


def unit_active(module, service):
    """Whether the systemd unit ``service`` is active (running)."""
    systemctl = module.get_bin_path('systemctl', required=True)
    return module.run_command([systemctl, 'is-active', '--quiet', service])[0] == 0


def systemd_reload(module, service):
    """The ``reload`` of LiveFile.install for a systemd unit: ('systemctl reload SERVICE', its action)."""
    argv = [module.get_bin_path('systemctl', required=True), 'reload', service]
    return 'systemctl reload %s' % service, lambda: run_reload(module, argv)


def unit_file(module, path, text):
    """Keep the systemd unit file ``path`` with ``text`` and the unit enabled, in check mode only comparing.

    Returns (changed, diff). The file is written atomically (0644), then ``systemctl daemon-reload`` runs when it
    changed and ``systemctl enable`` when the unit is not enabled. When either command fails, the previous file is
    put back (or the new one removed) and reloaded, and StepFailed is raised: the old unit stands, not a half-done
    new one.
    """
    unit = os.path.basename(path)
    systemctl = module.get_bin_path('systemctl', required=True)
    old = read_text(path)
    enabled = old is not None and module.run_command([systemctl, 'is-enabled', unit])[1].strip() == 'enabled'
    diff = dict(before_header=path, after_header=path, before=old or '', after=text)
    if old == text and enabled:
        return False, diff
    if module.check_mode:
        return True, diff
    if old != text:
        write_atomic(module, path, text, 0o644)
    steps = [[systemctl, 'daemon-reload']] if old != text else []
    steps += [] if enabled else [[systemctl, 'enable', unit]]
    for argv in steps:
        rc, out, err = module.run_command(argv)
        if rc != 0:
            problem = '%s failed: %s' % (' '.join(argv[1:]), (out + err).strip())
            if old != text:
                if old is None:
                    os.unlink(path)
                else:
                    write_atomic(module, path, old, 0o644)
                module.run_command([systemctl, 'daemon-reload'])
                problem += '; %s' % (REMOVED if old is None else RESTORED)
            raise StepFailed(problem)
    return True, diff
