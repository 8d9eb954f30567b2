# shellcheck shell=bash
# The --help of every script: sourced first, it prints the sourcing
# script's leading comment (after the shebang) and exits 0 when the first
# argument is -h or --help, before anything is checked, installed or built.
case ${1:-} in
-h | --help)
	awk 'NR == 1 && /^#!/ { next }
		/^# (shellcheck |SPDX-License-Identifier:)/ { next }
		!/^#/ { exit }
		{ sub(/^# ?/, ""); print }' "$0"
	exit 0
	;;
esac
