# shellcheck shell=bash
# Which Debian mirror apt uses, read from apt's own sources. Sourced by
# scripts/build-criu.sh (and its test, tests/integration/01-apt-mirror.sh):
#
#   debian_mirrors [SOURCELIST [SOURCEPARTS]]
#
# prints the mirrors to download from, in order, each "URI<TAB>why":
# $DEBIAN_MIRROR alone if it is set, else those of apt_debian_mirrors, else
# deb.debian.org (only if apt has no Debian archive configured).
#
#   apt_debian_mirrors [SOURCELIST [SOURCEPARTS]]
#
# prints one line per Debian archive that apt is configured with and that
# curl can fetch from, in apt's order, duplicates removed:
#
#   URI<TAB>FILE:LINE (suite SUITE)
#
# and, on stderr, why each other entry was left out. SOURCELIST and
# SOURCEPARTS default to apt's Dir::Etc::sourcelist and ::sourceparts
# (/etc/apt/sources.list and /etc/apt/sources.list.d).
#
# An entry counts if it is enabled, of type deb or deb-src, and names a
# Debian release (a codename such as bookworm, or stable, sid, ...) as a
# suite: bookworm-security, bookworm-updates and other archives (nodesource,
# a PPA) are not a Debian archive whose pool holds the source packages.
# Both formats are read: one-line "deb [options] URI suite components" in
# *.list, and deb822 stanzas (Types:, URIs:, Suites:, Enabled:) in *.sources.

# The suites that are a Debian release, by codename or by alias
_apt_release_suite() {
	case "$1" in
	sid | experimental | rc-buggy | unstable | testing | stable | oldstable | oldoldstable) return 0 ;;
	buzz | rex | bo | hamm | slink | potato | woody | sarge | etch | lenny | squeeze) return 0 ;;
	wheezy | jessie | stretch | buster | bullseye | bookworm | trixie | forky | duke) return 0 ;;
	esac
	return 1
}

# The files apt reads, in its order: SOURCELIST, then every *.list and
# *.sources of SOURCEPARTS by name (apt ignores other names, such as
# foo.list.disabled or foo.list~).
_apt_source_files() {
	local list=$1 parts=$2 f
	[ -f "$list" ] && echo "$list"
	[ -d "$parts" ] || return 0
	for f in "$parts"/*; do
		case "${f##*/}" in
		*[!A-Za-z0-9_.-]*) continue ;;
		*.list | *.sources) [ -f "$f" ] && echo "$f" ;;
		esac
	done
	return 0
}

# _apt_entries FILE: "URI<TAB>SUITE<TAB>FILE:LINE" for every (URI, suite)
# of the enabled deb/deb-src entries of FILE.
_apt_entries() {
	case "$1" in
	*.sources) _apt_entries_deb822 "$1" ;;
	*) _apt_entries_oneline "$1" ;;
	esac
}

# One-line style: '#' starts a comment anywhere; words are split at blanks
# except inside [...] or "..." (as apt's ParseQuoteWord does: cdrom: URIs
# hold brackets); a word in brackets right after the type holds options.
_apt_entries_oneline() {
	awk -v OFS='\t' '
	function words(line, w,  n, i, c, q, cur) {
		n = 0
		cur = ""
		q = ""
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (q == "" && (c == " " || c == "\t")) {
				if (cur != "")
					w[++n] = cur
				cur = ""
				continue
			}
			if (q == "" && c == "[")
				q = "]"
			else if (q == "" && c == "\"")
				q = "\""
			else if (c == q)
				q = ""
			cur = cur c
		}
		if (cur != "")
			w[++n] = cur
		return n
	}
	{
		sub(/#.*/, "")
		n = words($0, w)
		i = 2
		if (substr(w[2], 1, 1) == "[")
			i = 3
		if ((w[1] == "deb" || w[1] == "deb-src") && n >= i + 1)
			print w[i], w[i + 1], FILENAME ":" FNR
		split("", w)
	}' "$1"
}

