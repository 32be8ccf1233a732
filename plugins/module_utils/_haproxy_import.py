# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An existing haproxy.cfg as the haproxy role's variables (opsnotes.edge.haproxy_import).

Frontends, backends, listen sections and userlists are read line by line: what the model has a key for becomes
that key (binds, mode, ACLs, the rule lists, use_backend, default_backend, stick tables, balance, cookie, stick and
use-server rules, servers), and any other line of the section is kept as one of its ``directives``, as written.
http-errors sections become haproxy_http_errors. The global and defaults sections are the role's own: the values it
has variables for are read (maxconn, the three timeouts, the stats socket, the state file), the lines it writes
itself are left to it, and every other line joins haproxy_global_directives or haproxy_defaults_directives (the TLS
defaults too: a TLS bind comes back as a directive), but for those the role writes otherwise (chroot, user, the
admin socket's options...), which are listed as inexpressible, with their number and the reason. The sections the
model has no keys for (peers, resolvers, mailers, cache, ring...) become haproxy_sections, their lines as written.
Nothing is dropped silently.
"""

from __future__ import annotations

import os
import re

from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy import (
    ACTION_RE,
    BALANCE,
    BIND_RE,
    FETCH_RE,
    FLAGS,
    MATCH_METHODS,
    MODES,
    NAME_RE,
    OTHER_SECTIONS,
    RULES,
    SECTIONS,
    SIZE_RE,
    STICK_ACTIONS,
    STORE_RE,
    TABLE_TYPES,
    TIME_RE,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe, haproxy_split, host

KEYWORDS = {keyword: key for key, keyword, _kinds in RULES}
PHASES = {key: kinds for key, _keyword, kinds in RULES}
# Lines whose order HAProxy follows within their kind: when one of a kind cannot take its key, every line of that
# kind in the section is kept as a directive, in the order written (a rule never jumps ahead of another).
ORDERED = ('tcp-request', 'http-request', 'http-response', 'http-after-response', 'tcp-response', 'use_backend',
           'use-server', 'stick', 'server')
TIMEOUT_VARS = {'connect': 'haproxy_timeout_connect', 'client': 'haproxy_timeout_client',
                'server': 'haproxy_timeout_server'}
UNITS_MS = {'us': 0.001, 'ms': 1, 's': 1000, 'm': 60000, 'h': 3600000, 'd': 86400000, '': 1}
SERVER_FLAGS = {'check': 'check', 'backup': 'backup', 'send-proxy-v2': 'send_proxy_v2'}
SERVER_NUMBERS = {'weight': 'weight', 'maxconn': 'maxconn'}
PROXIES = ('frontend', 'backend', 'listen')
# The options of the role's admin socket.
ADMIN_SOCKET = ['mode', '600', 'level', 'admin', 'expose-fd', 'listeners']
# The lines the role writes in its global and defaults sections whatever the variables (an imported line equal to
# one of them is the role's own), and the keywords of those it writes its own way (an imported line that differs is
# inexpressible, with the reason).
ROLE_LINES = {
    'global': ('log /dev/log local0', 'log /dev/log local1 notice', 'chroot /var/lib/haproxy', 'stats timeout 30s',
               'user haproxy', 'group haproxy'),
    'defaults': ('log global', 'mode http', 'option httplog', 'option dontlognull',
                 'load-server-state-from-file global')
    + tuple('errorfile %d /etc/haproxy/errors/%d.http' % (code, code) for code in (400, 403, 408, 500, 502, 503, 504)),
}
ROLE_KEYWORDS = {
    'global': {('chroot',): 'the role runs HAProxy in /var/lib/haproxy', ('user',): 'the role runs HAProxy as haproxy',
               ('group',): 'the role runs HAProxy as haproxy', ('uid',): 'the role runs HAProxy as haproxy',
               ('gid',): 'the role runs HAProxy as haproxy',
               ('stats', 'timeout'): 'the role writes the admin socket\'s timeout'},
    'defaults': {('load-server-state-from-file',): 'the role keeps the servers\' state across reloads'},
}


def _unquoted(text):
    """The indices of the characters of ``text`` that stand outside quotes and escapes, as HAProxy reads them."""
    out, squote, dquote, index = [], False, False, 0
    while index < len(text):
        char = text[index]
        if char == '\\' and not squote:
            index += 2
            continue
        if char == "'" and not dquote:
            squote = not squote
        elif char == '"' and not squote:
            dquote = not dquote
        elif not (squote or dquote):
            out.append(index)
        index += 1
    return out


def raw_tokens(text):
    """``text`` (one line, its comment cut) split where HAProxy splits words, each token as written (its quotes
    and escapes kept), so that a fragment can be written back exactly."""
    tokens, start = [], 0
    for index in [i for i in _unquoted(text) if text[i] in ' \t'] + [len(text)]:
        if index > start:
            tokens.append(text[start:index])
        start = index + 1
    return tokens


def strip_comment(line):
    """``line`` up to an unquoted, unescaped "#" (HAProxy's comment), without its trailing blanks."""
    for index in _unquoted(line):
        if line[index] == '#':
            return line[:index].rstrip()
    return line.rstrip()


def milliseconds(value):
    """A HAProxy time (``5s``, ``50000``, ``1m``) in milliseconds, or None."""
    found = re.fullmatch(r'([0-9]+)(us|ms|s|m|h|d)?', value or '')
    if not found:
        return None
    return int(int(found.group(1)) * UNITS_MS[found.group(2) or ''])


def split_condition(tokens):
    """(tokens before the condition, 'if'/'unless' or None, the condition's raw text or None)."""
    for index, token in enumerate(tokens):
        if token in ('if', 'unless'):
            return tokens[:index], token, ' '.join(tokens[index + 1:])
    return tokens, None, None


class Importer(object):
    def __init__(self, text):
        self.text = text
        self.variables = dict(haproxy_frontends=[], haproxy_backends=[], haproxy_userlists=[], haproxy_listens=[],
                              haproxy_http_errors=[], haproxy_sections=[], haproxy_global_directives=[],
                              haproxy_defaults_directives=[])
        self.inexpressible = []
        self.current = None

    def skip(self, number, line, reason):
        """Name line ``number`` (as the file has it, its comment included) and why it has no place."""
        self.inexpressible.append(dict(line=number, text=(self.current or line).strip(), reason=reason))

    def run(self):
        section, item = None, None
        for number, raw in enumerate(self.text.splitlines(), 1):
            self.current, line = raw, strip_comment(raw)
            if not line.strip():
                continue
            try:
                words = haproxy_split(line)
            except Unsafe as exc:
                self.skip(number, raw, 'HAProxy would not read this line as written: %s' % exc)
                continue
            tokens = raw_tokens(line.strip())
            if words[0] in SECTIONS:
                if item is not None and section in PROXIES:
                    self.finish(item)
                section, item = self.open(number, line, words)
                continue
            if section in PROXIES:
                self.section_line(section, item, number, line.strip(), words, tokens)
            elif section == 'userlist':
                self.userlist_line(item, number, line, words)
            elif section == 'http-errors':
                self.http_errors_line(item, number, line, words)
            elif section in OTHER_SECTIONS and item is not None:
                item['lines'].append(line.strip())
            elif section in ('global', 'defaults'):
                self.settings_line(section, number, line, words)
            elif section is None:
                self.skip(number, line, 'outside any section')
            elif section.endswith('-skipped'):
                self.skip(number, line, 'in the %s above, which the role cannot write' % section[:-8])
            else:
                self.skip(number, line, 'in a %s section, which the role does not write' % section)
        if item is not None and section in PROXIES:
            self.finish(item)
        for key in [key for key, value in self.variables.items() if value == [] and key not in
                    ('haproxy_frontends', 'haproxy_backends', 'haproxy_userlists')]:
            del self.variables[key]
        return self

    def open(self, number, line, words):
        kind = words[0]
        if kind in PROXIES + ('userlist', 'http-errors'):
            if len(words) != 2 or not NAME_RE.fullmatch(words[1]):
                self.skip(number, line, 'a %s with a name the role cannot write (or with options)' % kind)
                return kind + '-skipped', None
            item = dict(name=words[1])
            if kind == 'http-errors':
                self.variables['haproxy_http_errors'].append(item)
            else:
                self.variables['haproxy_%ss' % kind].append(item)
            return kind, item
        if kind in ('global', 'defaults'):
            if len(words) > 1:
                self.skip(number, line, 'a named defaults section: the role writes one defaults section')
                return kind + '-skipped', None
            return kind, None
        if kind in OTHER_SECTIONS and len(words) == 2 and NAME_RE.fullmatch(words[1]):
            item = dict(kind=kind, name=words[1], lines=[])
            self.variables['haproxy_sections'].append(item)
            return kind, item
        self.skip(number, line, 'a %s section, which the role does not write' % kind)
        return kind, None

    # --- global and defaults: the role's own -----------------------------------------------------------------
    def settings_line(self, section, number, line, words):
        if section == 'global' and words[0] == 'maxconn' and len(words) == 2 and words[1].isdigit():
            self.variables['haproxy_maxconn'] = int(words[1])
        elif section == 'global' and words[:2] == ['stats', 'socket'] and len(words) > 2 and words[2].startswith('/') \
                and 'haproxy_stats_socket' not in self.variables:
            # The role's admin socket, at this path; its own options, unless they are those.
            self.variables['haproxy_stats_socket'] = words[2]
            if words[3:] != ADMIN_SOCKET:
                self.skip(number, line, 'the role writes its admin socket at this path (haproxy_stats_socket) as '
                                        '"%s" (its global section is the role\'s own)' % ' '.join(ADMIN_SOCKET))
        elif section == 'global' and words[0] == 'server-state-file' and len(words) == 2:
            self.variables['haproxy_state_file'] = words[1]
        elif section == 'defaults' and words[0] == 'timeout' and len(words) == 3 and words[1] in TIMEOUT_VARS \
                and milliseconds(words[2]):
            self.variables[TIMEOUT_VARS[words[1]]] = milliseconds(words[2])
        elif ' '.join(words) in ROLE_LINES[section]:
            return          # the role writes this very line
        else:
            reason = next((why for head, why in ROLE_KEYWORDS[section].items() if tuple(words[:len(head)]) == head),
                          None)
            if reason:
                self.skip(number, line, '%s (its %s section is the role\'s own)' % (reason, section))
            else:
                self.variables['haproxy_%s_directives' % section].append(line.strip())

    # --- http-errors ----------------------------------------------------------------------------------------------
    def http_errors_line(self, item, number, line, words):
        if item is None:
            self.skip(number, line, 'in an http-errors section the role cannot write')
        elif words[0] == 'errorfile' and len(words) == 3 and words[1].isdigit() and words[2].startswith('/') \
                and int(words[1]) not in item.get('errorfiles', {}):
            item.setdefault('errorfiles', {})[int(words[1])] = words[2]
        else:
            self.skip(number, line, 'an http-errors line the role cannot write (errorfile CODE /ABSOLUTE/PATH, '
                                    'once per code)')

    # --- userlists ------------------------------------------------------------------------------------------------
    def userlist_line(self, item, number, line, words):
        if item is None:
            self.skip(number, line, 'in a userlist the role cannot write')
        elif words[0] == 'group' and len(words) in (2, 4) and (len(words) == 2 or words[2] == 'users'):
            group = dict(name=words[1])
            if len(words) == 4:
                group['users'] = words[3].split(',')
            item.setdefault('groups', []).append(group)
        elif words[0] == 'user' and len(words) in (4, 6) and words[2] in ('password', 'insecure-password') and \
                (len(words) == 4 or words[4] == 'groups'):
            user = {'name': words[1], words[2].replace('-', '_'): words[3]}
            if len(words) == 6:
                user['groups'] = words[5].split(',')
            item.setdefault('users', []).append(user)
        else:
            self.skip(number, line, 'a userlist line the role cannot write')

    # --- frontends and backends -----------------------------------------------------------------------------
    def section_line(self, section, item, number, line, words, tokens):
        if item is None:
            self.skip(number, line, 'in a %s the role cannot write' % section.split('-')[0])
            return
        keyword = words[0]
        placed = None           # (key, the entry appended to item[key]) when the model holds the line
        if keyword == 'mode' and len(words) == 2 and words[1] in MODES and 'mode' not in item:
            item['mode'] = words[1]
            placed = ('mode', None)
        elif keyword == 'bind' and section != 'backend' and len(words) == 2 and BIND_RE.fullmatch(words[1]):
            placed = self.append(item, 'bind', words[1])
        elif keyword == 'acl':
            placed = self.acl(item, words, tokens)
        elif keyword in KEYWORDS:
            placed = self.rule(section, item, KEYWORDS[keyword], tokens)
        elif keyword == 'use_backend' and section != 'backend':
            placed = self.use_backend(item, tokens)
        elif keyword == 'default_backend' and section != 'backend' and len(words) == 2 and \
                NAME_RE.fullmatch(words[1]) and 'default_backend' not in item:
            item['default_backend'] = words[1]
            placed = ('default_backend', None)
        elif keyword == 'stick-table':
            placed = self.stick_table(item, words)
        elif section != 'frontend':
            placed = self.backend_line(item, words, tokens)
        item.setdefault('_lines', []).append((keyword, line, placed))

    @staticmethod
    def append(item, key, entry):
        item.setdefault(key, []).append(entry)
        return key, entry

    @staticmethod
    def finish(item):
        """The section's lines the model does not hold become its directives, in order; so does every line of an
        ordered kind where one of them is not held."""
        lines = item.pop('_lines', [])
        mixed = {keyword for keyword, _line, placed in lines if placed is None and keyword in ORDERED}
        for keyword, line, placed in lines:
            if placed is not None and keyword not in mixed:
                continue
            if placed is not None and placed[1] is not None:
                item[placed[0]].remove(placed[1])
                if not item[placed[0]]:
                    del item[placed[0]]
            item.setdefault('directives', []).append(line)

    def acl(self, item, words, tokens):
        if len(words) < 3 or not NAME_RE.fullmatch(words[1]):
            return None
        acl, index, flags = dict(name=words[1], criterion=tokens[2]), 3, []
        if tokens[2] != words[2] or not FETCH_RE.fullmatch(words[2]):
            acl['raw'] = True           # quoted or escaped: written as given
        while index < len(words) and words[index].startswith('-') and words[index] != '--':
            flag = words[index]
            if flag in FLAGS:
                flags.append(flag)
            elif flag in ('-m', '-f', '-u') and index + 1 < len(words):
                if (flag == '-m' and words[index + 1] not in MATCH_METHODS) or \
                        (flag == '-f' and not words[index + 1].startswith('/')) or \
                        (flag == '-u' and not words[index + 1].isdigit()):
                    return None
                flags.append('%s %s' % (flag, words[index + 1]))
                index += 1
            else:
                return None
            index += 1
        if index < len(words) and words[index] == '--':
            index += 1
        if any(value == '' for value in words[index:]):
            return None
        if flags:
            acl['flags'] = flags
        if words[index:]:
            acl['values'] = words[index:]
        return self.append(item, 'acls', acl)

    def rule(self, section, item, key, tokens):
        head, condition, cond = split_condition(tokens[1:])
        rule = {}
        phases = PHASES[key]
        if phases:
            if section == 'backend' and key == 'tcp_request':
                phases = ('content', 'inspect-delay')
            if not head or head[0] not in phases:
                return None
            rule['phase'] = head[0]
            head = head[1:]
            if rule['phase'] == 'inspect-delay':
                if len(head) != 1 or condition or not TIME_RE.fullmatch(head[0]):
                    return None
                rule['args'] = head[0]
                return self.append(item, key, rule)
        if not head or not ACTION_RE.fullmatch(head[0]) or (condition and not cond):
            return None
        rule['action'] = head[0]
        if head[1:]:
            rule['args'] = ' '.join(head[1:])
        if condition:
            rule['cond'] = cond
            if condition == 'unless':
                rule['unless'] = True
        return self.append(item, key, rule)

    def use_backend(self, item, tokens):
        head, condition, cond = split_condition(tokens[1:])
        if len(head) != 1 or (condition and not cond) or not (NAME_RE.fullmatch(head[0]) or '%[' in head[0]):
            return None
        rule = dict(backend=head[0])
        if condition:
            rule['cond'] = cond
            if condition == 'unless':
                rule['unless'] = True
        return self.append(item, 'use_backend', rule)

    def stick_table(self, item, words):
        table, index = {}, 1
        while index + 1 < len(words):
            key, value = words[index], words[index + 1]
            if key == 'type' and value in TABLE_TYPES:
                table['type'] = value
            elif (key == 'size' and SIZE_RE.fullmatch(value)) or (key == 'expire' and TIME_RE.fullmatch(value)):
                table[key] = value
            elif key == 'len' and value.isdigit():
                table['len'] = int(value)
            elif key == 'store' and all(STORE_RE.fullmatch(v) for v in value.split(',')):
                table['store'] = value.split(',')
            else:
                return None
            index += 2
        if index != len(words) or 'type' not in table or 'size' not in table or 'stick_table' in item:
            return None
        item['stick_table'] = table
        return 'stick_table', None

    def backend_line(self, item, words, tokens):
        keyword = words[0]
        if keyword == 'balance' and len(words) == 2 and words[1] in BALANCE and 'balance' not in item:
            item['balance'] = words[1]
            return 'balance', None
        if keyword == 'cookie' and len(tokens) > 1 and 'cookie' not in item:
            item['cookie'] = ' '.join(tokens[1:])
            return 'cookie', None
        if keyword == 'stick' and len(words) > 2 and words[1] in STICK_ACTIONS:
            head, condition, cond = split_condition(tokens[2:])
            if not head or condition == 'unless' or (condition and not cond):
                return None
            rule = dict(action=words[1], args=' '.join(head))
            if cond:
                rule['cond'] = cond
            return self.append(item, 'stick', rule)
        if keyword == 'use-server' and len(words) > 3 and words[2] == 'if' and NAME_RE.fullmatch(words[1]):
            return self.append(item, 'use_server', dict(server=words[1], cond=' '.join(tokens[3:])))
        if keyword == 'server':
            return self.server(item, words)
        return None

    def server(self, item, words):
        if len(words) < 3 or not NAME_RE.fullmatch(words[1]):
            return None
        address, sep, port = words[2].rpartition(':')
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            return None
        try:
            host(address)
        except Unsafe:
            return None
        server, index = dict(name=words[1], address=address, port=int(port)), 3
        while index < len(words):
            word = words[index]
            if word in SERVER_FLAGS and SERVER_FLAGS[word] not in server:
                server[SERVER_FLAGS[word]] = True
            elif word in SERVER_NUMBERS and index + 1 < len(words) and words[index + 1].isdigit():
                server[SERVER_NUMBERS[word]] = int(words[index + 1])
                index += 1
            elif word == 'cookie' and index + 1 < len(words) and words[index + 1]:
                server['cookie'] = words[index + 1]
                index += 1
            else:
                return None         # TLS and every other option: kept as a directive, as written
            index += 1
        return self.append(item, 'servers', server)


# The role's variables for the settings of its global and defaults sections, and the configuration keys they fill
# (roles/haproxy/vars/main.yml).
GLOBAL_VARS = dict(haproxy_stats_socket='stats_socket', haproxy_state_file='state_file', haproxy_maxconn='maxconn',
                   haproxy_timeout_connect='timeout_connect', haproxy_timeout_client='timeout_client',
                   haproxy_timeout_server='timeout_server', haproxy_tls_profile='tls_profile')
LIST_VARS = ('frontends', 'backends', 'listens', 'userlists', 'http_errors', 'sections', 'maps', 'global_directives',
             'defaults_directives')


def role_config(variables):
    """The configuration the haproxy role renders from ``variables`` (imported ones: haproxy_frontends...), as its
    vars/main.yml builds it; the role's defaults where a variable is not given."""
    config = {key: variables.get('haproxy_' + key, []) for key in LIST_VARS}
    config['global'] = {key: variables[var] for var, key in GLOBAL_VARS.items() if var in variables}
    return config


def import_config(text, maps_dir=None, read=None):
    """(the role's variables, [{line, text, reason}] of what they cannot hold) for a haproxy.cfg ``text``. With
    ``maps_dir`` and ``read`` (path -> text, OSError when it cannot), the map and pattern files the configuration
    reads from ``maps_dir`` become ``haproxy_maps`` (import_maps)."""
    importer = Importer(text).run()
    if maps_dir and read:
        maps = import_maps(text, maps_dir, read, importer.inexpressible)
        if maps:
            importer.variables['haproxy_maps'] = maps
        importer.inexpressible.sort(key=lambda entry: entry['line'])
    return importer.variables, importer.inexpressible


# Where a configuration names a file of patterns (one column) or a map (two columns): an ACL's -f, the map*
# converters, and the actions that change them at run time.
FILE_REFERENCES = (
    (re.compile(r'(?:^|\s)-f\s+(\S+)'), False),
    (re.compile(r'\b(?:add|del)-acl\(([^)\s]+)\)'), False),
    (re.compile(r'\bmap(?:_[a-z]+)*\(([^,)\s]+)'), True),
    (re.compile(r'\b(?:set|del)-map\(([^)\s]+)\)'), True),
)


def read_entries(text, two_columns):
    """What HAProxy's file reader takes from ``text``: a map's {key: value} (the first of a key, which is the one
    HAProxy matches), or a pattern file's patterns."""
    entries = {} if two_columns else []
    for raw in text.split('\n'):
        line = raw.split('\r', 1)[0]
        if line.startswith('#'):
            continue
        line = line.lstrip(' \t')
        if not line:
            continue
        if not two_columns:
            entries.append(line)
            continue
        key = re.match(r'[^ \t]*', line).group(0)
        entries.setdefault(key, line[len(key):].strip(' \t'))
    return entries


def import_maps(text, maps_dir, read, inexpressible):
    """[{name, entries}] of the files of ``maps_dir`` that ``text`` reads; a file elsewhere, one read both as a
    map and as a pattern file, or one that cannot be read, goes to ``inexpressible`` with the line naming it."""
    directory = maps_dir.rstrip('/')
    seen = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = strip_comment(raw)
        for regex, two_columns in FILE_REFERENCES:
            for match in regex.finditer(line):
                path = match.group(1).strip('"\'')
                # An ACL's -M reads its -f file as a map.
                two = two_columns or bool(regex is FILE_REFERENCES[0][0] and re.search(r'\s-M(\s|$)', line))
                seen.setdefault(path, (number, raw.strip(), set()))[2].add(two)
    maps = []
    for path, (number, line, kinds) in sorted(seen.items()):
        if os.path.dirname(path) != directory:
            inexpressible.append(dict(line=number, text=line, reason='%s is not in %s: the role installs the map and '
                                      'pattern files of haproxy_maps there (move it, and name it there)'
                                      % (path, directory)))
        elif len(kinds) > 1:
            inexpressible.append(dict(line=number, text=line, reason='%s is read both as a map and as a pattern '
                                      'file' % path))
        else:
            try:
                content = read(path)
            except OSError as exc:
                inexpressible.append(dict(line=number, text=line, reason='cannot read %s: %s'
                                          % (path, exc.strerror or exc)))
                continue
            maps.append(dict(name=os.path.basename(path), entries=read_entries(content, kinds.pop())))
    return maps
