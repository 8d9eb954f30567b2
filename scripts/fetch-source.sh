#!/usr/bin/env bash
# fetch-source.sh PACKAGE SUITE TARBALL: download Debian's kernel source
# package PACKAGE from SUITE, a suite the machine's apt does not track (e.g.
# sid), and keep only its source tarball as TARBALL (its version next to it,
# in TARBALL without .tar.xz plus .version).  Does nothing when TARBALL
# exists: only the first run touches the network.
#
# The machine's apt setup is left alone: apt-get runs with a private,
# temporary state (sources list, package lists, cache).  The mirror is the
# machine's own Debian archive, read from its apt sources; the suite's
# Release file is checked against the Debian archive keyring, and apt checks
# the package against it.
LOG_TAG=deps
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

usage="usage: fetch-source.sh PACKAGE SUITE TARBALL"
pkg=${1:?$usage} suite=${2:?$usage} tarball=${3:?$usage}
[ -f "$tarball" ] && exit 0
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
	die "no Debian archive for this release in /etc/apt/sources.list{,.d/}: cannot fetch $pkg from $suite"
[ -r "$keyring" ] || die "$keyring missing: install debian-archive-keyring"

mkdir -p "$SOURCE_CACHE"
tmp=$(mktemp -d "$SOURCE_CACHE/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$tmp/sources.list"
apt=(apt-get -q -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
	-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
	-o APT::Sandbox::User="$(id -un)" -o Acquire::Languages=none)
# Only the Packages index: no Contents, AppStream or other extra indexes
# the machine's apt may be configured to fetch.
for target in $(apt-config dump | sed -n 's/^Acquire::IndexTargets::deb::\([^:" ]*\) .*/\1/p'); do
	[ "$target" = Packages ] ||
		apt+=(-o "Acquire::IndexTargets::deb::$target::DefaultEnabled=false")
done

start=$(date +%s)
log "fetching $pkg from Debian $suite at $mirror (once, about 165 MB; kept in $SOURCE_CACHE)"
if ! "${apt[@]}" update >"$tmp/apt.log" 2>&1; then
	sed 's/^/  /' "$tmp/apt.log" >&2
	die "apt-get update of Debian $suite from $mirror failed"
fi
if ! (cd "$tmp/deb" && "${apt[@]}" download "$pkg") >"$tmp/apt.log" 2>&1; then
	sed 's/^/  /' "$tmp/apt.log" >&2
	die "apt-get download $pkg from Debian $suite failed"
fi
grep -E '^(Get|Fetched)' "$tmp/apt.log" | sed 's/^/  /' >&2 || true
debs=("$tmp"/deb/"${pkg}"_*.deb)
version=$(dpkg-deb -f "${debs[0]}" Version)
member=./usr/src/$(basename "$tarball")
dpkg-deb --fsys-tarfile "${debs[0]}" | tar -x -C "$tmp/deb" "$member" ||
	die "$(basename "${debs[0]}") has no $member"
echo "$version" >"${tarball%.tar.xz}.version"
mv "$tmp/deb/$member" "$tarball"
log "$pkg $version: $tarball ($(du -h "$tarball" | cut -f1), $(elapsed "$start"))"
