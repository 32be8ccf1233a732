# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HAProxy configuration model: lint (errors naming the variable path) and rendering of haproxy.cfg.

Shared by the preflight filter, the haproxy_config module and haproxy_check.
Config dict keys: frontends, backends, listens, userlists, http_errors, sections, maps, global (dict of settings),
global_directives and defaults_directives (lines added to the role's own global and defaults sections).
"""

from __future__ import annotations

import re

from ansible_collections.opsnotes.edge.plugins.module_utils._lint import ConfigLinter
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import (
    Unsafe,
    abs_path,
    dns_name,
    haproxy_path,
    haproxy_split,
    haproxy_word,
    host,
    text,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._tls_policy import INTERMEDIATE

# Where the rendered configuration puts HAProxy's admin socket and its saved server state unless `global` says
# otherwise; the modules that talk to a running HAProxy default to the same.
ADMIN_SOCKET = '/run/haproxy/admin.sock'
STATE_FILE = '/var/lib/haproxy/server-state'

VAR = 'haproxy_'
NAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}')
# A fetch (or an ACL keyword) with its converters, as HAProxy reads the first word of an ACL: a name, optional
# arguments in parentheses, then ",converter(args)" any number of times. Which names exist is HAProxy's to judge
# (haproxy -c on the staged file): the lint checks the shape only.
FETCH_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_.]*(\(.*\))?(,[A-Za-z_][A-Za-z0-9_.]*(\(.*\))?)*')
# An http-request action: a name, and for some a parenthesised argument (set-var(txn.x), sc-inc-gpc0(0)).
ACTION_RE = re.compile(r'[a-z][a-z0-9-]*(\([A-Za-z0-9_.,-]*\))?')
PREDEFINED = frozenset('''FALSE HTTP HTTP_1.0 HTTP_1.1 HTTP_2.0 HTTP_CONTENT HTTP_URL_ABS HTTP_URL_SLASH HTTP_URL_STAR
LOCALHOST METH_CONNECT METH_DELETE METH_GET METH_HEAD METH_OPTIONS METH_POST METH_PUT METH_TRACE RDP_COOKIE
REQ_CONTENT TRUE WAIT_END'''.split())
FLAGS = ('-i', '-n', '-M')
MATCH_METHODS = ('found', 'bool', 'int', 'ip', 'bin', 'len', 'str', 'sub', 'reg', 'beg', 'end', 'dir', 'dom')
BALANCE = ('roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'random')
# The rule lists of a section, in the order they are written (HAProxy runs each kind in its own order, tcp-request
# before http-request, whatever the file says; written so, it never warns): the key, the keyword, and for the
# tcp-* ones the values of "phase" (the rule set, or inspect-delay; not "on", which YAML reads as true).
RULES = (
    ('tcp_request', 'tcp-request', ('connection', 'session', 'content', 'inspect-delay')),
    ('http_request', 'http-request', None),
    ('http_response', 'http-response', None),
    ('http_after_response', 'http-after-response', None),
    ('tcp_response', 'tcp-response', ('content', 'inspect-delay')),
)
STICK_ACTIONS = ('on', 'match', 'store-request', 'store-response')
# The keywords that open a section: a directive that starts with one would end the section it is written in.
SECTIONS = ('global', 'defaults', 'frontend', 'backend', 'listen', 'userlist', 'peers', 'resolvers', 'program',
            'cache', 'http-errors', 'ring', 'mailers', 'crt-store', 'traces', 'log-forward')
TABLE_TYPES = ('ip', 'ipv6', 'integer', 'string', 'binary')
SIZE_RE = re.compile(r'[0-9]{1,10}[kmg]?')
TIME_RE = re.compile(r'[0-9]{1,10}(us|ms|s|m|h|d)?')
STORE_RE = re.compile(r'[a-z][a-z0-9_]*(\([0-9]{1,10}(us|ms|s|m|h|d)?\))?')
MODES = ('http', 'tcp')
# The keys of each kind of section: any other is a typing mistake, which would otherwise be ignored.
RULE_KEYS = tuple(key for key, _keyword, _kinds in RULES)
FRONTEND_KEYS = frozenset(('name', 'bind', 'mode', 'directives', 'acls', 'stick_table', 'use_backend',
                           'default_backend', 'tls_bind', 'tls_certificates', 'alpn', 'redirect_https', 'hsts_max_age',
                           'hsts_include_subdomains', 'acme_challenge', 'acme_challenge_domains', 'acme_sites')
                          + RULE_KEYS)
BACKEND_KEYS = frozenset(('name', 'mode', 'balance', 'cookie', 'directives', 'acls', 'stick_table', 'stick',
                          'use_server', 'servers') + RULE_KEYS)
# A listen section is a frontend and a backend in one (the ACME sites' certificates join frontends only).
LISTEN_KEYS = (FRONTEND_KEYS - {'acme_sites'}) | BACKEND_KEYS
# The sections the model writes as given (haproxy_sections): a kind, a name, and its lines.
OTHER_SECTIONS = ('peers', 'resolvers', 'mailers', 'cache', 'ring', 'log-forward', 'program', 'crt-store', 'traces')
# The status codes HAProxy can answer with a file of its own (errorfile, in an http-errors section or a proxy).
ERROR_CODES = (200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504)
# Lines of the global and defaults sections that have a variable of the role: written there, they would be a second
# truth (HAProxy takes the last), so the lint names the variable instead.
OWNED_LINES = {
    'global': ((('maxconn',), 'maxconn'), (('server-state-file',), 'state_file')),
    'defaults': ((('timeout', 'connect'), 'timeout_connect'), (('timeout', 'client'), 'timeout_client'),
                 (('timeout', 'server'), 'timeout_server')),
}
# Map and pattern files (haproxy_maps): a name is one file of the maps directory. HAProxy reads a line with fgets into
# a buffer of tune.bufsize (16384 by default): a longer line would be read as two entries.
MAP_NAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}')
MAP_LINE_MAX = 16000
# HAProxy stops reading a configuration line after 64 words (MAX_LINE_ARGS); 'acl', name, criterion, flags and '--'
# take at most 8 of them.
VALUES_PER_LINE = 50
# TLS profiles of the frontends' tls_bind (Mozilla's): the protocols and TLS 1.2 suites, on every TLS bind of the
# process, and the key exchange groups, on each bind line (HAProxy before 2.8 has no global setting for them).
# The TLS 1.2 suites are the profile's ECDHE ones (its DHE ones would need a DH parameter file); the TLS 1.3 suites
# are OpenSSL's three, all of which every profile allows.
TLS_PROFILES = {
    'intermediate': dict(min_version='TLSv1.2', groups=':'.join(INTERMEDIATE['groups']),
                         ciphers=':'.join(c for c in INTERMEDIATE['ciphers'] if c.startswith('ECDHE-'))),
    'modern': dict(min_version='TLSv1.3', groups=':'.join(INTERMEDIATE['groups']), ciphers=None),
}
TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'
ALPN_RE = re.compile(r'[A-Za-z0-9._/-]{1,32}')
# The http-01 challenge path with a token as ACME defines it (base64url): nothing else is answered, so the answer
# can never echo anything but "<token>.<thumbprint>".
ACME_PATH = r'^/[.]well-known/acme-challenge/[-_A-Za-z0-9]{1,128}$'
THUMBPRINT_RE = re.compile(r'[-_A-Za-z0-9]{43}')
# The CA bundle a server's certificate is verified against by default: Debian's system trust store (ca-certificates).
SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt'
BIND_RE = re.compile(r'(\*|[0-9.]+|\[[0-9a-fA-F:]+\])?:([0-9]+)')


def _port(value):
    return not isinstance(value, bool) and re.fullmatch(r'[0-9]{1,5}', str(value)) and 1 <= int(value) <= 65535


def condition_terms(cond):
    """The terms of a condition (its text, split at blanks, or the words HAProxy read from it) as HAProxy's
    parse_acl_cond reads them: (negated, named ACL or None,
    anonymous body words or None), plus 'or' markers as (False, 'or', None). Leading '!' marks toggle the
    negation and a lone '!' applies to the next word, so '!{ src x }', '! { src x }' and '!!a' are all valid.
    Raises ValueError for a '{' without its '}'."""
    words, terms, index, neg = cond.split() if isinstance(cond, str) else list(cond), [], 0, False
    while index < len(words):
        word = words[index].lstrip('!')
        neg ^= (len(words[index]) - len(word)) % 2 == 1
        index += 1
        if not word:
            continue
        if word.lower() == 'or' or word == '||':
            terms.append((False, 'or', None))
            neg = False
        elif word == '{':
            end = words.index('}', index) if '}' in words[index:] else -1
            if end < 0:
                raise ValueError("missing closing '}'")
            terms.append((neg, None, words[index:end]))
            index, neg = end + 1, False
        else:
            terms.append((neg, word, None))
            neg = False
    return terms


def condition_acls(cond):
    """Named ACLs a condition uses (without '!'), and its anonymous ACL bodies (as text)."""
    named, anonymous = [], []
    for _neg, name, body in condition_terms(cond):
        if body is not None:
            anonymous.append(' '.join(body))
        elif name != 'or':
            named.append(name)
    return named, anonymous


def parse_criterion(text):
    """('hdr_beg', 'host') for 'hdr_beg(host)'; (text, None) without an argument; None when malformed."""
    match = re.fullmatch(r'([a-z_.]+)(?:\(([^()]*)\))?', text or '')
    if not match:
        return None
    return match.group(1), match.group(2)


class Linter(ConfigLinter):
    def name(self, where, value, regex=NAME_RE):
        if not isinstance(value, str) or not regex.fullmatch(value):
            self.err(where, '%r must be 1-64 characters of A-Z a-z 0-9 _ . : -, with no spaces, newlines or "#"'
                     % (value,))
            return False
        return True

    def value(self, where, value):
        """An ACL value: any text HAProxy can read back as one word (quoted by haproxy_word)."""
        self.check(where, text, value)

    def words(self, where, text):
        """The words HAProxy reads from ``text`` (written in haproxy.cfg's syntax, and rendered as given), or None
        after an error naming what would not stay one fragment of one line."""
        try:
            return haproxy_split(text)
        except Unsafe as exc:
            self.err(where, str(exc))
            return None

    def criterion(self, where, text, raw, userlists):
        """A named ACL's criterion: one word, a fetch with its converters (raw: any fragment HAProxy reads back,
        written as given). Whether the fetch exists is haproxy -c's to say."""
        words = self.words(where, text)
        if not words:
            if words == []:
                self.err(where, 'must be a criterion such as path_beg or hdr(host)')
            return False
        if raw:
            return True
        if len(words) != 1 or not FETCH_RE.fullmatch(words[0]) or text != words[0]:
            self.err(where, '%r must be one fetch, with its arguments and converters, such as path_beg, hdr(host) or '
                     'req.hdr(host),lower (set raw: true to write anything else as given)' % (text,))
            return False
        parsed = parse_criterion(text)
        if parsed and parsed[0] in ('http_auth', 'http_auth_group') and parsed[1] not in userlists:
            self.err(where, '%r names userlist %r, which is not defined' % (text, parsed[1]))
        return True

    def condition(self, where, cond, acls, used):
        if not isinstance(cond, str) or not cond.strip():
            self.err(where, 'must be a non-empty condition')
            return
        words = self.words(where, cond)
        if words is None:
            return
        try:
            terms = condition_terms(words)
        except ValueError as exc:
            self.err(where, '%r: %s' % (cond, exc))
            return
        for _neg, name, body in terms:
            if body is not None:
                first = body[0] if body else ''
                if not FETCH_RE.fullmatch(first):
                    self.err(where, 'anonymous ACL "{ %s }" must start with a fetch, such as path_beg or hdr(host), '
                             'not %r' % (' '.join(body), first))
            elif name == 'or':
                continue
            elif name in ('if', 'unless', '&&'):
                self.err(where, '%r: write the condition without "if"/"unless"/"&&" (AND is implicit)' % cond)
            elif '{' in name or '}' in name:
                self.err(where, '%r: anonymous ACLs need spaces inside the braces, as in "{ src 10.0.0.0/8 }"'
                         % cond)
            elif name not in acls and name not in PREDEFINED:
                self.err(where, 'ACL %r is not defined in this frontend (nor a predefined one)' % name)
            else:
                used.add(name)

    def server_tls(self, where, server):
        """ssl (TLS to the server), ssl_verify (default true), ca_file, sni: the keys that only mean something
        with ssl."""
        tls = server.get('ssl') is True
        for key in ('ssl_verify', 'ca_file', 'sni'):
            if server.get(key) is not None and not tls:
                self.err('%s.%s' % (where, key), 'only applies to a server with ssl: true')
        if server.get('ca_file') is not None:
            if self.check(where + '.ca_file', abs_path, server['ca_file']) and server.get('ssl_verify') is False:
                self.err(where + '.ca_file', 'is only read with ssl_verify: true')
        if server.get('sni') is not None:
            self.check(where + '.sni', dns_name, server['sni'], False)

    def run(self):
        cfg = self.config
        userlists = self.known_userlists = self.userlists(cfg.get('userlists'))
        backends = self.backends(cfg.get('backends'))
        listens = self.items(cfg.get('listens'), VAR + 'listens')
        proxies = dict(backends)
        for where, item in listens:
            # A listen is a backend too: use_backend and default_backend may name it.
            if self.name(where + '.name', item.get('name')):
                if item['name'] in proxies:
                    self.err(where + '.name', '%r is already defined (%s)' % (item['name'], proxies[item['name']]))
                proxies.setdefault(item['name'], where)
        used = set()
        frontends = set()
        listen_names = {item.get('name') for _where, item in listens}
        for where, item in self.items(cfg.get('frontends'), VAR + 'frontends'):
            # A frontend may have the name of a backend (HAProxy tells them apart), not of another frontend or of a
            # listen section, which is both.
            if self.name(where + '.name', item.get('name')):
                if item['name'] in frontends or item['name'] in listen_names:
                    self.err(where + '.name', '%r is already defined' % item['name'])
                frontends.add(item['name'])
            self.known_keys(where, item, FRONTEND_KEYS, 'a frontend')
            used |= self.frontend(where, item, proxies, userlists)
        for where, item in listens:
            self.known_keys(where, item, LISTEN_KEYS, 'a listen section')
            used |= self.listen(where, item, proxies, userlists)
        for name in sorted(set(backends) - used) if not getattr(self, 'dynamic_backends', False) else []:
            self.warnings.append('backend %s is not used by any frontend' % name)
        self.global_settings(cfg.get('global') or {})
        for section in ('global', 'defaults'):
            self.section_lines(section, cfg.get(section + '_directives'))
        self.http_errors(cfg.get('http_errors'))
        self.other_sections(cfg.get('sections'))
        self.maps(cfg.get('maps'))
        return self

    def other_sections(self, value):
        """haproxy_sections: {kind, name, lines}, the sections the model has no keys for (peers, resolvers,
        mailers, cache, ring...), written as given."""
        seen = set()
        for where, item in self.items(value, VAR + 'sections'):
            self.known_keys(where, item, frozenset(('kind', 'name', 'lines')), 'a section')
            kind = self.choice(where + '.kind', item.get('kind'), OTHER_SECTIONS, required=True)
            if self.name(where + '.name', item.get('name')):
                if (kind, item['name']) in seen:
                    self.err(where + '.name', '%s %r is already defined' % (kind, item['name']))
                seen.add((kind, item['name']))
            self.lines(where + '.lines', item.get('lines'))

    def known_keys(self, where, item, keys, what):
        unknown = sorted(set(item) - keys)
        if unknown:
            plural, known = 's' if len(unknown) > 1 else '', ', '.join(sorted(keys))
            self.err(where, 'unknown key%s %s (%s has %s)' % (plural, ', '.join(unknown), what, known))

    def listen(self, where, item, proxies, userlists):
        """A listen section: a frontend (binds, TLS, rules, use_backend) and a backend (balance, cookie, stick and
        use-server rules, servers) sharing one set of ACLs. Returns the backends it uses."""
        self.choice(where + '.balance', item.get('balance'), BALANCE)
        servers = self.servers(where, item)
        return self.frontend(where, item, proxies, userlists, servers=servers)

    def section_lines(self, section, lines):
        """haproxy_global_directives, haproxy_defaults_directives: lines added to the role's own section, as
        given, but for the values the role has a variable for."""
        where = '%s%s_directives' % (VAR, section)
        for index, words in self.lines(where, lines):
            for head, var in OWNED_LINES[section]:
                if tuple(words[:len(head)]) == head:
                    self.err('%s[%d]' % (where, index), '%r: set %s%s instead (the role writes that line)'
                             % (lines[index], VAR, var))
            if words[0].startswith('ssl-default-bind-') and has_tls(self.config):
                self.warnings.append('%s[%d]: %r comes after the TLS defaults of %stls_profile, and HAProxy takes '
                                     'the last' % (where, index, lines[index], VAR))

    def http_errors(self, value):
        """http-errors sections: {name, errorfiles: {status code: file}}, for a proxy's "errorfiles NAME" and
        http-request return's "errorfiles NAME"."""
        names = set()
        for where, item in self.items(value, VAR + 'http_errors'):
            if self.name(where + '.name', item.get('name')):
                if item['name'] in names:
                    self.err(where + '.name', '%r is already defined' % item['name'])
                names.add(item['name'])
            self.known_keys(where, item, frozenset(('name', 'errorfiles')), 'an http-errors section')
            files = item.get('errorfiles')
            if not isinstance(files, dict) or not files:
                self.err(where + '.errorfiles', 'must be a mapping of status code to file, such as '
                                                '{503: /etc/haproxy/errors/site/503.http}')
                continue
            codes = [str(code) for code in files]
            for code, path in files.items():
                fwhere = '%s.errorfiles.%s' % (where, code)
                if codes.count(str(code)) > 1:
                    self.err(fwhere, 'status code %s is given twice' % code)
                if isinstance(code, bool) or not re.fullmatch(r'[0-9]{3}', str(code)) or int(code) not in ERROR_CODES:
                    self.err(fwhere, '%r is not a status code HAProxy answers with a file (%s)'
                             % (code, ', '.join(str(c) for c in ERROR_CODES)))
                self.check(fwhere, abs_path, path)

    def maps(self, value):
        """Map and pattern files: each entry must come back from HAProxy's file reader as given (map_entries)."""
        names = set()
        for where, item in self.items(value, VAR + 'maps'):
            name = item.get('name')
            if not isinstance(name, str) or not MAP_NAME_RE.fullmatch(name) or name in ('.', '..'):
                self.err(where + '.name', '%r must be a file name (letters, digits, ".", "_", "-"; no "/")' % (name,))
            elif name in names:
                self.err(where + '.name', '%r is already defined' % name)
            names.add(name)
            unknown = sorted(set(item) - {'name', 'entries'})
            if unknown:
                self.err(where, 'unknown keys %s (a map file has name and entries)' % ', '.join(unknown))
            if 'entries' not in item:
                self.err(where + '.entries', 'is required: a mapping of key to value (a map file), or a list of '
                                             'patterns (a pattern file for an ACL\'s -f)')
                continue
            self.check(where + '.entries', map_lines, item['entries'])

    def userlists(self, value):
        """{name: userlist}: each user has a password as a crypt(3) hash, or an insecure_password (clear text, a
        warning); groups may list their users, users their groups."""
        userlists = {}
        for where, item in self.items(value, VAR + 'userlists'):
            if self.name(where + '.name', item.get('name')):
                if item['name'] in userlists:
                    self.err(where + '.name', '%r is already defined' % item['name'])
                userlists[item['name']] = item
            groups, users = set(), set()
            for uwhere, user in self.items(item.get('users'), where + '.users'):
                if self.name(uwhere + '.name', user.get('name')):
                    users.add(user['name'])
            for gwhere, group in self.items(item.get('groups'), where + '.groups'):
                if self.name(gwhere + '.name', group.get('name')):
                    groups.add(group['name'])
                self.references(gwhere + '.users', group.get('users'), users, 'user of this userlist')
            for uwhere, user in self.items(item.get('users'), where + '.users'):
                password, clear = user.get('password'), user.get('insecure_password')
                if (password is None) == (clear is None):
                    self.err(uwhere, 'needs one of password (a crypt(3) hash) and insecure_password (clear text)')
                elif password is not None and (not isinstance(password, str)
                                               or not re.fullmatch(r'\$[0-9a-z]+\$[^\s#\'"\\]+', password)):
                    self.err(uwhere + '.password', 'must be a crypt(3) hash such as $6$... (for a clear-text '
                                                   'password, insecure_password)')
                elif clear is not None and self.words(uwhere + '.insecure_password', str(clear)) is not None:
                    self.warnings.append('%s.insecure_password: a clear-text password in haproxy.cfg; a crypt(3) '
                                         'hash (password) keeps it out of the file' % uwhere)
                self.references(uwhere + '.groups', user.get('groups'), groups, 'group of this userlist')
        return userlists

    def references(self, where, values, defined, what):
        """A list of names, each one of ``defined``."""
        if values is None:
            return
        if not isinstance(values, list):
            self.err(where, 'must be a list of names')
            return
        for index, value in enumerate(values):
            if value not in defined:
                self.err('%s[%d]' % (where, index), '%r is not a %s' % (value, what))

    def directives(self, where, item):
        """Lines written as given in the section (options the model has no key for: option httpchk, http-check,
        timeout, compression, monitor-uri, stats...): each one line of HAProxy's syntax that stays in its section."""
        self.lines(where + '.directives', item.get('directives'))

    def lines(self, where, lines):
        """[(index, words)] of a list of configuration lines, each one line of HAProxy's syntax that stays in its
        section; anything else is an error naming its place."""
        if lines is None:
            return []
        if not isinstance(lines, list):
            self.err(where, 'must be a list of configuration lines')
            return []
        out = []
        for index, line in enumerate(lines):
            dwhere = '%s[%d]' % (where, index)
            words = self.words(dwhere, line)
            if words == []:
                self.err(dwhere, 'must not be empty')
            elif words and words[0] in SECTIONS:
                self.err(dwhere, '%r would start a %s section and end this one: sections are the role\'s'
                         % (line, words[0]))
            elif words:
                out.append((index, words))
        return out

    def backends(self, value):
        """{name: where it is defined}."""
        backends = {}
        for where, item in self.items(value, VAR + 'backends'):
            if self.name(where + '.name', item.get('name')):
                if item['name'] in backends:
                    self.err(where + '.name', '%r is already defined (%s)' % (item['name'], backends[item['name']]))
                backends.setdefault(item['name'], where)
            self.known_keys(where, item, BACKEND_KEYS, 'a backend')
            self.choice(where + '.mode', item.get('mode'), MODES)
            self.choice(where + '.balance', item.get('balance'), BALANCE)
            servers = self.servers(where, item)
            acls, used_acls = self.acls(where, item, self.known_userlists), set()
            self.directives(where, item)
            self.stick_table(where, item.get('stick_table'))
            self.rule_lists(where, item, acls, used_acls, backend=True)
            self.backend_rules(where, item, servers, acls, used_acls)
            self.unused_acls(where, acls, used_acls)
        return backends

    def servers(self, where, item):
        """The names of a section's servers."""
        servers = set()
        for swhere, server in self.items(item.get('servers'), where + '.servers'):
            if self.name(swhere + '.name', server.get('name')):
                if server['name'] in servers:
                    self.err(swhere + '.name', '%r is already defined in this section' % server['name'])
                servers.add(server['name'])
            self.server(swhere, server)
        return servers

    def backend_rules(self, where, item, servers, acls, used_acls):
        """A backend's (or listen's) cookie, stick rules and use-server rules."""
        if item.get('cookie') is not None:
            self.words(where + '.cookie', item['cookie'])
        for swhere, rule in self.items(item.get('stick'), where + '.stick'):
            self.choice(swhere + '.action', rule.get('action'), STICK_ACTIONS, required=True)
            if self.words(swhere + '.args', rule.get('args')) == []:
                self.err(swhere + '.args', 'needs the pattern to stick on, such as src')
            if rule.get('cond') is not None:
                self.condition(swhere + '.cond', rule['cond'], acls, used_acls)
        for uwhere, rule in self.items(item.get('use_server'), where + '.use_server'):
            if rule.get('server') not in servers:
                self.err(uwhere + '.server', 'server %r is not defined in this section' % (rule.get('server'),))
            self.condition(uwhere + '.cond', rule.get('cond'), acls, used_acls)

    def unused_acls(self, where, acls, used_acls):
        for acl in sorted(set(acls) - used_acls):
            self.warnings.append('%s: ACL %s is defined but never used' % (where, acl))

    def stick_table(self, where, table):
        """{type, size, expire, store, len}: the section's stick table."""
        if table is None:
            return
        where += '.stick_table'
        if not isinstance(table, dict):
            self.err(where, 'must be a dict with type, size, expire and store')
            return
        unknown = sorted(set(table) - {'type', 'size', 'expire', 'store', 'len'})
        if unknown:
            self.err(where, 'unknown key(s) %s' % ', '.join(unknown))
        self.choice(where + '.type', table.get('type'), TABLE_TYPES, required=True)
        for key, regex, example in (('size', SIZE_RE, '100k'), ('expire', TIME_RE, '30s')):
            value = table.get(key)
            wrong = isinstance(value, bool) or not regex.fullmatch(str(value))
            if (value is not None or key == 'size') and wrong:
                self.err('%s.%s' % (where, key), '%r must be a number with an optional unit, such as %s'
                         % (value, example))
        store = table.get('store')
        if store is not None and not isinstance(store, list):
            self.err(where + '.store', 'must be a list of data types, such as [http_req_rate(10s), conn_cur]')
            store = []
        for index, value in enumerate(store or []):
            if not isinstance(value, str) or not STORE_RE.fullmatch(value):
                self.err('%s.store[%d]' % (where, index), '%r must be a data type such as conn_cur or '
                         'http_req_rate(10s)' % (value,))
        self.integer(where + '.len', table.get('len'), 1, 65536)

    def rule_lists(self, where, item, acls, used_acls, backend=False):
        """tcp_request, http_request, http_response, http_after_response and tcp_response: {phase (tcp ones),
        action, args, cond, unless} each, written in HAProxy's syntax."""
        for key, keyword, kinds in RULES:
            if backend and key == 'tcp_request':
                kinds = ('content', 'inspect-delay')       # a backend has no connection or session rules
            for rwhere, rule in self.items(item.get(key), '%s.%s' % (where, key)):
                kind = rule.get('phase')
                if kinds:
                    self.choice(rwhere + '.phase', kind, kinds, required=True)
                elif kind is not None:
                    self.err(rwhere + '.phase', 'only applies to tcp_request and tcp_response')
                action = rule.get('action')
                if kind == 'inspect-delay':
                    if action is not None or rule.get('cond') is not None:
                        self.err(rwhere, 'inspect-delay takes only args, the delay (such as 5s)')
                    if not TIME_RE.fullmatch(str(rule.get('args'))):
                        self.err(rwhere + '.args', '%r must be a delay such as 5s' % (rule.get('args'),))
                    continue
                if not isinstance(action, str) or not ACTION_RE.fullmatch(action):
                    self.err(rwhere + '.action', '%r must be a %s action such as deny, set-header or '
                             'set-var(txn.name)' % (action, keyword))
                if rule.get('args') is not None:
                    self.words(rwhere + '.args', rule['args'])
                self.flag(rwhere + '.unless', rule.get('unless'))
                if rule.get('cond') is not None:
                    self.condition(rwhere + '.cond', rule['cond'], acls, used_acls)

    def server(self, where, server):
        self.check(where + '.address', host, server.get('address'))
        if not _port(server.get('port')):
            self.err(where + '.port', '%r must be a port from 1 to 65535' % (server.get('port'),))
        self.integer(where + '.weight', server.get('weight'), 0, 256)
        self.integer(where + '.maxconn', server.get('maxconn'), 1, 1000000)
        for key in ('check', 'backup', 'send_proxy_v2', 'ssl', 'ssl_verify'):
            self.flag('%s.%s' % (where, key), server.get(key))
        if server.get('cookie') is not None:
            self.value(where + '.cookie', server['cookie'])
        self.server_tls(where, server)

    def frontend(self, where, item, backends, userlists, servers=None):
        """Checks one frontend (or listen section, with its ``servers``); returns the backends it uses."""
        self.choice(where + '.mode', item.get('mode'), MODES)
        self.binds(where, item)
        self.tls(where, item, self.config.get('global') or {})
        acls, used_acls, used = self.acls(where, item, userlists), set(), set()
        self.directives(where, item)
        self.stick_table(where, item.get('stick_table'))
        self.rule_lists(where, item, acls, used_acls)
        for uwhere, rule in self.items(item.get('use_backend'), where + '.use_backend'):
            backend = rule.get('backend')
            if isinstance(backend, str) and '%[' in backend:
                # A dynamic name (use_backend be_%[req.hdr(x-pool),lower]): one word, resolved per request.
                words = self.words(uwhere + '.backend', backend)
                if words is not None and words != [backend]:
                    self.err(uwhere + '.backend', '%r must be one word, written as HAProxy reads it' % (backend,))
                self.dynamic_backends = True
            else:
                if backend not in backends:
                    self.err(uwhere + '.backend', 'backend %r is not defined' % (backend,))
                used.add(backend)
            if rule.get('cond') is not None:
                self.condition(uwhere + '.cond', rule['cond'], acls, used_acls)
        default = item.get('default_backend')
        if default is not None:
            if default not in backends:
                self.err(where + '.default_backend', 'backend %r is not defined' % (default,))
            used.add(default)
        if servers is not None:
            self.backend_rules(where, item, servers, acls, used_acls)
        self.unused_acls(where, acls, used_acls)
        return used

    def acls(self, where, item, userlists):
        """{name: where it is first defined} of a frontend's ACLs."""
        acls = {}
        for awhere, acl in self.items(item.get('acls'), where + '.acls'):
            if not self.name(awhere + '.name', acl.get('name')):
                continue
            if acl['name'] in PREDEFINED:
                self.err(awhere + '.name', '%r is a predefined ACL' % acl['name'])
            acls.setdefault(acl['name'], awhere)
            self.criterion(awhere + '.criterion', acl.get('criterion'), acl.get('raw'), userlists)
            for findex, flag in enumerate(acl.get('flags') or []):
                fwhere = '%s.flags[%d]' % (awhere, findex)
                if isinstance(flag, str) and flag.startswith('-f '):
                    self.check(fwhere, abs_path, flag[3:])
                elif isinstance(flag, str) and flag.startswith('-u '):
                    self.integer(fwhere, flag[3:], 0, 2 ** 31 - 1)
                elif flag not in FLAGS and not (isinstance(flag, str) and flag.startswith('-m ')
                                                and flag[3:] in MATCH_METHODS):
                    self.err(fwhere, '%r must be -i, -n, -M, -m METHOD, -f PATTERN_FILE or -u ID' % (flag,))
            values = acl.get('values')
            if values is not None and not isinstance(values, list):
                self.err(awhere + '.values', 'must be a list')
                values = []
            for vindex, val in enumerate(values or []):
                self.value('%s.values[%d]' % (awhere, vindex), val)
        return acls

    def binds(self, where, item):
        plain, tls = item.get('bind') or [], item.get('tls_bind') or []
        for key, binds in (('bind', plain), ('tls_bind', tls)):
            if not isinstance(binds, list):
                self.err('%s.%s' % (where, key), 'must be a list of ADDRESS:PORT')
                continue
            for index, bind in enumerate(binds):
                match = BIND_RE.fullmatch(str(bind))
                if not match:
                    self.err('%s.%s[%d]' % (where, key, index), '%r must be ADDRESS:PORT, *:PORT or [IPV6]:PORT'
                             % (bind,))
                elif not _port(match.group(2)):
                    self.err('%s.%s[%d]' % (where, key, index), '%r: port %s is out of range 1-65535'
                             % (bind, match.group(2)))
        directives = item.get('directives') if isinstance(item.get('directives'), list) else []
        if not (isinstance(plain, list) and plain) and not (isinstance(tls, list) and tls) and \
                not any(isinstance(line, str) and line.split()[:1] == ['bind'] for line in directives):
            self.warnings.append('%s: no address to listen on (bind, tls_bind or a bind directive): it receives '
                                 'nothing' % where)

    def tls(self, where, item, settings):
        """The TLS keys of a frontend: tls_bind needs tls_certificates and the other way round; the http-only
        options need mode http."""
        has_tls = bool(item.get('tls_bind'))
        certs = item.get('tls_certificates')
        if certs is not None and (not isinstance(certs, list) or not has_tls):
            self.err(where + '.tls_certificates', 'must be a list of PEM files, with tls_bind')
            certs = []
        if has_tls and not certs:
            self.err(where + '.tls_certificates', 'tls_bind needs at least one certificate (a PEM file with the chain, '
                     'and the key in it or in FILE.key)')
        for index, path in enumerate(certs or []):
            here = '%s.tls_certificates[%d]' % (where, index)
            if self.check(here, abs_path, path) and certs.index(path) != index:
                self.err(here, '%r is listed twice' % (path,))
        alpn = item.get('alpn')
        if alpn is not None:
            if not isinstance(alpn, list) or not has_tls:
                self.err(where + '.alpn', 'must be a list of protocol names, with tls_bind')
            else:
                for index, name in enumerate(alpn):
                    if not isinstance(name, str) or not ALPN_RE.fullmatch(name):
                        self.err('%s.alpn[%d]' % (where, index), '%r must be a protocol name such as h2 or http/1.1'
                                 % (name,))
        http = item.get('mode', 'http') == 'http'
        for key, needs_tls in (('redirect_https', True), ('acme_challenge', False), ('hsts_include_subdomains', True)):
            value = item.get(key)
            if value is not None and not isinstance(value, bool):
                self.err('%s.%s' % (where, key), '%r must be true or false' % (value,))
            elif value and not http:
                self.err('%s.%s' % (where, key), 'needs mode http')
            elif value and needs_tls and not has_tls:
                self.err('%s.%s' % (where, key), 'needs tls_bind (a frontend that also terminates TLS)')
        max_age = item.get('hsts_max_age')
        if max_age is not None:
            if isinstance(max_age, bool) or not re.fullmatch(r'[0-9]{1,10}', str(max_age)):
                self.err(where + '.hsts_max_age', '%r must be a number of seconds (0: no HSTS header)' % (max_age,))
            elif int(max_age) and not (http and has_tls):
                self.err(where + '.hsts_max_age', 'needs mode http and tls_bind')
        domains = item.get('acme_challenge_domains')
        if domains is not None:
            if not isinstance(domains, list) or not item.get('acme_challenge'):
                self.err(where + '.acme_challenge_domains', 'must be a list of DNS names, with acme_challenge')
            else:
                for index, name in enumerate(domains):
                    self.check('%s.acme_challenge_domains[%d]' % (where, index), dns_name, name)
        if item.get('acme_challenge') and not THUMBPRINT_RE.fullmatch(str(settings.get('acme_thumbprint') or '')):
            self.err(where + '.acme_challenge', 'needs %sacme_thumbprint, the ACME account key\'s thumbprint '
                     '(43 base64url characters)' % VAR)

    def global_settings(self, settings):
        thumbprint = settings.get('acme_thumbprint')
        if thumbprint and not THUMBPRINT_RE.fullmatch(str(thumbprint)):
            self.err(VAR + 'acme_thumbprint', '%r must be an ACME account key thumbprint: 43 characters of A-Z a-z '
                     '0-9 _ -' % (thumbprint,))
        if (settings.get('tls_profile') or 'intermediate') not in TLS_PROFILES:
            self.err(VAR + 'tls_profile', '%r must be one of %s' % (settings['tls_profile'], ', '.join(TLS_PROFILES)))

        for key in ('stats_socket', 'state_file'):
            if settings.get(key) is not None:
                self.check(VAR + key, abs_path, settings[key])
        for key in ('timeout_connect', 'timeout_client', 'timeout_server', 'maxconn'):
            val = settings.get(key)
            if val is not None and (isinstance(val, bool) or not re.fullmatch(r'[0-9]+', str(val)) or int(val) < 1):
                self.err(VAR + key, '%r must be a positive integer' % (val,))


lint = Linter.lint


def has_tls(config):
    """Whether a frontend or listen section of ``config`` terminates TLS (tls_bind)."""
    return any(isinstance(item, dict) and item.get('tls_bind') for key in ('frontends', 'listens')
               for item in (config.get(key) if isinstance(config.get(key), list) else []))


def acl_flag(flag):
    """An ACL flag as written: a pattern file's path quoted as one word."""
    return '-f ' + haproxy_path(flag[3:]) if flag.startswith('-f ') else flag


def redact(text):
    """``text`` with the password hashes of userlist lines replaced, for results, diffs and messages."""
    return re.sub(r'^(\s*user \S+ (?:insecure-)?password )(?:"[^"]*"|\'[^\']*\'|\S)+', r'\1<redacted>', text or '',
                  flags=re.M)


def tls_bind(item, bind, settings):
    """A bind line that terminates TLS. With several certificates, HAProxy picks by the client's SNI and, among
    those for the name, by the key type the client supports (ECDSA first); the first one is served without SNI."""
    words = [bind, 'ssl'] + ['crt %s' % haproxy_path(path) for path in item['tls_certificates']]
    alpn = item.get('alpn')
    if alpn is None and item.get('mode', 'http') == 'http':
        alpn = ['h2', 'http/1.1']
    if alpn:
        words.append('alpn %s' % ','.join(alpn))
    words.append('curves %s' % TLS_PROFILES[settings.get('tls_profile') or 'intermediate']['groups'])
    return ' '.join(words)


def tls_rules(item, settings):
    """The http-request and http-response lines of a frontend's TLS and ACME options, before the user's rules: the
    challenge answer first (nothing may deny or redirect the CA), then the redirect to https (never for the
    challenge path, which a backend may answer), then HSTS on every response over TLS
    (http-after-response: HAProxy's own errors and redirects too)."""
    lines = []
    if item.get('acme_challenge'):
        # The stateless http-01 answer: "<token>.<account thumbprint>" for any well-formed token, computed by
        # HAProxy itself, so every balancer behind a name answers an order placed from any host of the account.
        # With acme_challenge_domains, only for those names (the Host header without its port): other names' tokens
        # go on to the backends, which may hold another account.
        hosts = ' '.join(name.rstrip('.').lower() for name in item.get('acme_challenge_domains') or [])
        lines.append('http-request return status 200 content-type text/plain lf-string "%%[path,field(4,/)].%s" '
                     'if { path_reg %s }%s' % (settings['acme_thumbprint'], ACME_PATH,
                                               ' { req.hdr(host),field(1,:) -i %s }' % hosts if hosts else ''))
    if item.get('redirect_https'):
        lines.append('http-request redirect scheme https code 301 if !{ ssl_fc } '
                     '!{ path_beg /.well-known/acme-challenge/ }')
    if item.get('hsts_max_age'):
        value = 'max-age=%d' % int(item['hsts_max_age'])
        if item.get('hsts_include_subdomains'):
            value += '; includeSubDomains'
        lines.append('http-after-response set-header Strict-Transport-Security "%s" if { ssl_fc }' % value)
    return lines


def server_tls_words(server):
    """The words of a server line that connects over TLS: TLS 1.2 at least, and by default the server's certificate
    verified against ca_file (Debian's system bundle unless given), for the name of sni when given (sent as SNI, by
    health checks too, and required in the certificate); ssl_verify: false encrypts without verifying."""
    sni = server.get('sni')
    words = ['ssl', 'ssl-min-ver', 'TLSv1.2']
    if server.get('ssl_verify', True) is False:
        words += ['verify', 'none']
    else:
        words += ['verify', 'required', 'ca-file', haproxy_path(server.get('ca_file') or SYSTEM_CA_FILE)]
        if sni:
            words += ['verifyhost', dns_name(sni, False)]
    if sni:
        words += ['sni', 'str(%s)' % dns_name(sni, False)]
        if server.get('check'):
            words += ['check-sni', sni]
    return words


def certificates(config):
    """Every certificate file the frontends of ``config`` load, in order, once."""
    paths = []
    for item in (config.get('frontends') or []) + (config.get('listens') or []):
        paths += [path for path in item.get('tls_certificates') or [] if path not in paths]
    return paths


def ca_files(config):
    """Every CA file the servers of ``config`` verify against (the system bundle unless one is given), in order,
    once. HAProxy reads them at start only."""
    paths = []
    for item in (config.get('backends') or []) + (config.get('listens') or []):
        for server in item.get('servers') or []:
            if server.get('ssl') and server.get('ssl_verify', True) is not False:
                path = server.get('ca_file') or SYSTEM_CA_FILE
                paths += [path] if path not in paths else []
    return paths


def _map_text(value, what):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Unsafe('%s %r must be a string or a number' % (what, value))
    value = str(value)
    if re.search(r'[\r\n\0]', value):
        raise Unsafe('%s %r must not contain a line end or a NUL: HAProxy reads one entry a line' % (what, value))
    return value


def map_lines(entries):
    """The lines of a map file (``entries`` a mapping: key, then value) or of a pattern file (a list of patterns), as
    HAProxy's reader takes them back: a line that starts with '#' is a comment, so such a key or pattern is written
    after a space (leading blanks are skipped); a map key ends at the first blank and its value loses its leading and
    trailing blanks, so neither may be written; a pattern keeps its trailing blanks. Raises Unsafe."""
    lines = []
    if isinstance(entries, dict):
        for key, value in entries.items():
            key = _map_text(key, 'the key')
            value = _map_text('' if value is None else value, 'the value of ' + key)
            if not key or re.search(r'[ \t]', key):
                raise Unsafe('the key %r must be one word: HAProxy ends a key at its first blank' % key)
            if value != value.strip(' \t'):
                raise Unsafe('the value of %s, %r, must not begin or end with a blank: HAProxy strips them'
                             % (key, value))
            lines.append(('%s %s' % (key, value)).rstrip(' '))
    elif isinstance(entries, list):
        for pattern in entries:
            pattern = _map_text(pattern, 'the pattern')
            if not pattern or pattern[0] in ' \t':
                raise Unsafe('the pattern %r must not be empty or begin with a blank: HAProxy skips those' % pattern)
            lines.append(pattern)
    else:
        raise Unsafe('%r must be a mapping (a map file) or a list (a pattern file)' % (entries,))
    for line in lines:
        if len(line.encode('utf-8')) > MAP_LINE_MAX:
            raise Unsafe('the entry %r... is longer than %d bytes: HAProxy would read it as two'
                         % (line[:40], MAP_LINE_MAX))
    return [' ' + line if line.startswith('#') else line for line in lines]


def render_maps(config, header=None):
    """{file name: text} of the map and pattern files of ``config`` (the header as comments first)."""
    head = ''.join('# %s\n' % line for line in (header or '').splitlines())
    return {item['name']: head + ''.join(line + '\n' for line in map_lines(item.get('entries')))
            for item in config.get('maps') or []}


def locate(output, sources):
    """haproxy -c's ``output`` with the variable each "[FILE:LINE]" (or "declared at FILE:LINE") comes from, after it
    (``sources``: the line numbers render() recorded)."""
    def named(match):
        where = sources.get(int(match.group(2) or match.group(4)))
        return match.group(0) + (' (%s)' % where if where else '')
    return re.sub(r'\[([^\]\n]*):([0-9]+)\]|(?<=declared at )([^\s:()]+):([0-9]+)', named, output or '')


# What haproxy -c warns about that says nothing of the configuration: the state file before the first reload.
BENIGN_WARNINGS = (re.compile(r"Can't open (global )?server state file"),)


def check_warnings(output, sources):
    """The [WARNING] lines of a haproxy -c that passed, each with the variable its line comes from (locate), but
    for the benign ones: a rule HAProxy ignores, an option it overrides... are worth the operator's eye."""
    out = []
    for line in (output or '').splitlines():
        if '[WARNING]' not in line or any(regex.search(line) for regex in BENIGN_WARNINGS):
            continue
        text = re.sub(r'^\[WARNING\]\s*(\([0-9]+\))?\s*:\s*(config\s*:\s*)?', '', line.strip())
        out.append(locate(text, sources))
    return out


def render(config, header=None, sources=None):
    """The haproxy.cfg text of ``config``. ``sources`` (a dict), when given, receives the variable path of each
    line of a frontend, backend or userlist, by line number, for locate()."""
    return _render(config, header, sources if sources is not None else {})


def _mark(out, sources, section, start):
    """Record ``section`` for the lines of ``out`` from ``start`` that have no more precise source."""
    for number in range(start + 1, len(out) + 1):
        sources.setdefault(number, section)


def _cond(rule):
    """' if COND' (' unless COND' with unless: true), or '' without a condition."""
    if not rule.get('cond'):
        return ''
    return ' %s %s' % ('unless' if rule.get('unless') else 'if', rule['cond'])


def _acls_and_table(out, sources, where, item):
    """A section's stick table and ACLs. '--' ends an ACL's flags: a value that starts with '-' (say '-f') is a
    pattern, never a flag. HAProxy reads at most 64 words a line: long lists go on several lines of the same ACL
    (OR-ed)."""
    table = item.get('stick_table')
    if table:
        words = ['stick-table', 'type', table['type']]
        if table.get('len') is not None:
            words += ['len', str(int(table['len']))]
        words += ['size', str(table['size'])]
        if table.get('expire') is not None:
            words += ['expire', str(table['expire'])]
        if table.get('store'):
            words += ['store', ','.join(table['store'])]
        out.append('    ' + ' '.join(words))
        sources[len(out)] = where + '.stick_table'
    for aindex, acl in enumerate(item.get('acls') or []):
        values = [haproxy_word(v) for v in acl.get('values') or []]
        head = [acl['criterion']] + [acl_flag(flag) for flag in acl.get('flags') or []]
        for first in range(0, len(values), VALUES_PER_LINE) if values else [0]:
            chunk = values[first:first + VALUES_PER_LINE]
            out.append('    acl %s %s' % (acl['name'], ' '.join(head + (['--'] + chunk if chunk else []))))
            sources[len(out)] = '%s.acls[%d]' % (where, aindex)


def _directives(out, sources, where, item, suffix='.directives'):
    """A section's directives, as written."""
    for dindex, line in enumerate(item.get('directives') or []):
        out.append('    ' + line.strip())
        sources[len(out)] = '%s%s[%d]' % (where, suffix, dindex)


def _rules(out, sources, where, item, keys):
    """The rule lists ``keys`` of a section, as '<keyword> [phase] <action> [args] [if|unless cond]'."""
    keywords = {key: keyword for key, keyword, _kinds in RULES}
    for key in keys:
        for rindex, rule in enumerate(item.get(key) or []):
            words = [keywords[key]] + [rule[k] for k in ('phase', 'action', 'args') if rule.get(k)]
            out.append('    ' + ' '.join(str(w) for w in words) + _cond(rule))
            sources[len(out)] = '%s.%s[%d]' % (where, key, rindex)


def _render(config, header, sources):
    g = dict(stats_socket=ADMIN_SOCKET, state_file=STATE_FILE,
             timeout_connect=5000, timeout_client=50000, timeout_server=50000, maxconn=4096)
    g.update({k: v for k, v in (config.get('global') or {}).items() if v is not None})
    out = ['# ' + line for line in (header or '').splitlines()]
    out += [
        'global',
        '    log /dev/log local0',
        '    log /dev/log local1 notice',
        '    chroot /var/lib/haproxy',
        # expose-fd listeners: a reloading master hands the listening sockets to the new worker (seamless reload)
        '    stats socket %s mode 600 level admin expose-fd listeners' % haproxy_path(g['stats_socket']),
        '    stats timeout 30s',
        '    user haproxy',
        '    group haproxy',
        '    maxconn %d' % int(g['maxconn']),
        '    server-state-file %s' % haproxy_path(g['state_file']),
    ]
    if has_tls(config):
        profile = TLS_PROFILES[g.get('tls_profile') or 'intermediate']
        if profile['ciphers']:
            out.append('    ssl-default-bind-ciphers %s' % profile['ciphers'])
        out += ['    ssl-default-bind-ciphersuites %s' % TLS13_SUITES,
                # No session tickets: their key never rotates while the process lives, which voids forward secrecy.
                '    ssl-default-bind-options ssl-min-ver %s no-tls-tickets' % profile['min_version']]
    _directives(out, sources, VAR + 'global', {'directives': config.get('global_directives')}, '_directives')
    out += [
        '',
        'defaults',
        '    log global',
        '    mode http',
        '    option httplog',
        '    option dontlognull',
        '    load-server-state-from-file global',
        '    timeout connect %d' % int(g['timeout_connect']),
        '    timeout client %d' % int(g['timeout_client']),
        '    timeout server %d' % int(g['timeout_server']),
    ]
    for code in (400, 403, 408, 500, 502, 503, 504):
        out.append('    errorfile %d /etc/haproxy/errors/%d.http' % (code, code))
    _directives(out, sources, VAR + 'defaults', {'directives': config.get('defaults_directives')}, '_directives')
    for index, item in enumerate(config.get('userlists') or []):
        first = len(out)
        out += ['', 'userlist %s' % item['name']]
        for group in item.get('groups') or []:
            out.append('    group %s%s' % (group['name'], ' users %s' % ','.join(group['users'])
                                           if group.get('users') else ''))
        for user in item.get('users') or []:
            groups = ' groups %s' % ','.join(user['groups']) if user.get('groups') else ''
            password = 'password %s' % user['password'] if user.get('password') is not None else \
                'insecure-password %s' % haproxy_word(str(user['insecure_password']))
            out.append('    user %s %s%s' % (user['name'], password, groups))
        _mark(out, sources, '%suserlists[%d]' % (VAR, index), first)
    for index, item in enumerate(config.get('http_errors') or []):
        first = len(out)
        out += ['', 'http-errors %s' % item['name']]
        for code, path in sorted((item.get('errorfiles') or {}).items(), key=lambda pair: int(pair[0])):
            out.append('    errorfile %d %s' % (int(code), haproxy_path(path)))
            sources[len(out)] = '%shttp_errors[%d].errorfiles.%s' % (VAR, index, code)
        _mark(out, sources, '%shttp_errors[%d]' % (VAR, index), first)
    for index, item in enumerate(config.get('sections') or []):
        first = len(out)
        out += ['', '%s %s' % (item['kind'], item['name'])]
        _directives(out, sources, '%ssections[%d]' % (VAR, index), {'directives': item.get('lines')}, '.lines')
        _mark(out, sources, '%ssections[%d]' % (VAR, index), first)
    for kind, key in (('frontend', 'frontends'), ('listen', 'listens'), ('backend', 'backends')):
        for index, item in enumerate(config.get(key) or []):
            where, first = '%s%s[%d]' % (VAR, key, index), len(out)
            out += ['', '%s %s' % (kind, item['name'])]
            _section(out, sources, where, item, g, kind)
            _mark(out, sources, where, first)
    return '\n'.join(out) + '\n'


def _section(out, sources, where, item, g, kind):
    """The lines of a frontend, a backend or a listen section (both), in the order HAProxy runs them."""
    front, back = kind != 'backend', kind != 'frontend'
    if front:
        out.extend('    bind %s' % bind for bind in item.get('bind') or [])
        out.extend('    bind %s' % tls_bind(item, bind, g) for bind in item.get('tls_bind') or [])
    if item.get('mode'):
        out.append('    mode %s' % item['mode'])
    if back and item.get('balance'):
        out.append('    balance %s' % item['balance'])
    if back and item.get('cookie'):
        out.append('    cookie %s' % item['cookie'])
    # The ACLs before the directives, which may use them (a redirect, an ignore-persist, a stats admin rule).
    _acls_and_table(out, sources, where, item)
    _directives(out, sources, where, item)
    _rules(out, sources, where, item, ('tcp_request',))
    if front:
        out.extend('    ' + line for line in tls_rules(item, g))
    _rules(out, sources, where, item, RULE_KEYS[1:])
    if front:
        for uindex, rule in enumerate(item.get('use_backend') or []):
            out.append('    use_backend %s%s' % (rule['backend'], _cond(rule)))
            sources[len(out)] = '%s.use_backend[%d]' % (where, uindex)
        if item.get('default_backend'):
            out.append('    default_backend %s' % item['default_backend'])
    if not back:
        return
    for kind_word, key in (('stick', 'stick'), ('use-server', 'use_server')):
        for rindex, rule in enumerate(item.get(key) or []):
            head = '%s %s' % (kind_word, rule['action'] if kind_word == 'stick' else rule['server'])
            out.append('    %s%s%s' % (head, ' ' + rule['args'] if rule.get('args') else '', _cond(rule)))
            sources[len(out)] = '%s.%s[%d]' % (where, key, rindex)
    for sindex, server in enumerate(item.get('servers') or []):
        out.append('    ' + ' '.join(server_words(server)))
        sources[len(out)] = '%s.servers[%d]' % (where, sindex)


def server_words(server):
    """The words of a server line."""
    words = ['server', server['name'], '%s:%d' % (server['address'], int(server['port']))]
    if server.get('check'):
        words.append('check')
    if server.get('weight') is not None:
        words += ['weight', str(int(server['weight']))]
    if server.get('maxconn'):
        words += ['maxconn', str(int(server['maxconn']))]
    if server.get('backup'):
        words.append('backup')
    if server.get('cookie') is not None:
        words += ['cookie', haproxy_word(server['cookie'])]
    if server.get('send_proxy_v2'):
        # The PROXY protocol v2 header before the connection's first byte (health checks included): the
        # server learns the client's address. The server must expect it on that port (nginx: proxy_protocol).
        words.append('send-proxy-v2')
    if server.get('ssl'):
        words += server_tls_words(server)
    return words
