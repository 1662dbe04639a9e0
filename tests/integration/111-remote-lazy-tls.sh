#!/usr/bin/env bash
# 110 over TLS: a throwaway CA and a certificate for each host (openssl,
# in the test's work dir); the dump's page server and the destination's
# daemon both use --tls with them. The daemon checks that the source's
# certificate names the source's address; the source checks only that
# the daemon's is signed by the CA (--tls-no-cn-verify: CRIU checks a
# peer's certificate against --address, the source's own address, on
# both ends). Both ends must log a completed
# TLS handshake, then the same checks as 110 follow.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
command -v openssl >/dev/null || lz_skip "no openssl to make the test certificates"
"$CRIU" --help 2>&1 | grep -q -- --tls-cacert || lz_skip "this criu was built without gnutls (no --tls)"
W=$(lz_workdir)
rm_tls_certs "$W/tls" || lz_fail "openssl could not make the certificates: $(tail -3 "$W/tls/openssl.log")"
RM_DUMP_ARGS=(--tls --tls-cacert "$W/tls/ca.pem" --tls-cert "$W/tls/src.pem" --tls-key "$W/tls/src-key.pem"
	--tls-no-cn-verify)
RM_LAZY_ARGS=(--tls --tls-cacert "$W/tls/ca.pem" --tls-cert "$W/tls/dst.pem" --tls-key "$W/tls/dst-key.pem")
rm_setup
rm_throttle 400mbit
rm_start_workload "$W" --kinds private --size-mb 128 --holes --children 1 || lz_fail "workload did not start"
rm_migrate "$W" 2
grep -q "tls: TLS handshake completed" "$W/dst/lazy.log" || lz_fail "the daemon's log shows no TLS handshake"
rm_migration_succeeds "$W" 2
grep -q "tls: TLS handshake completed" "$W/src/dump.log" || lz_fail "the dump's log shows no TLS handshake"
lz_log "PASS"
