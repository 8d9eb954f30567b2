# Shared settings and helpers for the build/boot scripts; source, don't run.
# Every path and knob can be overridden from the environment (or make).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
PATCH_DIR=${PATCH_DIR:-$REPO/kernel-patches}
# Empty: Debian's linux-source-6.12 package.  Otherwise a kernel tree that
# is only ever read; the series is applied to a copy under $BUILD_DIR.
KERNEL_SRC=${KERNEL_SRC:-}
DEB_SOURCE_PKG=${DEB_SOURCE_PKG:-linux-source-6.12}
JOBS=${JOBS:-$(nproc)}
# Kernels the VM runs ("debug": the patched tree with qemu/debug.config);
# "bisect" is a build-only tree (scripts/series.sh).
VARIANTS="baseline patched debug bisect"

# All trees sit at the same depth below $BUILD_DIR
# (<variant>/src, <variant>/obj), so with CCACHE_BASEDIR the compiler sees
# identical relative paths and ccache shares every unchanged object.
export CCACHE_BASEDIR=$BUILD_DIR
export CCACHE_NOHASHDIR=1

log() { printf '[%s] %s\n' "${LOG_TAG:-vmtest}" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${LOG_TAG:-vmtest}" "$*" >&2; exit 1; }

# Seconds since the epoch -> "1m05s".
elapsed() {
	local s=$(( $(date +%s) - $1 ))
	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

check_variant() {
	case " $VARIANTS " in
	*" $1 "*) ;;
	*) die "unknown variant '$1' (expected one of: $VARIANTS)" ;;
	esac
}