# deb822 style: stanzas separated by blank lines, "Field: value" lines,
# continuation lines start with a blank, comment lines with '#'; field
# names are case-insensitive; URIs, Suites and Types list several values.
_apt_entries_deb822() {
	awk -v OFS='\t' '
	function flush(  nu, ns, i, j, u, s) {
		if (start && tolower(f["enabled"]) !~ /^(no|false|off|0|disable|disabled)$/ &&
		    f["types"] ~ /(^|[ \t])deb(-src)?([ \t]|$)/) {
			nu = split(f["uris"], u, /[ \t]+/)
			ns = split(f["suites"], s, /[ \t]+/)
			for (i = 1; i <= nu; i++)
				for (j = 1; j <= ns; j++)
					if (u[i] != "" && s[j] != "")
						print u[i], s[j], FILENAME ":" start
		}
		split("", f)
		start = 0
		cur = ""
	}
	/^#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ { if (cur != "") f[cur] = f[cur] " " $0; next }
	{
		i = index($0, ":")
		if (!i)
			next
		cur = tolower(substr($0, 1, i - 1))
		v = substr($0, i + 1)
		gsub(/^[ \t]+|[ \t]+$/, "", v)
		f[cur] = v
		if (!start)
			start = FNR
	}
	END { flush() }' "$1"
}

# _apt_fetch_uri URI: the URI curl fetches the archive from, or return 1
# and print why not.
_apt_fetch_uri() {
	local uri=${1%/} path line got
	case "$uri" in
	http://* | https://* | ftp://*) echo "$uri" ;;
	file:* | copy:*)
		# file:/srv/debian or file:///srv/debian
		path=${uri#*:}
		while [ "${path#//}" != "$path" ]; do path=${path#/}; done
		if [ "${path#/}" != "$path" ] && [ -d "$path/pool" ]; then
			echo "file://$path"
		else
			echo "no directory $path/pool"
			return 1
		fi
		;;
	mirror+file:* | mirror+copy:*)
		# a local mirror list: its entries, first one usable wins
		path=${uri#mirror+*:}
		while [ "${path#//}" != "$path" ]; do path=${path#/}; done
		[ -r "$path" ] || {
			echo "cannot read the mirror list $path"
			return 1
		}
		while read -r line _; do
			case "$line" in '' | \#*) continue ;; esac
			case "$line" in mirror*) continue ;; esac
			if got=$(_apt_fetch_uri "$line"); then
				echo "$got"
				return 0
			fi
		done <"$path"
		echo "no usable entry in the mirror list $path"
		return 1
		;;
	mirror:* | mirror+*) echo "a mirror list apt fetches at run time (set DEBIAN_MIRROR instead)" && return 1 ;;
	tor+*) echo "needs apt-transport-tor" && return 1 ;;
	*) echo "a URI curl cannot fetch" && return 1 ;;
	esac
}

apt_debian_mirrors() {
	local list=${1:-} parts=${2:-} SL='' SP='' f uri suite where fetch seen=" "
	if [ -z "$list" ] && command -v apt-config >/dev/null; then
		eval "$(apt-config shell SL Dir::Etc::sourcelist/f SP Dir::Etc::sourceparts/d 2>/dev/null)"
	fi
	list=${list:-${SL:-/etc/apt/sources.list}}
	parts=${parts:-${SP:-/etc/apt/sources.list.d}}
	parts=${parts%/}
	while read -r f; do
		while IFS=$'\t' read -r uri suite where; do
			_apt_release_suite "$suite" || continue
			fetch=$(_apt_fetch_uri "$uri") || {
				echo "apt-mirror: skipped $uri ($where): $fetch" >&2
				continue
			}
			case "$seen" in *" $fetch "*) continue ;; esac
			seen="$seen$fetch "
			printf '%s\t%s (suite %s)\n' "$fetch" "$where" "$suite"
		done < <(_apt_entries "$f")
	done < <(_apt_source_files "$list" "$parts")
}

debian_mirrors() {
	local found
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		printf '%s\tset by DEBIAN_MIRROR\n' "${DEBIAN_MIRROR%/}"
		return 0
	fi
	found=$(apt_debian_mirrors "$@")
	if [ -n "$found" ]; then
		echo "${found//$'\t'/$'\t'from apt\'s sources: }"
	else
		printf '%s\t%s\n' http://deb.debian.org/debian "apt's sources name no Debian archive; the default"
	fi
}
