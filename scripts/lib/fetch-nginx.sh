#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fetch-nginx.sh: Debian's nginx binary, for the VM's nginx rows
# (qemu/guest/nginx-ktap.sh), unpacked into $NGINX_CACHE/<version>/ with
# `apt-get download` and `dpkg -x`: the package is never installed, so no
# service starts and nothing listens on port 80 of this machine.  Its
# shared libraries come from the machine (scripts/deps.sh installs them);
# qemu/host/mkinitramfs.sh copies the ones `ldd` names.  Prints the path of the
# binary.  Does nothing but print it when that version is already there.
LOG_TAG=deps
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib.sh"

version=$(apt-cache policy nginx 2>/dev/null | sed -n 's/^ *Candidate: //p')
case $version in
'' | '(none)') die "apt knows no nginx package: run apt-get update, or set NGINX_BIN=/path/to/nginx" ;;
esac
dir=$NGINX_CACHE/$version
if [ ! -x "$dir/usr/sbin/nginx" ]; then
	log "fetching Debian's nginx $version (apt-get download, not installed)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# As this user: apt's _apt sandbox cannot write to a private directory.
	(cd "$tmp" && apt-get -qq -o APT::Sandbox::User="$(id -un)" download "nginx=$version") ||
		die "apt-get download nginx=$version failed"
	mkdir -p "$tmp/root"
	dpkg -x "$tmp"/nginx_*.deb "$tmp/root"
	[ -x "$tmp/root/usr/sbin/nginx" ] || die "nginx $version has no usr/sbin/nginx"
	rm -rf "$dir"
	mkdir -p "$NGINX_CACHE"
	mv "$tmp/root" "$dir"
fi
echo "$dir/usr/sbin/nginx"
