# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""syslog-ng configuration model: lint (errors naming the variable path) and rendering of one fragment.

The same code runs in the preflight filter on the controller and in the syslog_ng_config module.
Config dict keys: file_sources, file_destinations, network_sources, network_destinations, templates,
filters, log_paths, external_sources, external_destinations.
"""

from __future__ import annotations

import re

from ansible_collections.opsnotes.edge.plugins.module_utils._lint import ConfigLinter
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import (
    Unsafe,
    abs_path,
    host,
    ip_address,
    syslog_ng_path,
    syslog_ng_string,
    syslog_ng_template,
    text,
)

VAR = 'syslog_ng_'
NAME_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]{0,63}')
USER_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_.-]{0,31}')
PERM_RE = re.compile(r'0?[0-7]{3}')
MACRO_RE = re.compile(r'\$\{([A-Za-z0-9_.]+)\}|\$([A-Za-z0-9_]+)')
TRANSPORTS = ('tcp', 'udp', 'tls')
PROTOCOLS = ('network', 'syslog')
LOG_FLAGS = ('final', 'fallback', 'catchall', 'flow-control')
MULTI_LINE = ('indented', 'no-multi-line')
MIN_DISK_BUF = 1048576   # bytes: syslog-ng's minimum disk-buf-size
KINDS = ('file_sources', 'file_destinations', 'network_sources', 'network_destinations', 'templates', 'filters',
         'log_paths')


FILTER_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def filter_expression(expr):
    """A filter expression is syslog-ng syntax written by the user, so it is rendered as it is: outside its
    quoted strings it must not hold what ends the statement or starts another ({ } ; @ #), and nowhere a
    backtick (a substitution) or a control character. Strings must be closed."""
    text(expr, 'a filter expression')
    if '`' in expr:
        raise Unsafe('%r must not contain a backtick' % (expr,))
    bare = FILTER_STRING.sub(' ', expr)
    if re.search(r'[{};@#"\'\\]', bare):
        raise Unsafe('%r must not contain { } ; @ # or a backslash outside its quoted strings, and every quote must '
                     'be closed' % (expr,))
    return expr


def macros(text):
    """Macro names used in ``text`` ($NAME or ${NAME})."""
    return {a or b for a, b in MACRO_RE.findall(text or '')}


def uses_program(text):
    return 'PROGRAM' in macros(text)


def no_parse(source):
    """no_parse defaults to true when program_override is set."""
    value = source.get('no_parse')
    return bool(source.get('program_override')) if value is None else bool(value)


class Linter(ConfigLinter):
    def section(self, kind):
        """[(where, item)] of the list ``kind`` of the configuration (syslog_ng_<kind>)."""
        return self.items(self.config.get(kind) or [], VAR + kind)

    # value checks -------------------------------------------------------------------------------
    def string(self, where, value, required=True, template=False):
        """A value rendered as a double-quoted string: quotes, backslashes and line ends are escaped by the
        rendering layer, so only what it cannot write (NUL, a non-string) is refused. A template may be empty."""
        if value is None or (value == '' and not template):
            if required:
                self.err(where, 'is required')
            return False
        return self.check(where, syslog_ng_template if template else syslog_ng_string, value)

    def path(self, where, value):
        if self.string(where, value):
            self.check(where, abs_path, value)

    def name(self, where, item, seen):
        value = item.get('name')
        if not isinstance(value, str) or not NAME_RE.fullmatch(value):
            self.err(where + '.name', '%r must be 1-64 characters of A-Z a-z 0-9 _, not starting with a digit'
                     % (value,))
            return None
        if value in seen:
            self.err(where + '.name', '%r is already defined (%s)' % (value, seen[value]))
            return None
        seen[value] = where
        return value

    def account(self, where, value):
        if value is not None and (not isinstance(value, str) or not USER_RE.fullmatch(value)):
            self.err(where, '%r is not a user or group name' % (value,))

    def perm(self, where, value):
        if value is None:
            return
        if not isinstance(value, str) or not PERM_RE.fullmatch(value):
            hint = ' (quote it: YAML reads 0644 as the number 420)' if isinstance(value, int) else ''
            self.err(where, '%r must be an octal mode string such as "0644"%s' % (value, hint))

    def host(self, where, value):
        if not isinstance(value, str) or not value:
            self.err(where, 'is required')
            return
        self.check(where, host, value)

    # the model --------------------------------------------------------------------------------
    def run(self):
        self.names = {k: {} for k in KINDS}
        self.sources, self.destinations = {}, {}
        self.templates()
        self.filters()
        self.file_sources()
        self.network_sources()
        self.file_destinations()
        self.network_destinations()
        self.externals()
        self.log_paths(self.sources, self.destinations, set(self.names['filters']))
        self.unused()
        return self

    def templates(self):
        for where, item in self.section('templates'):
            self.name(where, item, self.names['templates'])
            self.string(where + '.template', item.get('template'), template=True)

    def filters(self):
        for where, item in self.section('filters'):
            self.name(where, item, self.names['filters'])
            expr = item.get('expression')
            if not isinstance(expr, str) or not expr.strip():
                self.err(where + '.expression', 'is required')
            else:
                self.check(where + '.expression', filter_expression, expr)

    def file_sources(self):
        file_paths = {}
        for where, item in self.section('file_sources'):
            name = self.name(where, item, self.names['file_sources'])
            self.path(where + '.path', item.get('path'))
            path = item.get('path')
            if isinstance(path, str):
                if path in file_paths and not item.get('persist_name'):
                    self.err(where + '.path', '%r is already read by %s: syslog-ng refuses two file sources on one '
                             'file at start-up (set persist_name on one of them)' % (path, file_paths[path]))
                file_paths.setdefault(path, where)
            override = item.get('program_override')
            if override is not None and self.string(where + '.program_override', override):
                if re.search(r'[\s/]', override) or override in ('.', '..'):
                    self.err(where + '.program_override', '%r must be one word without spaces or "/" '
                             '(it becomes $PROGRAM, often a directory name)' % override)
            self.flag(where + '.no_parse', item.get('no_parse'))
            self.integer(where + '.follow_freq', item.get('follow_freq'), 1, 3600)
            self.choice(where + '.multi_line_mode', item.get('multi_line_mode'), MULTI_LINE)
            if item.get('persist_name') is not None and (not isinstance(item['persist_name'], str)
                                                         or not NAME_RE.fullmatch(item['persist_name'])):
                self.err(where + '.persist_name', '%r must be a simple name' % (item['persist_name'],))
            if name:
                self.sources[name] = ('file', item)

    def network_sources(self):
        for where, item in self.section('network_sources'):
            name = self.name(where, item, self.names['network_sources'])
            self.network_common(where, item, listen=True)
            if name:
                self.sources[name] = ('network', item)

    def destination_template(self, where, item):
        """A destination's template: the name of one of the role's templates, or an inline template."""
        template = item.get('template')
        if template is not None and template not in self.names['templates']:
            self.string(where + '.template', template, template=True)

    def file_destinations(self):
        for where, item in self.section('file_destinations'):
            name = self.name(where, item, self.names['file_destinations'])
            self.path(where + '.path', item.get('path'))
            self.destination_template(where, item)
            for key in ('owner', 'group', 'dir_owner', 'dir_group'):
                self.account(where + '.' + key, item.get(key))
            for key in ('perm', 'dir_perm'):
                self.perm(where + '.' + key, item.get(key))
            self.flag(where + '.create_dirs', item.get('create_dirs'))
            if name:
                self.destinations[name] = ('file', item)

    def network_destinations(self):
        for where, item in self.section('network_destinations'):
            name = self.name(where, item, self.names['network_destinations'])
            self.network_common(where, item, listen=False)
            self.destination_template(where, item)
            self.integer(where + '.time_reopen', item.get('time_reopen'), 1, 3600)
            buf = item.get('disk_buffer')
            if buf is not None:
                if not isinstance(buf, dict):
                    self.err(where + '.disk_buffer', 'must be a dict')
                else:
                    self.integer(where + '.disk_buffer.disk_buf_size', buf.get('disk_buf_size'), MIN_DISK_BUF, 2 ** 40)
                    self.integer(where + '.disk_buffer.mem_buf_size', buf.get('mem_buf_size'), 1, 2 ** 34)
                    if buf.get('dir') is not None:
                        self.path(where + '.disk_buffer.dir', buf.get('dir'))
            if name:
                self.destinations[name] = ('network', item)

    def externals(self):
        """Sources and destinations defined outside the role, which log paths may name."""
        for kind, external in (('sources', self.sources), ('destinations', self.destinations)):
            for index, value in enumerate(self.config.get('external_' + kind) or []):
                where = '%sexternal_%s[%d]' % (VAR, kind, index)
                if not isinstance(value, str) or not NAME_RE.fullmatch(value):
                    self.err(where, '%r is not an object name' % (value,))
                elif value in external:
                    self.err(where, '%r is also defined by this role' % value)
                else:
                    external[value] = ('external', {})

    def unused(self):
        used = set()
        for _where, item in self.section('log_paths'):
            for key in ('sources', 'filters', 'destinations'):
                used.update(v for v in item.get(key) or [] if isinstance(v, str))
        for name, (kind, _item) in list(self.sources.items()) + list(self.destinations.items()):
            if kind != 'external' and name not in used:
                self.warnings.append('%s is defined but no log path uses it' % name)

    def network_common(self, where, item, listen):
        protocol = self.choice(where + '.protocol', item.get('protocol'), PROTOCOLS, 'network')
        transport = self.choice(where + '.transport', item.get('transport'), TRANSPORTS, 'tcp')
        self.integer(where + '.port', item.get('port'), 1, 65535, required=not listen)
        if listen:
            if item.get('ip') is not None:
                self.check(where + '.ip', ip_address, item['ip'], True)
            self.integer(where + '.max_connections', item.get('max_connections'), 1, 100000)
        else:
            self.host(where + '.host', item.get('host'))
        tls = item.get('tls')
        if transport == 'tls':
            if not isinstance(tls, dict):
                self.err(where + '.tls', 'is required with transport tls')
            else:
                for key in ('key_file', 'cert_file', 'ca_dir', 'ca_file'):
                    if tls.get(key) is not None:
                        self.path('%s.tls.%s' % (where, key), tls[key])
                if listen and not (tls.get('key_file') and tls.get('cert_file')):
                    self.err(where + '.tls', 'a listener needs key_file and cert_file')
                self.choice(where + '.tls.peer_verify', tls.get('peer_verify'),
                            ('required-trusted', 'required-untrusted', 'optional-trusted', 'optional-untrusted'))
        elif tls is not None:
            self.err(where + '.tls', 'is only used with transport tls')
        if protocol == 'syslog' and transport == 'udp' and item.get('tls'):
            self.err(where, 'tls over udp is not supported')

    def log_paths(self, sources, destinations, filters):
        for where, item in self.section('log_paths'):
            refs = {}
            for key, known in (('sources', sources), ('filters', filters), ('destinations', destinations)):
                values = item.get(key) or []
                if not isinstance(values, list):
                    self.err('%s.%s' % (where, key), 'must be a list of names')
                    values = []
                if key != 'filters' and not values:
                    self.err('%s.%s' % (where, key), 'needs at least one name')
                for index, value in enumerate(values):
                    if value not in known:
                        self.err('%s.%s[%d]' % (where, key, index), '%r is not defined' % (value,))
                refs[key] = [v for v in values if v in known]
            for index, flag in enumerate(item.get('flags') or []):
                self.choice('%s.flags[%d]' % (where, index), flag, LOG_FLAGS)
            # The trap: a file source without program_override (syslog-ng then reads the line's first word as
            # $PROGRAM) feeding a destination split by $PROGRAM.
            for src in refs['sources']:
                kind, source = sources[src]
                if kind != 'file' or source.get('program_override'):
                    continue
                for dst in refs['destinations']:
                    dkind, dest = destinations[dst]
                    if dkind == 'file' and (uses_program(dest.get('path')) or uses_program(dest.get('template'))):
                        why = ('reads with no-parse, so $PROGRAM is empty' if no_parse(source)
                               else 'parses each line as syslog, so its first field is eaten as $PROGRAM')
                        self.err(where, 'destination %s uses $PROGRAM but file source %s has no program_override '
                                 'and %s: set program_override on %s' % (dst, src, why, src))


lint = Linter.lint


# rendering ------------------------------------------------------------------------------------------
q = syslog_ng_string


def _template_ref(value, templates):
    return value if value in templates else syslog_ng_template(value)


def _tls(tls):
    opts = []
    for key in ('key_file', 'cert_file', 'ca_dir', 'ca_file'):
        if tls.get(key):
            opts.append('%s(%s)' % (key.replace('_', '-'), q(tls[key])))
    if tls.get('peer_verify'):
        opts.append('peer-verify(%s)' % tls['peer_verify'])
    return 'tls(%s)' % ' '.join(opts)


def _network(item, listen):
    protocol = item.get('protocol') or 'network'
    opts = [] if listen else [q(item['host'])]
    if listen:
        opts.append('ip(%s)' % q(item.get('ip') or '0.0.0.0'))
    if item.get('port') is not None:
        opts.append('port(%d)' % int(item['port']))
    opts.append('transport(%s)' % q(item.get('transport') or 'tcp'))
    if item.get('transport') == 'tls':
        opts.append(_tls(item['tls']))
    if listen and item.get('max_connections'):
        opts.append('max-connections(%d)' % int(item['max_connections']))
    return protocol, opts


def _file_source(item, templates):
    opts = [syslog_ng_path(item['path']), 'follow-freq(%d)' % int(item.get('follow_freq') or 1)]
    if item.get('program_override'):
        opts.append('program-override(%s)' % q(item['program_override']))
    if no_parse(item):
        opts.append('flags(no-parse)')
    if item.get('multi_line_mode'):
        opts.append('multi-line-mode(%s)' % item['multi_line_mode'])
    if item.get('persist_name'):
        opts.append('persist-name(%s)' % q(item['persist_name']))
    return 'source %s { file(%s); };' % (item['name'], ' '.join(opts))


def _network_source(item, templates):
    protocol, opts = _network(item, listen=True)
    return 'source %s { %s(%s); };' % (item['name'], protocol, ' '.join(opts))


def _file_destination(item, templates):
    opts = [syslog_ng_path(item['path'])]
    if item.get('create_dirs') is not None:
        opts.append('create-dirs(%s)' % ('yes' if item['create_dirs'] else 'no'))
    for key in ('owner', 'group', 'dir_owner', 'dir_group'):
        if item.get(key):
            opts.append('%s(%s)' % (key.replace('_', '-'), q(item[key])))
    for key in ('perm', 'dir_perm'):
        if item.get(key):
            opts.append('%s(0%s)' % (key.replace('_', '-'), item[key][-3:]))
    if item.get('template') is not None:
        opts.append('template(%s)' % _template_ref(item['template'], templates))
    return 'destination %s { file(%s); };' % (item['name'], ' '.join(opts))


def _disk_buffer(buf):
    opts = ['reliable(%s)' % ('yes' if buf.get('reliable', True) else 'no'),
            'disk-buf-size(%d)' % int(buf.get('disk_buf_size') or 16 * MIN_DISK_BUF)]
    if buf.get('mem_buf_size'):
        opts.append('mem-buf-size(%d)' % int(buf['mem_buf_size']))
    if buf.get('dir'):
        opts.append('dir(%s)' % q(buf['dir']))
    return 'disk-buffer(%s)' % ' '.join(opts)


def _network_destination(item, templates):
    protocol, opts = _network(item, listen=False)
    if item.get('template') is not None:
        opts.append('template(%s)' % _template_ref(item['template'], templates))
    if item.get('time_reopen'):
        opts.append('time-reopen(%d)' % int(item['time_reopen']))
    if item.get('disk_buffer'):
        opts.append(_disk_buffer(item['disk_buffer']))
    return 'destination %s { %s(%s); };' % (item['name'], protocol, ' '.join(opts))


def _log_path(item, templates):
    body = ['source(%s);' % s for s in item['sources']]
    body += ['filter(%s);' % f for f in item.get('filters') or []]
    body += ['destination(%s);' % d for d in item['destinations']]
    if item.get('flags'):
        body.append('flags(%s);' % ', '.join(item['flags']))
    return 'log { %s };' % ' '.join(body)


# Each kind of item, in the order the fragment declares them (a log path names what comes before it), with the
# function that renders one item as one line.
_RENDERERS = (
    ('templates', lambda item, templates: 'template %s { template(%s); };' % (
        item['name'], syslog_ng_template(item['template']))),
    ('filters', lambda item, templates: 'filter %s { %s; };' % (item['name'], item['expression'].strip())),
    ('file_sources', _file_source),
    ('network_sources', _network_source),
    ('file_destinations', _file_destination),
    ('network_destinations', _network_destination),
    ('log_paths', _log_path),
)


def render(config, header=None, sources=None):
    """The fragment text for a config that passed lint(). ``sources`` (a dict), when given, receives the variable
    each line comes from, by line number, for locate()."""
    templates = {t['name'] for t in config.get('templates') or []}
    out = ['# ' + line for line in (header or '').splitlines()]
    sources = {} if sources is None else sources
    for kind, render_item in _RENDERERS:
        for index, item in enumerate(config.get(kind) or []):
            out.append(render_item(item, templates))
            sources[len(out)] = '%s%s[%d]' % (VAR, kind, index)
    return '\n'.join(out) + '\n'


def locate(output, path, sources):
    """syslog-ng's ``output`` with the variable each "PATH:LINE:COLUMN" of the fragment ``path`` comes from, after
    it (``sources``: the line numbers render() recorded)."""
    def named(match):
        where = sources.get(int(match.group(1)))
        return match.group(0) + (' (%s)' % where if where else '')
    return re.sub(re.escape(path) + r':([0-9]+):[0-9]+(?:-[0-9]+:[0-9]+)?', named, output or '')


# the daemon ---------------------------------------------------------------------------------------------
def syntax_check(module, syslog_ng, cfgfile):
    """(ok, output) of ``syslog-ng --syntax-only`` on ``cfgfile``, without the capability warning that
    syslog-ng prints in every unprivileged container."""
    rc, out, err = module.run_command([syslog_ng, '--syntax-only', '--cfgfile=%s' % cfgfile])
    text = '\n'.join(line for line in (out + err).splitlines() if 'Error setting capabilities' not in line)
    return rc == 0, text.strip()


# Options the role renders that older syslog-ng releases do not know, by the parser token their syntax error names.
# Measured: syslog-ng 3.28 (Debian 11) has no per-destination time-reopen(); 3.38 (Debian 12) and later have it.
OPTION_TOKENS = {'KW_TIME_REOPEN': ('network_destinations', 'time_reopen',
                                    'the global time-reopen, 60 s unless set in syslog-ng.conf, then applies')}


def syntax_hint(output, config):
    """A sentence naming the variable to drop when ``output`` is a syntax error about an option this syslog-ng
    release does not know (an older one), or '' when the error is something else."""
    for token, (section, key, consequence) in OPTION_TOKENS.items():
        if 'unexpected %s' % token not in output:
            continue
        where = ['%s[%d]' % (section, i) for i, item in enumerate(config.get(section) or [])
                 if isinstance(item, dict) and item.get(key) is not None]
        return ('This syslog-ng release does not know the per-destination %s option: remove %s from %s (role '
                'variable syslog_ng_%s); %s.' % (key, key, ', '.join(where) or section, section, consequence))
    return ''


def daemon_running(module, ctl):
    """Whether the daemon answers on its control socket."""
    return bool(ctl) and module.run_command([ctl, 'stats'])[0] == 0
