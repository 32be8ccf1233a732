#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: nginx_config
short_description: Install an nginx configuration file only if nginx -t accepts it, and reload nginx
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Installs O(content) at O(path) (a file that the main C(nginx.conf) includes, such as one in C(conf.d)) only
    after C(nginx -t) accepted the complete configuration with the new file, so a broken configuration never goes
    live, not even for a moment.
  - "An included file cannot be tested on its own, so the test runs on a staged copy: a private temporary
    directory that mirrors the directory of O(main_config) with symbolic links, holds the new file in place of the
    old one, and a main file pointing into the mirror (C(nginx -t -c)). Nothing under the configuration directory
    is written before the test passes, so a run killed at any point leaves the old file or the new, tested one."
  - After the swap, C(nginx -t) runs once more on the live configuration, and the previous file is restored (or the
    new one removed) if it fails.
  - Before any change, runs C(nginx -t) on the current configuration too, so that a configuration that was already
    broken elsewhere is reported as such instead of being blamed on the new file.
  - After a change, or when O(force_reload=true) (new certificates), reloads a running nginx with
    C(systemctl reload), which also comes after a passing C(nginx -t).
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  content:
    description: The configuration text.
    type: str
    required: true
  path:
    description: The file to install.
    type: path
    required: true
  reload:
    description: Reload a running nginx after a change.
    type: bool
    default: true
  force_reload:
    description: Reload a running nginx even when the file did not change (after a certificate renewal).
    type: bool
    default: false
  service:
    description: The systemd unit.
    type: str
    default: nginx.service
  main_config:
    description: The main configuration file, which includes the directory of O(path).
    type: path
    default: /etc/nginx/nginx.conf
  keep_running:
    description:
      - Keep O(service) enabled and started once the file is in place (C(systemctl enable), C(systemctl start), each
        only when needed), so one call installs and keeps nginx serving.
    type: bool
    default: false
requirements:
  - nginx
seealso:
  - module: opsnotes.edge.acme_certificate_check
"""

EXAMPLES = r"""
- name: Install the sites, tested with nginx -t before they go live
  opsnotes.edge.nginx_config:
    content: "{{ lookup('ansible.builtin.template', 'sites.conf.j2') }}"
    path: /etc/nginx/conf.d/sites.conf
"""

RETURN = r"""
validated:
  description: Whether C(nginx -t) passed with the new file, staged and then live.
  returned: always
  type: bool
reloaded:
  description: Whether nginx was reloaded.
  returned: always
  type: bool
test_output:
  description: What the last C(nginx -t) printed.
  returned: always
  type: str
service_actions:
  description: What O(keep_running) did (or would do) to O(service), among V(enable) and V(start).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text
from ansible_collections.opsnotes.edge.plugins.module_utils._install import (
    LiveFile,
    finish_running,
    systemd_reload,
    unit_active,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._staged import StageError, staged_tree


def nginx_test(module, main_config=None):
    nginx = module.get_bin_path('nginx', required=True)
    rc, out, err = module.run_command([nginx, '-t', '-q'] + (['-c', main_config] if main_config else []))
    return rc == 0, (out + err).strip()


def staged_test(module, params, content):
    """(ok, output) of nginx -t on a staged copy of the tree with ``content`` at ``path``."""
    try:
        with staged_tree(params['main_config'], params['path'], content) as (staged_main, unstage):
            ok, output = nginx_test(module, staged_main)
            return ok, unstage(output)
    except StageError as exc:
        module.fail_json(msg='%s; nothing was changed' % exc)


def reloader(module):
    """(name, action) that reloads the running service, or None when it is not running."""
    service = module.params['service']
    return systemd_reload(module, service) if unit_active(module, service) else None


def done(module, result):
    """Exit with ``result``, after keeping the service running when asked."""
    module.exit_json(**finish_running(module, module.params['service'], module.params['keep_running'], result))


def run(module):
    params = module.params
    path, content = params['path'], params['content']
    if not content.endswith('\n'):
        content += '\n'
    old = read_text(path)
    changed = old != content
    result = dict(changed=changed, validated=False, reloaded=False, test_output='',
                  diff=dict(before_header=path, after_header=path, before=old or '', after=content))
    if not changed and not params['force_reload']:
        done(module, result)
    if module.check_mode:
        done(module, result)
    if changed:
        ok, output = nginx_test(module)
        if not ok:
            module.fail_json(msg='the current nginx configuration already fails nginx -t; nothing was changed: %s'
                             % output, **result)
        ok, output = staged_test(module, params, content)
        result['test_output'] = output
        if not ok:
            result['changed'] = False
            module.fail_json(msg='nginx -t refuses the new %s; nothing was changed: %s' % (path, output), **result)
        result['validated'] = True
        reload = reloader(module)

        def live_check():
            # A file that passed on the staged tree is tested once more where it now is, in the live tree.
            passed, text = nginx_test(module)
            result['test_output'] = text
            return passed, 'nginx -t: %s' % text
        LiveFile(module, path, old).install(result, content, live_check=live_check,
                                            reload=reload if params['reload'] or params['force_reload'] else None)
    else:
        ok, output = nginx_test(module)
        result['test_output'] = output
        if not ok:
            module.fail_json(msg='nginx -t fails; nginx was not reloaded: %s' % output, **result)
        result['validated'] = True
        reload = reloader(module)
        if reload:
            rc, output = reload[1]()
            if rc != 0:
                module.fail_json(msg='%s failed (%s)' % (reload[0], output), **result)
            result['reloaded'] = True
    result['changed'] = changed or result['reloaded']
    done(module, result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            content=dict(type='str', required=True),
            path=dict(type='path', required=True),
            reload=dict(type='bool', default=True),
            force_reload=dict(type='bool', default=False),
            service=dict(type='str', default='nginx.service'),
            main_config=dict(type='path', default='/etc/nginx/nginx.conf'),
            keep_running=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
