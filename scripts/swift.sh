# Sourced by the Swift test scripts: a Debian trixie chroot with Swift 6.0 (bookworm has no
# Swift; see ENVIRONMENT.md), made once and cached, and a way to run a Swift package in it.
#   . scripts/swift.sh; swift_chroot_ensure; swift_run PKG_DIR LIB_DIR swift test
# LICHEN_SWIFT_CHROOT moves the cache (default /var/cache/lichen-swift-chroot). Needs root.
SWIFT_CHROOT=${LICHEN_SWIFT_CHROOT:-/var/cache/lichen-swift-chroot}
SWIFT_MIRROR=${LICHEN_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Makes the chroot when it is missing or half made (the marker is written last).
swift_chroot_ensure() {
  if [ -f "$SWIFT_CHROOT/.lichen-ready" ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "swift: making the trixie chroot needs root (or set LICHEN_SWIFT_CHROOT to a ready one)" >&2
    return 1
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
      || { echo "swift: could not install debootstrap" >&2; return 1; }
  }
  rm -rf "$SWIFT_CHROOT"
  mkdir -p "$SWIFT_CHROOT"
  echo "swift: making a trixie chroot in $SWIFT_CHROOT (once; about 3 GB)"
  debootstrap --variant=minbase trixie "$SWIFT_CHROOT" "$SWIFT_MIRROR" >"$SWIFT_CHROOT.log" 2>&1 || {
    tail -20 "$SWIFT_CHROOT.log" >&2; return 1; }
  cp /etc/resolv.conf "$SWIFT_CHROOT/etc/resolv.conf" 2>/dev/null || true
  chroot "$SWIFT_CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends swiftlang libc6-dev binutils gcc libstdc++-14-dev libdbus-1-3 >/dev/null' \
    >>"$SWIFT_CHROOT.log" 2>&1 || { tail -20 "$SWIFT_CHROOT.log" >&2; return 1; }
  touch "$SWIFT_CHROOT/.lichen-ready"
}

# swift_run PKG_DIR LIB_DIR CMD...: copies the package (its sources fresh each time, its .build
# kept so builds are incremental) and the library directory into the chroot under a name of
# their own (under /lichen-jobs in the chroot; SWIFT_JOB, default the package folder's name, so two packages never share one),
# then runs CMD in the package with the library on the linker and loader paths.
swift_run() {
  local pkg=$1 lib=$2; shift 2
  local job=${SWIFT_JOB:-$(basename "$(cd "$pkg" && pwd)")}
  local inside=/lichen-jobs/$job
  mkdir -p "$SWIFT_CHROOT$inside" "$SWIFT_CHROOT$inside.lib"
  find "$SWIFT_CHROOT$inside" "$SWIFT_CHROOT$inside.lib" -mindepth 1 -maxdepth 1 ! -name .build \
    -exec rm -rf {} +
  (cd "$pkg" && tar --exclude=.build -cf - .) | (cd "$SWIFT_CHROOT$inside" && tar -xf -)
  cp -a "$lib"/. "$SWIFT_CHROOT$inside.lib/"
  mountpoint -q "$SWIFT_CHROOT/proc" || mount -t proc proc "$SWIFT_CHROOT/proc" 2>/dev/null || true
  chroot "$SWIFT_CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LD_LIBRARY_PATH="$inside.lib" LIBRARY_PATH="$inside.lib" LICHEN_LIB_DIR="$inside.lib" \
    sh -c "cd $inside && $*"
}

# uniffi quotes a Swift keyword used as a callback method's name (`open`) into the C header
# as well, which clang rejects. The interface avoids keywords (BleCentral.connect); this says
# so plainly if one comes back, instead of a clang error deep in the build.
swift_check_header() {
  if grep -v '^[[:space:]]*//' "$1" | grep -q '`'; then
    echo "$1 has a backticked name: a callback method named like a Swift keyword? rename it" >&2
    grep -n '`' "$1" | grep -v '^[0-9]*:[[:space:]]*//' >&2
    return 1
  fi
}
