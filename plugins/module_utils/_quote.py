# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rendering layer: typed values, and one quote function per target language.

Every user value that reaches a configuration, a unit or a script goes through one of the functions below.
Each raises ``Unsafe`` (a ValueError) with a sentence about the value when it has no safe rendering in that
language; the callers prefix the variable's path. The preflight filters and the modules call the same
functions, so the controller refuses exactly what the renderer could not write.

The rule: refuse only what has no safe rendering; quote or escape the rest.

- HAProxy (haproxy.cfg): a line is a directive, so a line end or another control character has no rendering.
  Anything else is written bare when it is a plain word, else in single quotes (nothing is interpreted inside;
  a single quote is written as ``'\\''``, as in a shell).
- syslog-ng: double-quoted strings; ``\\`` and ``"`` are escaped, control characters become ``\\n``, ``\\t``,
  ``\\xHH``, and a backtick is doubled (a lone backtick starts a substitution of a global or environment value).
- nginx: double-quoted strings; ``\\`` and ``"`` are escaped. A ``$`` starts a variable in every directive that
  takes one and nginx has no escape for it, and control characters have no place in a path or URL: refused.
- systemd units: ``%`` is a specifier (written ``%%``); a line end, a trailing backslash (a continuation) or NUL
  have no rendering in a value. Paths and command arguments are quoted per systemd.syntax(7).
- shell (bash): single quotes, with ``'\\''`` for a single quote; NUL has no rendering.
"""

from __future__ import annotations

import ipaddress
import re


class Unsafe(ValueError):
    """A value that has no safe rendering (or is not of its type). The message names the value, not its path."""


CONTROL = re.compile(r'[\x00-\x1f\x7f]')
IFNAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}')
DNS_LABEL = re.compile(r'(?!-)[A-Za-z0-9-]{1,63}(?<!-)')
UNIT_NAME = re.compile(r'[A-Za-z0-9:_.\\@-]{1,250}\.(service|socket|timer|target|path|mount)')


def fullmatch(regex, value):
    """True when ``value`` is a string that ``regex`` matches whole (no trailing newline slips past ``$``)."""
    return isinstance(value, str) and re.fullmatch(regex, value) is not None


def errors(where, check, *args, **kwargs):
    """[] when ``check(*args)`` accepts, else ['<where>: <why>']: the preflight form of every check here."""
    try:
        check(*args, **kwargs)
    except Unsafe as exc:
        return ['%s: %s' % (where, exc)]
    return []


# --- typed values ---------------------------------------------------------------------------------------------

def text(value, what='value', empty=False):
    """A string without control characters (no line end, no NUL)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Unsafe('%r must be a string' % (value,))
    value = str(value)
    if not value and not empty:
        raise Unsafe('%s must not be empty' % what)
    if CONTROL.search(value):
        raise Unsafe('%r must not contain a line end, a tab or another control character' % (value,))
    return value


def abs_path(value, what='path'):
    """An absolute, normalised path: no control characters, no '.' or '..' components, not '/' itself."""
    value = text(value, what)
    if not value.startswith('/'):
        raise Unsafe('%r must be an absolute path' % (value,))
    parts = value.strip('/').split('/')
    if value.rstrip('/') == '' or any(part in ('.', '..') for part in parts) or '//' in value:
        raise Unsafe('%r must be a normalised absolute path other than / (no "//", "." or "..")' % (value,))
    return value


def interface_name(value):
    if not fullmatch(IFNAME, value) or value in ('.', '..'):
        raise Unsafe('%r is not an interface name (1-15 characters of A-Z a-z 0-9 _ . -, not starting with . or -)'
                     % (value,))
    return value


def ip_address(value, scope=False):
    """A bare IPv4 or IPv6 address (compressed form returned). Python accepts any text after '%' as an IPv6
    scope; here a scope is refused, or with ``scope=True`` must be an interface name."""
    if not isinstance(value, str) or value != value.strip() or '/' in value or not value:
        raise Unsafe('%r is not a bare IP address (no prefix length, no spaces)' % (value,))
    address, sep, zone = value.partition('%')
    if sep:
        if not scope:
            raise Unsafe('%r has a scope ("%%..."); give the address alone' % (value,))
        try:
            interface_name(zone)
        except Unsafe:
            raise Unsafe('%r: the scope after "%%" must be an interface name' % (value,)) from None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise Unsafe('%r is not a valid IPv4 or IPv6 address' % (value,)) from None
    if sep and parsed.version != 6:
        raise Unsafe('%r: only IPv6 addresses take a scope' % (value,))
    return str(parsed) + sep + zone


def ip_network(value):
    """An IPv4 or IPv6 address, or a network in CIDR notation (host bits allowed, as nginx and HAProxy take them);
    the compressed form is returned. Only hex digits, '.', ':' and '/' can pass, which every target language takes
    as one bare word."""
    if not isinstance(value, str) or value.count('/') > 1:
        raise Unsafe('%r is not an IP address or network (address/prefix length)' % (value,))
    address, sep, length = value.partition('/')
    if sep and not fullmatch(r'[0-9]{1,3}', length):
        raise Unsafe('%r: the prefix length after "/" must be a number' % (value,))
    try:
        parsed = ipaddress.ip_address(ip_address(address))
    except Unsafe as exc:
        raise Unsafe('%r is not an IP address or network: %s' % (value, exc)) from None
    if sep and int(length) > parsed.max_prefixlen:
        raise Unsafe('%r: the prefix length must be at most %d' % (value, parsed.max_prefixlen))
    return '%s/%s' % (parsed, int(length)) if sep else str(parsed)


def dns_name(value, trailing_dot=True):
    """A DNS host name: labels of letters, digits and hyphens."""
    if not isinstance(value, str) or not value or len(value) > 254:
        raise Unsafe('%r is not a host name' % (value,))
    name = value[:-1] if trailing_dot and value.endswith('.') else value
    if not name or not all(fullmatch(DNS_LABEL, label) for label in name.split('.')):
        raise Unsafe('%r is not a host name (labels of letters, digits and hyphens)' % (value,))
    return value


def host(value):
    """An IP address (no scope) or a DNS host name."""
    try:
        return ip_address(value)
    except Unsafe:
        pass
    try:
        return dns_name(value)
    except Unsafe:
        raise Unsafe('%r is not a host name or IP address' % (value,)) from None


def port(value):
    if isinstance(value, bool) or not fullmatch(r'[0-9]{1,5}', str(value)) or not 1 <= int(value) <= 65535:
        raise Unsafe('%r must be a port from 1 to 65535' % (value,))
    return int(value)


def unit_name(value, suffixes=('service',)):
    match = re.fullmatch(UNIT_NAME, value) if isinstance(value, str) else None
    if not match or match.group(1) not in suffixes or value.startswith('-'):
        raise Unsafe('%r must be a systemd unit name ending in %s' % (value, ' or '.join('.' + s for s in suffixes)))
    return value


# --- HAProxy ----------------------------------------------------------------------------------------------------

HAPROXY_BARE = re.compile(r'[A-Za-z0-9_./:@%+=,^~-]+')


def haproxy_word(value):
    """One argument of a haproxy.cfg line that HAProxy reads back as exactly ``value``."""
    value = text(value)
    if fullmatch(HAPROXY_BARE, value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def haproxy_path(value):
    return haproxy_word(abs_path(value))


_HAPROXY_ESCAPES = {' ': ' ', '\\': '\\', 't': '\t', 'n': '\n', 'r': '\r', '#': '#', "'": "'", '"': '"'}
_HAPROXY_VAR = re.compile(r'\$(\{)?([A-Za-z_][A-Za-z0-9_]*|[.](?:LINE|FILE|SECTION))(?:(\[\*\])?(?(1)(-[^}]*)?\}))?')


def haproxy_split(value):
    """The words HAProxy's configuration parser (parse_line) reads from ``value``, a fragment of a line written in
    haproxy.cfg's own syntax, which is then written as given: blanks separate words; single quotes take everything
    literally; double quotes keep blanks and "#" and expand environment variables ("$NAME", "${NAME}",
    "${NAME-default}", "${NAME[*]}", kept as written in the words returned); outside single quotes a backslash
    escapes a blank, a backslash, "#", a quote (and "$" inside double quotes), makes \\t \\n \\r and \\xHH a
    character, and stays a backslash before anything else (so "\\." in a regular expression is read as written).
    Raises Unsafe where the fragment would not stay one fragment of one line, or HAProxy would refuse it: a line
    break or NUL, an unquoted "#" (the rest would be a comment), an unmatched quote, a bad \\x sequence or variable
    name, or \\x00."""
    if not isinstance(value, str):
        raise Unsafe('must be text, got %r' % (value,))
    words, word, started, index = [], [], False, 0
    squote = dquote = False
    while index < len(value):
        char = value[index]
        if char in '\r\n\0':
            raise Unsafe('%r must stay on one line (no line break or NUL)' % (value,))
        if char == '#' and not (squote or dquote):
            raise Unsafe('%r: an unquoted "#" starts a comment, and HAProxy would drop the rest: quote it or write '
                         '\\#' % (value,))
        if char == '"' and not squote:
            dquote, started = not dquote, True
        elif char == "'" and not dquote:
            squote, started = not squote, True
        elif char == '\\' and not squote:
            follow = value[index + 1:index + 2]
            if follow == 'x':
                if not re.match(r'[0-9A-Fa-f]{2}', value[index + 2:index + 4]):
                    raise Unsafe('%r: "\\x" must be followed by two hexadecimal digits' % (value,))
                decoded = chr(int(value[index + 2:index + 4], 16))
                if decoded == '\0':
                    raise Unsafe('%r: "\\x00" would end the word early (HAProxy reads words as C strings)' % (value,))
                word.append(decoded)
                index += 3
            elif follow in _HAPROXY_ESCAPES or (follow == '$' and dquote):
                word.append(_HAPROXY_ESCAPES.get(follow, follow))
                index += 1
            else:
                word.append(char)
            started = True
        elif char in ' \t\f\v' and not (squote or dquote):
            if started:
                words.append(''.join(word))
            word, started = [], False
        elif char == '$' and dquote:
            match = _HAPROXY_VAR.match(value, index)
            if not match or (match.group(1) and not match.group(0).endswith('}')):
                raise Unsafe('%r: "$" in double quotes starts an environment variable: write "\\$" for a dollar '
                             'sign, or a name such as "${NAME}"' % (value,))
            word.append(match.group(0))
            index = match.end() - 1
            started = True
        else:
            word.append(char)
            started = True
        index += 1
    if squote or dquote:
        raise Unsafe('%r has an unmatched %s quote' % (value, 'single' if squote else 'double'))
    if started:
        words.append(''.join(word))
    return words


# --- syslog-ng ---------------------------------------------------------------------------------------------------

_SYSLOG_NG_ESCAPES = {'\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '`': '``'}
# The escapes the syslog-ng lexer knows after a backslash in a double-quoted string.
_SYSLOG_NG_KNOWN = set('anrtv\\"xo')


def _syslog_ng_char(char):
    if char in _SYSLOG_NG_ESCAPES:
        return _SYSLOG_NG_ESCAPES[char]
    if char == '\0':
        raise Unsafe('must not contain a NUL character')
    if CONTROL.match(char):
        return '\\x%02x' % ord(char)
    return char


def syslog_ng_string(value):
    """A double-quoted syslog-ng string that the lexer reads back as exactly ``value``."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == '':
        raise Unsafe('%r must be a non-empty string' % (value,))
    try:
        return '"%s"' % ''.join(_syslog_ng_char(char) for char in str(value))
    except Unsafe as exc:
        raise Unsafe('%r %s' % (value, exc)) from None


_SYSLOG_NG_REFERENCE = re.compile(r'`([A-Za-z_][A-Za-z0-9_.-]*)?`')


def syslog_ng_template(value):
    """A template string as users write it in syslog-ng: their ``\\n``, ``\\t``, ``\\\\``, ``\\"``... escapes are
    kept, a backslash that starts no escape is a backslash, and real quotes, line ends and tabs are escaped. A pair
    of backticks keeps its meaning: around a name, a reference to an @define or environment value (which syslog-ng
    resolves, or refuses when it has none), and an empty pair, one literal backtick. An unmatched backtick, or one
    around anything but a name, is refused: syslog-ng would read the text up to the next backtick as a name. The
    empty template is valid."""
    if not isinstance(value, str):
        raise Unsafe('%r must be a string' % (value,))
    out, index = [], 0
    try:
        while index < len(value):
            char = value[index]
            nxt = value[index + 1] if index + 1 < len(value) else ''
            if char == '\\' and nxt in _SYSLOG_NG_KNOWN and nxt:
                out.append(char + nxt)
                index += 2
                continue
            if char == '`':
                pair = _SYSLOG_NG_REFERENCE.match(value, index)
                if not pair:
                    raise Unsafe('has a backtick that starts no reference: write `NAME` for an @define or '
                                 'environment value, or `` for a backtick')
                out.append(pair.group(0))
                index = pair.end()
                continue
            out.append(_syslog_ng_char(char))
            index += 1
    except Unsafe as exc:
        raise Unsafe('%r %s' % (value, exc)) from None
    return '"%s"' % ''.join(out)


def syslog_ng_path(value):
    return syslog_ng_string(abs_path(value))


# --- nginx ---------------------------------------------------------------------------------------------------------

def nginx_string(value):
    """A double-quoted nginx argument, for directives that expand variables: ``$`` is refused (nginx has no
    escape for it), as are control characters; ``\\`` and ``"`` are escaped."""
    value = text(value)
    if '$' in value:
        raise Unsafe('%r must not contain "$" (nginx reads it as a variable and has no escape for it)' % (value,))
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def nginx_path(value):
    return nginx_string(abs_path(value))


# --- systemd units -------------------------------------------------------------------------------------------------

def systemd_value(value):
    """A unit-file value: specifiers escaped (``%%``); no line end, NUL or trailing backslash (continuation)."""
    value = text(value)
    if value.endswith('\\'):
        raise Unsafe('%r must not end with a backslash (systemd reads it as a continuation line)' % (value,))
    return value.replace('%', '%%')


def _c_escape(value):
    out = []
    for char in value:
        if char in '\\"\'':
            out.append('\\' + char)
        elif char == ' ' or CONTROL.match(char):
            out.append('\\x%02x' % ord(char))
        else:
            out.append(char)
    return ''.join(out)


def systemd_path(value, listed=False):
    """A path as a unit-file value, ``%%`` for specifiers. ``listed``: one path of a whitespace-separated list
    (ReadWritePaths=), where quotes, backslashes and spaces are C-escaped; otherwise the whole rest of the line
    is the path (ConditionPathExists=)."""
    path = systemd_value(abs_path(value))
    if listed:
        return _c_escape(path)
    if path != path.rstrip(' \t'):
        # The rest of the line is the value, and systemd strips blanks at its end: the unit would name another path.
        raise Unsafe('%r must not end with a blank (systemd strips it, and would read another path)' % (value,))
    return path


def systemd_exec_arg(value):
    """One argument of an Exec*= command line: double-quoted with C escapes, ``$$`` and ``%%``."""
    value = text(value, empty=True)
    return '"%s"' % _c_escape(value).replace('%', '%%').replace('$', '$$')


def systemd_run_word(value):
    """One word of a list-valued ``systemd-run --property`` (ReadWritePaths="-/a b" "/c"): double-quoted, with
    ``\\`` and ``\"``. systemd-run expands no specifiers, so ``%`` stays as it is (unlike in a unit file)."""
    value = text(value)
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def systemd_calendar(value):
    """An OnCalendar= expression: the characters systemd.time(7) uses, nothing else."""
    if not fullmatch(r'[A-Za-z0-9 *:,./~+-]{1,128}', value) or value != value.strip():
        raise Unsafe('%r is not a systemd calendar expression (see systemd.time(7), e.g. "*-*-* 03:17:00")'
                     % (value,))
    return value


# --- shell ------------------------------------------------------------------------------------------------------------

def shell_word(value):
    """One bash word that expands to exactly ``value`` (single quotes, ``'\\''`` for a single quote)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Unsafe('%r must be a string' % (value,))
    value = str(value)
    if '\0' in value:
        raise Unsafe('%r must not contain a NUL character' % (value,))
    return "'" + value.replace("'", "'\\''") + "'"
