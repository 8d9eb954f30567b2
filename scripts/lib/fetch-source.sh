#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fetch-source.sh PACKAGE "SUITE..." TARBALL: download Debian's kernel
# source package PACKAGE from the newest version any of SUITEs carries
# (suites the machine's apt does not track, e.g. "experimental sid"), and
# keep only its source tarball as TARBALL (its version next to it, in
# TARBALL without .tar.xz plus .version).  Does nothing when TARBALL
# exists: only the first run touches the network, and the cached tarball
# keeps later runs on the same source.
# fetch-source.sh --newest "SUITE...": print the newest linux-source-X.Y
# package those suites carry, as "PACKAGE VERSION SUITE" (the check for a
# mainline newer than the series' base, scripts/deps.sh).
#
# The machine's apt setup is left alone: apt-get runs with a private,
# temporary state (sources list, package lists, cache).  The mirror is the
# machine's own Debian archive, read from its apt sources; the suites'
# Release files are checked against the Debian archive keyring, and apt
# checks the package against them.
LOG_TAG=deps
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib.sh"

usage="usage: fetch-source.sh PACKAGE \"SUITE...\" TARBALL | --newest \"SUITE...\""
if [ "${1:-}" = --newest ]; then
	pkg='' suites=${2:?$usage} tarball=''
else
	pkg=${1:?$usage} suites=${2:?$usage} tarball=${3:?$usage}
	[ -f "$tarball" ] && exit 0
fi
[[ $suites =~ ^[a-z-]+( [a-z-]+)*$ ]] || die "$usage"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# debian_mirror: the first URI of the machine's Debian archive: the apt
# source (deb822 or one-line) whose suites include the release's codename
# itself (bookworm, not bookworm-security).
debian_mirror() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || return 0
	shopt -s nullglob
	# deb822: one stanza per source, "Key: value" lines.
	awk -v want="$codename" -v RS= '
	{
		types = uris = suites = ""; enabled = "yes"
		n = split($0, l, "\n")
		for (i = 1; i <= n; i++) {
			if (l[i] ~ /^#/) continue
			k = tolower(l[i]); sub(/:.*/, "", k)
			v = l[i]; sub(/^[^:]*:[ \t]*/, "", v)
			if (k == "types") types = v
			else if (k == "uris") uris = v
			else if (k == "suites") suites = v
			else if (k == "enabled") enabled = tolower(v)
		}
		if (enabled != "no" && (" " types " ") ~ / deb / &&
		    (" " suites " ") ~ (" " want " ")) {
			split(uris, u, " "); print u[1]
		}
	}' /etc/apt/sources.list.d/*.sources /dev/null
	# One-line style: "deb [options] URI SUITE COMPONENT...".
	local lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
	[ -r "${lists[0]}" ] || lists=("${lists[@]:1}")
	awk -v want="$codename" '{ sub(/\[[^]]*\]/, "") }
		$1 == "deb" && $3 == want { print $2 }' "${lists[@]}" /dev/null
}

mirror=$(debian_mirror | sed -n 1p)
[ -n "$mirror" ] ||
	die "no Debian archive for this release in /etc/apt/sources.list{,.d/}: cannot fetch ${pkg:-linux-source} from $suites"
[ -r "$keyring" ] || die "$keyring missing: install debian-archive-keyring"

mkdir -p "$SOURCE_CACHE"
tmp=$(mktemp -d "$SOURCE_CACHE/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb"
for suite in $suites; do
	echo "deb [signed-by=$keyring] $mirror $suite main"
done >"$tmp/sources.list"
apt=(apt-get -q -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
	-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
	-o APT::Sandbox::User="$(id -un)" -o Acquire::Languages=none)
apt_cache=(apt-cache "${apt[@]:1}")
# Only the Packages index: no Contents, AppStream or other extra indexes
# the machine's apt may be configured to fetch.
for target in $(apt-config dump | sed -n 's/^Acquire::IndexTargets::deb::\([^:" ]*\) .*/\1/p'); do
	[ "$target" = Packages ] ||
		apt+=(-o "Acquire::IndexTargets::deb::$target::DefaultEnabled=false")
done

# versions_of PACKAGE: the versions the suites carry, newest first (apt's
# own candidate would prefer sid over a newer experimental, whose Release
# says NotAutomatic).
versions_of() {
	"${apt_cache[@]}" show "$1" 2>/dev/null | sed -n 's/^Version: //p' | sort -u | newest_first
}
# newest_first: Debian versions, one a line, newest first.
newest_first() {
	local v out=()
	while read -r v; do
		local i=0
		while [ $i -lt ${#out[@]} ] && dpkg --compare-versions "${out[$i]}" ge "$v"; do
			i=$((i + 1))
		done
		out=("${out[@]:0:$i}" "$v" "${out[@]:$i}")
	done
	[ ${#out[@]} = 0 ] || printf '%s\n' "${out[@]}"
}

apt_update() {
	if ! "${apt[@]}" update >"$tmp/apt.log" 2>&1; then
		sed 's/^/  /' "$tmp/apt.log" >&2
		die "apt-get update of Debian $suites from $mirror failed"
	fi
}

if [ -z "$pkg" ]; then
	apt_update
	newest='' newest_v=''
	for p in $("${apt_cache[@]}" pkgnames linux-source- | grep -E '^linux-source-[0-9]+\.[0-9]+$'); do
		if [ -z "$newest" ] || dpkg --compare-versions "${p#linux-source-}" gt "${newest#linux-source-}"; then
			newest=$p
		fi
	done
	[ -n "$newest" ] || exit 0
	newest_v=$(versions_of "$newest" | head -n1)
	echo "$newest $newest_v"
	exit 0
fi

start=$(date +%s)
mkdir -p "$(dirname "$tarball")"
log "fetching $pkg from Debian $suites at $mirror (once, about 165 MB; kept in $(dirname "$tarball"))"
apt_update
version=$(versions_of "$pkg" | head -n1)
[ -n "$version" ] ||
	die "no Debian suite of $suites carries $pkg any more: a cached $tarball from another machine pins the old source; or move the series to a newer base (docs/posting.md)"
if ! (cd "$tmp/deb" && "${apt[@]}" download "$pkg=$version") >"$tmp/apt.log" 2>&1; then
	sed 's/^/  /' "$tmp/apt.log" >&2
	die "apt-get download $pkg=$version from Debian $suites failed"
fi
grep -E '^(Get|Fetched)' "$tmp/apt.log" | sed 's/^/  /' >&2 || true
debs=("$tmp"/deb/"${pkg}"_*.deb)
[ "$(dpkg-deb -f "${debs[0]}" Version)" = "$version" ] ||
	die "$(basename "${debs[0]}") is not version $version"
member=./usr/src/$(basename "$tarball")
dpkg-deb --fsys-tarfile "${debs[0]}" | tar -x -C "$tmp/deb" "$member" ||
	die "$(basename "${debs[0]}") has no $member"
echo "$version" >"${tarball%.tar.xz}.version"
mv "$tmp/deb/$member" "$tarball"
log "$pkg $version: $tarball ($(du -h "$tarball" | cut -f1), $(elapsed "$start"))"
