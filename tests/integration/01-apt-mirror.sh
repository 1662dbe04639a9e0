#!/usr/bin/env bash
# scripts/apt-mirror.sh, which scripts/build-criu.sh asks for the Debian
# mirror to download CRIU from: synthetic apt sources (one-line and deb822,
# options, comments, disabled entries, security and other archives,
# file:/mirror+ URIs) give the mirrors apt itself would use, in apt's
# order; DEBIAN_MIRROR wins; deb.debian.org only when nothing is
# configured. Then this machine's own sources. No root needed.
# timeout: 60
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/scripts/apt-mirror.sh"

W=$(lz_workdir)
PASS=0 FAILS=0

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		PASS=$((PASS + 1))
		lz_log "ok: $1"
	else
		FAILS=$((FAILS + 1))
		lz_log "FAIL: $1: expected [$2], got [$3]"
	fi
}

# case_dir NAME: a fresh etc/apt-like directory W/NAME with sources.list.d
case_dir() {
	D=$W/$1
	mkdir -p "$D/sources.list.d"
}

# mirrors_of DIR: the URIs apt_debian_mirrors finds in DIR, space-separated
mirrors_of() { apt_debian_mirrors "$1/sources.list" "$1/sources.list.d" 2>"$1/stderr" | cut -f1 | xargs; }

# 1. this machine's kind of deb822 file: main archive plus security
case_dir deb822
cat >"$D/sources.list.d/debian.sources" <<'EOF'
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main
EOF
check "deb822: main archive, not security" "http://deb.example.org/debian" "$(mirrors_of "$D")"
check "deb822: where and why" "http://deb.example.org/debian	$D/sources.list.d/debian.sources:1 (suite bookworm)" \
	"$(apt_debian_mirrors "$D/sources.list" "$D/sources.list.d" 2>/dev/null)"

# 2. one-line entries with options, comments and a trailing comment
case_dir oneline
cat >"$D/sources.list" <<'EOF'
# deb http://commented.example/debian bookworm main
   # deb http://indented-comment.example/debian bookworm main
deb-src [ arch=amd64 signed-by=/usr/share/keyrings/k.gpg ] http://src.example/debian/ trixie main # trailing
deb [arch=amd64] http://bin.example/debian stable main contrib
deb http://sec.example/debian-security bookworm-security main
EOF
check "one-line: options, comments, slash" "http://src.example/debian http://bin.example/debian" "$(mirrors_of "$D")"

# 3. disabled entries and files apt does not read
case_dir disabled
cat >"$D/sources.list.d/a.sources" <<'EOF'
Types: deb
URIs: http://off.example/debian
Suites: bookworm
Enabled: no

types: deb
uris: http://on.example/debian
suites: bookworm
signed-by:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBFyy
 -----END PGP PUBLIC KEY BLOCK-----
EOF
echo "deb http://disabled-file.example/debian bookworm main" >"$D/sources.list.d/x.list.disabled"
echo "deb http://backup.example/debian bookworm main" >"$D/sources.list.d/x.list~"
printf 'Types: deb\nURIs: http://save.example/debian\nSuites: bookworm\n' >"$D/sources.list.d/y.sources.save"
check "Enabled: no, lower-case fields, multi-line field, ignored file names" "http://on.example/debian" "$(mirrors_of "$D")"

# 4. nothing of a Debian release: security/updates only, other archives
case_dir none
cat >"$D/sources.list.d/other.sources" <<'EOF'
Types: deb
URIs: https://deb.nodesource.example/node_20.x
Suites: nodistro
Components: main

Types: deb
URIs: http://sec.example/debian-security
Suites: bookworm-security
EOF
printf 'deb http://up.example/debian bookworm-updates main\ndeb http://ppa.example/ubuntu jammy main\n' \
	>"$D/sources.list.d/more.list"
echo "deb http://flat.example/repo ./" >>"$D/sources.list.d/more.list"
check "security, updates, other archives: no mirror" "" "$(mirrors_of "$D")"
check "nothing configured: deb.debian.org" \
	"http://deb.debian.org/debian	apt's sources name no Debian archive; the default" \
	"$(DEBIAN_MIRROR='' debian_mirrors "$D/sources.list" "$D/sources.list.d" 2>/dev/null)"
check "no sources at all: deb.debian.org" "http://deb.debian.org/debian" \
	"$(DEBIAN_MIRROR='' debian_mirrors "$W/nothing/sources.list" "$W/nothing/sources.list.d" 2>/dev/null | cut -f1)"

# 5. URIs curl cannot fetch are skipped, with the reason on stderr; file:
#    and mirror+file: work when the mirror is there
case_dir uris
mkdir -p "$W/localmirror/pool"
printf '# a list\nmirror+http://nested.example/list\nhttp://listed.example/debian\tpriority:1\n' >"$W/mirrors.txt"
cat >"$D/sources.list" <<EOF
deb mirror+http://mirrors.example/list.txt bookworm main
deb mirror://mirrors.example/list.txt bookworm main
deb tor+http://onion.example/debian bookworm main
deb cdrom:[Debian GNU/Linux 12]/ bookworm main
deb file:/nonexistent/mirror bookworm main
deb file:$W/localmirror bookworm main
deb file://$W/localmirror/ sid main
deb mirror+file:$W/mirrors.txt bookworm main
deb http://last.example/debian bookworm main
EOF
check "file:, mirror+file: kept, mirror+http/mirror/tor/cdrom/missing file: skipped" \
	"file://$W/localmirror http://listed.example/debian http://last.example/debian" "$(mirrors_of "$D")"
check "five skips explained on stderr" 5 "$(grep -c '^apt-mirror: skipped' "$D/stderr")"
grep -q "mirror+http://mirrors.example/list.txt .*set DEBIAN_MIRROR" "$D/stderr"
check "mirror+http: the reason names DEBIAN_MIRROR" 0 $?

# 6. apt's order: sources.list, then sources.list.d by name, .list and
#    .sources interleaved; several URIs and suites; duplicates once
case_dir order
echo "deb http://first.example/debian bookworm main" >"$D/sources.list"
printf 'Types: deb-src deb\nURIs: http://b1.example/debian http://b2.example/debian\nSuites: bookworm-updates sid\n' \
	>"$D/sources.list.d/b.sources"
echo "deb http://a.example/debian bookworm main" >"$D/sources.list.d/a.list"
echo "deb http://first.example/debian/ trixie main" >"$D/sources.list.d/c.list"
check "order and duplicates" "http://first.example/debian http://a.example/debian http://b1.example/debian http://b2.example/debian" \
	"$(mirrors_of "$D")"

# 7. DEBIAN_MIRROR wins over everything
check "DEBIAN_MIRROR wins" "http://override.example/debian	set by DEBIAN_MIRROR" \
	"$(DEBIAN_MIRROR=http://override.example/debian/ debian_mirrors "$D/sources.list" "$D/sources.list.d")"

# 8. this machine: apt's configured sources (through apt-config)
here=$(DEBIAN_MIRROR='' debian_mirrors 2>"$W/here.stderr")
lz_log "this machine: $(head -1 <<<"$here" | tr '\t' ' ')"
bad=$(cut -f1 <<<"$here" | grep -cvE '^(https?|ftp|file)://')
check "this machine: every mirror is one curl can fetch" 0 "$bad"

echo "$PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
