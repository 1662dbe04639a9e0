#!/usr/bin/env bash
# The plugin exports CRIU's entry point and nothing else: its own functions,
# and those of the libraries linked into it (images/, kernel/), stay hidden,
# so that they can never clash with CRIU's or another plugin's symbols.
# timeout: 30
. "$(dirname "$0")/../lib/common.sh"

SO=$LIBDIR/lazyshm_plugin.so
[ -f "$SO" ] || lz_fail "$SO is not built"
syms=$(nm -D --defined-only "$SO" | awk '{print $3}') || lz_fail "nm cannot read $SO"
[ -n "$syms" ] || lz_fail "nm lists no symbol at all in $SO"
extra=$(grep -vxE 'CR_PLUGIN_DESC' <<<"$syms" | tr '\n' ' ')
[ -z "$extra" ] || lz_fail "the plugin exports internal symbols: $extra"
grep -qx CR_PLUGIN_DESC <<<"$syms" || lz_fail "the plugin does not export CR_PLUGIN_DESC"
lz_log "PASS: $SO exports only CR_PLUGIN_DESC"
