# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): the importer's round trip on the director's own haproxy.cfg. The live
file is read back into the role's variables (opsnotes.edge.haproxy_import), which haproxy_config renders again in
check mode: HAProxy's own check accepts the result (validated), and section by section, the global and defaults
sections included, it is the same configuration (each kind of line in its order; the kinds HAProxy runs in their
own order may move). Nothing is left out. Control: the same comparison notices one line left out of the
variables."""

from __future__ import annotations

import copy
import os
import subprocess

import helpers
import yaml

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
director = helpers.host('%s-director' % LAB)
HEADER = 'Managed by Ansible (opsnotes.edge.haproxy). Local edits are overwritten.'
# The role's vars/main.yml for imported variables, as _haproxy_import.role_config has it: this test runs against the
# installed collection, and imports nothing of the source tree.
GLOBAL = dict(haproxy_stats_socket='stats_socket', haproxy_state_file='state_file', haproxy_maxconn='maxconn',
              haproxy_timeout_connect='timeout_connect', haproxy_timeout_client='timeout_client',
              haproxy_timeout_server='timeout_server', haproxy_tls_profile='tls_profile')
LISTS = ('frontends', 'backends', 'listens', 'userlists', 'http_errors', 'sections', 'maps', 'global_directives',
         'defaults_directives')


def normalised(text):
    """{section header: {kind: [lines of that kind, in order]}} for every section. A kind is a line's keyword
    (with its phase for tcp-request and tcp-response)."""
    out, current = {}, None
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith('#'):
            continue
        if not line.startswith(' '):
            current = line
            out[current] = {}
        else:
            kind = ' '.join(words[:2]) if words[0] in ('tcp-request', 'tcp-response') else words[0]
            out[current].setdefault(kind, []).append(' '.join(words))
    return out


def rerender(variables):
    config = {key: variables.get('haproxy_' + key, []) for key in LISTS}
    config['global'] = {key: variables[var] for var, key in GLOBAL.items() if var in variables}
    args = dict(config=config, path='/etc/haproxy/haproxy.cfg', header=HEADER, reload=False)
    return helpers.lab_ansible('director', 'opsnotes.edge.haproxy_config', args, '--check')['director']


def test_the_director_s_configuration_comes_back_through_the_importer():
    imported = helpers.lab_ansible('director', 'opsnotes.edge.haproxy_import', {})['director']
    variables = imported['variables']
    assert variables['haproxy_frontends'] and variables['haproxy_backends'], variables
    assert imported['inexpressible'] == []
    live = director.check_output('cat /etc/haproxy/haproxy.cfg')
    again = rerender(variables)
    assert again['validated'] is True, again          # haproxy -c accepted the re-rendered configuration
    assert normalised(again['content']) == normalised(live)
    # The pattern file the director's configuration reads (inventories/lab: haproxy_maps) comes back as data, and the
    # role would write it byte for byte as it is.
    assert [m['name'] for m in variables['haproxy_maps']] == ['hidden-paths.lst'], variables.get('haproxy_maps')
    assert again['maps_changed'] == [], again['maps_changed']
    # Control: one line fewer (the last directive, or the last backend's last server) is noticed.
    fewer = copy.deepcopy(variables)
    item = next((i for i in fewer['haproxy_frontends'] + fewer['haproxy_backends'] if i.get('directives')), None)
    if item is not None:
        item['directives'].pop()
    else:
        fewer['haproxy_backends'][-1]['servers'].pop()
    assert normalised(rerender(fewer)['content']) != normalised(live)
    # ... and so is a pattern fewer.
    fewer = copy.deepcopy(variables)
    fewer['haproxy_maps'][0]['entries'].pop()
    assert rerender(fewer)['maps_changed'] == ['/etc/haproxy/maps/hidden-paths.lst']


def test_the_import_playbook_writes_each_host_s_variables_on_the_controller(tmp_path):
    run = subprocess.run(['ansible-playbook', 'opsnotes.edge.haproxy_import', '-i', 'inventories/lab', '-e',
                          'haproxy_import_hosts=director haproxy_import_dir=%s' % tmp_path], cwd=helpers.LAB_ROOT,
                         capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    written = yaml.safe_load((tmp_path / 'director.yml').read_text())
    imported = helpers.lab_ansible('director', 'opsnotes.edge.haproxy_import', {})['director']
    assert written == imported['variables']
    assert 'no line left out' in run.stdout
