# Sourced by scripts/install.sh and scripts/test.sh: installs missing Debian/Ubuntu packages
# named in the arguments' checks, as root (or through sudo when it is there).
#   ensure_pkgs "cmd:pkg-config=pkg-config" "pc:dbus-1=libdbus-1-dev" …
# Each argument is KIND:WHAT=PACKAGE with KIND cmd (a command on PATH), pc (a pkg-config
# module), py (a module the system python3 imports) or file (a path that must exist).
ensure_pkgs() {
  local need=() spec kind what pkg
  for spec in "$@"; do
    kind=${spec%%:*}; what=${spec#*:}; pkg=${what#*=}; what=${what%%=*}
    case $kind in
      cmd) command -v "$what" >/dev/null 2>&1 || need+=("$pkg") ;;
      pc) pkg-config --exists "$what" 2>/dev/null || need+=("$pkg") ;;
      py) /usr/bin/python3 -c "import $what" >/dev/null 2>&1 || need+=("$pkg") ;;
      file) [ -e "$what" ] || need+=("$pkg") ;;
    esac
  done
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=sudo; else
      echo "warning: missing ${need[*]} (install them with apt-get as root)" >&2
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: missing ${need[*]} (no apt-get here: install them with your package manager)" >&2
    return 0
  fi
  echo "== installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
}

# What the desktop window needs to be shown and screenshotted under Xvfb (desktop/test.sh):
# the X server, ImageMagick's import, Mesa's software OpenGL and the X libraries winit opens.
DESKTOP_PKGS=(
  "cmd:Xvfb=xvfb" "cmd:import=imagemagick"
  "file:/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so=libgl1-mesa-dri"
  "file:/usr/lib/x86_64-linux-gnu/libEGL.so.1=libegl1"
  "file:/usr/lib/x86_64-linux-gnu/libGL.so.1=libgl1"
  "file:/usr/lib/x86_64-linux-gnu/libxkbcommon-x11.so.0=libxkbcommon-x11-0"
  "file:/usr/lib/x86_64-linux-gnu/libXcursor.so.1=libxcursor1"
  "file:/usr/lib/x86_64-linux-gnu/libXrandr.so.2=libxrandr2"
  "file:/usr/lib/x86_64-linux-gnu/libXi.so.6=libxi6"
)
