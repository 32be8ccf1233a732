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
        try:
            write_atomic(module, path, text, 0o644)
        except OSError as exc:
            raise StepFailed('cannot write %s: %s; the unit was not changed' % (path, exc)) from exc
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


def package_versions(module, names):
    """{name: version} of the Debian packages of ``names`` that are installed (dpkg's status is ``ii``)."""
    if not names:
        return {}
    dpkg_query = module.get_bin_path('dpkg-query', required=True)
    _rc, out, _err = module.run_command([dpkg_query, '-W', '-f=${Package} ${db:Status-Abbrev} ${Version}\\n']
                                        + list(names))
    installed = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith('ii'):
            installed[parts[0].split(':')[0]] = parts[2] if len(parts) > 2 else ''
    return installed


def missing_packages(module, names):
    """The Debian packages of ``names`` that are not installed (dpkg's status is not ``ii``), in order."""
    installed = package_versions(module, names)
    return [name for name in names if name not in installed]


def install_packages(module, names, versions=None):
    """Install the packages of ``names`` that are missing, as ``apt-get install`` does without recommends (the
    package lists refreshed first); in check mode only name them. Returns the names that were (or would be)
    installed; a failure raises StepFailed with apt's last lines. ``versions`` (a dict), when given, gets the
    installed version of each package of ``names`` that is installed once this is done."""
    installed = package_versions(module, names)
    missing = [name for name in names if name not in installed]
    if versions is not None:
        versions.update(installed)
    if not missing or module.check_mode:
        return missing
    apt_get = module.get_bin_path('apt-get', required=True)
    env = dict(DEBIAN_FRONTEND='noninteractive')
    for argv in ([apt_get, 'update', '-q'],
                 [apt_get, 'install', '-y', '-q', '--no-install-recommends'] + missing):
        rc, out, err = module.run_command(argv, environ_update=env)
        if rc != 0:
            tail = '\n'.join((out + err).strip().splitlines()[-10:])
            raise StepFailed('apt-get %s failed (rc=%d): %s' % (argv[1], rc, tail))
    if versions is not None:
        versions.update(package_versions(module, missing))
    return missing


def keep_running(module, service):
    """Keep the systemd unit ``service`` enabled and active; in check mode only say what would be done. Returns the
    actions (``enable``, ``start``) that were (or would be) taken; a failure raises StepFailed."""
    systemctl = module.get_bin_path('systemctl', required=True)
    actions = []
    if module.run_command([systemctl, 'is-enabled', '--quiet', service])[0] != 0:
        actions.append('enable')
    if not unit_active(module, service):
        actions.append('start')
    if module.check_mode:
        return actions
    for action in actions:
        rc, out, err = module.run_command([systemctl, action, service])
        if rc != 0:
            raise StepFailed('systemctl %s %s failed: %s' % (action, service, (out + err).strip()))
    return actions


def finish_running(module, service, running, result):
    """With ``running``, keep_running ``service`` and record it in ``result`` (``service_actions``, ``changed``);
    a failure fails the module with ``result``. Without it, ``service_actions`` is empty."""
    result['service_actions'] = []
    if running:
        try:
            result['service_actions'] = keep_running(module, service)
        except StepFailed as exc:
            module.fail_json(msg=exc.msg, **result)
        result['changed'] = result['changed'] or bool(result['service_actions'])
    return result


def unit_properties(module, units, properties, options=()):
    """What systemd holds for each of ``units``, in one ``systemctl show``: a dict of ``properties`` per unit, in
    order. Raises StepFailed when systemctl fails or answers for another number of units."""
    systemctl = module.get_bin_path('systemctl', required=True)
    rc, out, err = module.run_command([systemctl, 'show', '--property=' + ','.join(properties)] + list(options)
                                      + ['--'] + list(units))
    if rc != 0:
        raise StepFailed('systemctl show failed: %s' % (out + err).strip())
    sections = out.strip().split('\n\n') if out.strip() else []
    if len(sections) != len(units):
        raise StepFailed('systemctl show answered %d units for %d asked' % (len(sections), len(units)))
    return [dict(line.split('=', 1) for line in section.splitlines() if '=' in line) for section in sections]


class Provision(object):
    """What a ``*_config`` module does around its file for the options ``packages``, ``service`` and
    ``keep_running``: the packages before the configuration is checked (``_rendered_config.prepare`` calls
    ``setup``), and the unit enabled and started after it is installed (``finish``, before each exit). Either
    failure fails the module naming the step."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.packages, self.service, self.running = params['packages'], params['service'], params['keep_running']

    def setup(self):
        try:
            return dict(packages_installed=install_packages(self.module, self.packages))
        except StepFailed as exc:
            self.module.fail_json(msg='installing %s: %s; the configuration was not changed'
                                      % (', '.join(self.packages), exc.msg))

    def pending(self, result):
        """In check mode, True when the packages are missing: nothing can be checked with them yet."""
        return self.module.check_mode and bool(result.get('packages_installed'))

    def finish(self, result):
        result.setdefault('packages_installed', [])
        result['changed'] = result['changed'] or bool(result['packages_installed'])
        return finish_running(self.module, self.service, self.running, result)


PROVISION_ARGS = dict(
    packages=dict(type='list', elements='str', default=[]),
    keep_running=dict(type='bool', default=False),
)
