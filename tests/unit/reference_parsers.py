# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference readers of the target languages, written from each service's parser, for the property tests.

Each reads text the way the service does for the constructs the rendering layer emits, and raises
``Expansion`` where the service would substitute something (a variable, a specifier, a backtick reference):
a rendering that triggers one has changed the value. The differential stage (tests/differential) checks the
same renderings against the real parsers.
"""

from __future__ import annotations

import re


class Expansion(ValueError):
    """The service would expand something here: the value would not be read back as written."""


def haproxy_words(line):
    """haproxy.cfg's line splitter (parse_line): blanks separate words, '#' starts a comment outside quotes,
    single quotes take everything literally, a backslash outside quotes takes the next character, double quotes
    allow backslash escapes and expand $VARS."""
    words, cur, in_word, index = [], [], False, 0
    squote = dquote = False
    while index < len(line):
        char = line[index]
        if squote:
            if char == "'":
                squote = False
            else:
                cur.append(char)
        elif dquote:
            if char == '"':
                dquote = False
            elif char == '\\' and index + 1 < len(line):
                index += 1
                cur.append(line[index])
            elif char == '$':
                raise Expansion('environment variable in double quotes')
            else:
                cur.append(char)
        elif char in ' \t':
            if in_word:
                words.append(''.join(cur))
                cur, in_word = [], False
        elif char == '#':
            break
        else:
            in_word = True
            if char == "'":
                squote = True
            elif char == '"':
                dquote = True
            elif char == '\\' and index + 1 < len(line):
                index += 1
                cur.append(line[index])
            else:
                cur.append(char)
        index += 1
    if squote or dquote:
        raise ValueError('unterminated quote')
    if in_word:
        words.append(''.join(cur))
    return words


def syslog_ng_backticks(text, references=False):
    """syslog-ng's first pass (cfg-lexer-subst): a pair of backticks encloses a reference to a global or
    environment value; an empty pair is one literal backtick. ``references``: a reference stands for a value
    (written as R) instead of raising Expansion."""
    out, index = [], 0
    while index < len(text):
        if text[index] == '`':
            end = text.find('`', index + 1)
            if end < 0:
                raise ValueError('missing closing backtick')
            if end > index + 1 and references:
                out.append('R')
                index = end + 1
                continue
            if end > index + 1:
                raise Expansion('backtick reference %r' % text[index + 1:end])
            out.append('`')
            index = end + 1
        else:
            out.append(text[index])
            index += 1
    return ''.join(out)


_SNG_SIMPLE = {'a': '\a', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}


def syslog_ng_string(text):
    """(value, rest) of the double-quoted string at the start of ``text`` (after the backtick pass), by the
    rules of syslog-ng's lexer (cfg-lex.l): \\a \\n \\r \\t \\v, \\xH(H), \\oO(OO), backslash-newline skipped,
    any other escaped character stands for itself; a raw newline is kept."""
    if not text.startswith('"'):
        raise ValueError('not a string')
    out, index = [], 1
    while index < len(text):
        char = text[index]
        if char == '"':
            return ''.join(out), text[index + 1:]
        if char == '\\' and index + 1 < len(text):
            nxt = text[index + 1]
            if nxt in _SNG_SIMPLE:
                out.append(_SNG_SIMPLE[nxt])
                index += 2
                continue
            hexa = re.match(r'x([0-9a-fA-F]{1,2})', text[index + 1:])
            octal = re.match(r'o([0-7]{1,3})', text[index + 1:])
            if hexa:
                out.append(chr(int(hexa.group(1), 16)))
                index += 1 + len(hexa.group(0))
                continue
            if octal:
                out.append(chr(int(octal.group(1), 8)))
                index += 1 + len(octal.group(0))
                continue
            if nxt == '\n':
                index += 2
                continue
            out.append(nxt)
            index += 2
            continue
        out.append(char)
        index += 1
    raise ValueError('unterminated string')


def syslog_ng_tokens(text, references=False):
    """The statement structure of a syslog-ng configuration: every token, with each string replaced by 'STR'
    (comments dropped). Two configurations that differ only inside strings give the same list. ``references``: as
    for syslog_ng_backticks."""
    text = syslog_ng_backticks(text, references)
    tokens, index = [], 0
    while index < len(text):
        char = text[index]
        if char in ' \t\r\n,':
            index += 1
        elif char == '#':
            end = text.find('\n', index)
            index = len(text) if end < 0 else end
        elif char == '"':
            _value, rest = syslog_ng_string(text[index:])
            tokens.append('STR')
            index = len(text) - len(rest)
        elif char == "'":
            end = text.index("'", index + 1)
            tokens.append('STR')
            index = end + 1
        elif char in '{}();':
            tokens.append(char)
            index += 1
        else:
            match = re.match(r'[^ \t\r\n#\'"(){}\[\];,]+', text[index:])
            tokens.append(match.group(0))
            index += len(match.group(0))
    return tokens


def nginx_string(text):
    """(value, rest) of the double-quoted nginx argument at the start of ``text`` (ngx_conf_read_token): a
    backslash hides the next character from the scanner; the copy turns \\" \\' \\\\ into the character and
    \\t \\r \\n into controls, and keeps other pairs whole. A '$' starts a variable in directives that take them."""
    if not text.startswith('"'):
        raise ValueError('not a string')
    index, quoted = 1, False
    while index < len(text):
        char = text[index]
        if quoted:
            quoted = False
        elif char == '\\':
            quoted = True
        elif char == '"':
            break
        index += 1
    else:
        raise ValueError('unterminated string')
    raw, rest = text[1:index], text[index + 1:]
    out, pos = [], 0
    while pos < len(raw):
        if raw[pos] == '\\' and pos + 1 < len(raw):
            nxt = raw[pos + 1]
            if nxt in '"\'\\':
                out.append(nxt)
                pos += 2
                continue
            if nxt in 'trn':
                out.append({'t': '\t', 'r': '\r', 'n': '\n'}[nxt])
                pos += 2
                continue
        if raw[pos] == '$':
            raise Expansion('nginx variable')
        out.append(raw[pos])
        pos += 1
    return ''.join(out), rest


def systemd_specifiers(text):
    """Unit-file specifier expansion: '%%' is '%', any other '%x' is a specifier."""
    out, index = [], 0
    while index < len(text):
        if text[index] == '%':
            if text[index + 1:index + 2] != '%':
                raise Expansion('specifier %%%s' % text[index + 1:index + 2])
            out.append('%')
            index += 2
        else:
            out.append(text[index])
            index += 1
    return ''.join(out)


_C_ESCAPES = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', '\\': '\\', '"': '"',
              "'": "'", 's': ' '}


def _c_unescape(text):
    out, index = [], 0
    while index < len(text):
        if text[index] == '\\':
            nxt = text[index + 1:index + 2]
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                index += 2
                continue
            hexa = re.match(r'x([0-9a-fA-F]{2})', text[index + 1:])
            if hexa:
                out.append(chr(int(hexa.group(1), 16)))
                index += 4
                continue
            raise ValueError('bad escape')
        out.append(text[index])
        index += 1
    return ''.join(out)


def systemd_exec_word(text):
    """One double-quoted argument of an Exec*= line: specifiers, then '$$' for '$' (another '$' is an
    environment variable), then C escapes inside the quotes."""
    text = systemd_specifiers(text)
    if not (text.startswith('"') and text.endswith('"')) or len(text) < 2:
        raise ValueError('not one quoted word')
    body = text[1:-1]
    if re.search(r'(?<!\\)"', body.replace('\\\\', '')):
        raise ValueError('a quote ends the word early')
    if re.search(r'\$(?!\$)', body.replace('$$', '')):
        raise Expansion('environment variable')
    return _c_unescape(body.replace('$$', '$'))


def systemd_path_list_word(text):
    """One entry of a whitespace-separated path list (ReadWritePaths=): specifiers, then C escapes."""
    text = systemd_specifiers(text)
    if re.search(r'[ \t\n\r"\']', re.sub(r'\\.', '', text)):     # systemd's WHITESPACE, not Unicode's
        raise ValueError('more than one word, or a quote')
    return _c_unescape(text)


def systemd_run_words(text):
    """A list-valued ``systemd-run --property`` (extract_first_word with EXTRACT_UNQUOTE): blanks separate words,
    single and double quotes group, a backslash takes the next character literally; no specifiers, no C escapes."""
    words, cur, in_word, quote, index = [], [], False, None, 0
    while index < len(text):
        char = text[index]
        if char == '\\' and index + 1 < len(text):
            index += 1
            cur.append(text[index])
            in_word = True
        elif quote:
            if char == quote:
                quote = None
            else:
                cur.append(char)
        elif char in '"\'':
            quote, in_word = char, True
        elif char in ' \t\n\r':
            if in_word:
                words.append(''.join(cur))
                cur, in_word = [], False
        else:
            cur.append(char)
            in_word = True
        index += 1
    if quote:
        raise ValueError('unbalanced quotes')
    if in_word:
        words.append(''.join(cur))
    return words
