#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Test fixture: issue (again) the balancer's certificate of one key type from a throw-away CA, as a renewal would:
# the same key, a new random serial, written whole into place (rename). Prints the new serial.
#   opsnotes-test-cert.sh rsa|ecdsa
set -euo pipefail
type=$1
dir='/etc/haproxy/tls certs'            # a space in the path: the runtime API must name it escaped
ca=/root/opsnotes-test-ca
mkdir -p "$ca" "$dir"
cd "$ca"
[ -f ca.key ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj '/CN=opsnotes molecule test CA' 2>/dev/null
if [ ! -f "$type.key" ]; then
    case $type in
        rsa) openssl genrsa -out rsa.key 2048 2>/dev/null ;;
        ecdsa) openssl ecparam -name prime256v1 -genkey -noout -out ecdsa.key ;;
        *) echo "usage: $0 rsa|ecdsa" >&2; exit 2 ;;
    esac
fi
openssl req -new -key "$type.key" -subj /CN=www.example.test -out "$type.csr"
printf 'subjectAltName=DNS:www.example.test,DNS:example.test\n' > "$type.ext"
openssl x509 -req -in "$type.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 5 \
    -extfile "$type.ext" -out "$type.crt" 2>/dev/null
umask 077
cat "$type.crt" ca.pem "$type.key" > "$dir/.www.example.test.$type.pem.new"
mv -f "$dir/.www.example.test.$type.pem.new" "$dir/www.example.test.$type.pem"
openssl x509 -in "$type.crt" -noout -serial | cut -d= -f2
