#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine (run by `make setup`; as root, or with sudo available):
#   1. the toolchains and emulators (Debian packages), installed only if missing;
#   2. qemu-plugin.h, for the instruction-counting QEMU plugin (emulation/plugin/icount.c, built
#      on first use): Debian ships no QEMU plugin header, so it is taken from Debian's own qemu
#      source package (a deb-src entry in /etc/apt/sources.list.d/edgenn-src.sources, then
#      `apt-get source --download-only qemu` into the cache, then only that one file is extracted);
#   3. Debian's arm64 and armhf python3.11 + numpy unpacked into sysroots (for the Raspberry Pi
#      Python tests under qemu-user), only when missing;
#   4. .venv with edgenn installed editable plus its test extras.
# A re-run with everything present does not touch apt or pip (about 0.1 s).
# Cache: ${XDG_CACHE_HOME:-~/.cache}/edgenn (the header, the qemu source tarball, the built plugin,
# pi-python/{arm64,armhf}).
# The venv is reinstalled when pyproject.toml changes; `make distclean` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bare-metal Arm compiler + newlib, QEMU (system and user mode), and Linux cross compilers for
# 64- and 32-bit Arm with their libc (libc6-dev-armhf-cross must be named: it is only recommended);
# cppcheck lints the C kernels (tests/test_c_kernels.py); arduino-builder builds the generated
# libraries as Arduino libraries (tests/test_library_layouts.py). libstdc++-arm-none-eabi-newlib:
# the C++ headers bench/tflm_cortexm/build.py needs to build TFLM for the Cortex-M cores.
APT_PACKAGES=(
    gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
    qemu-system-arm qemu-user
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
    cmake cppcheck flatbuffers-compiler arduino-builder
)
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP="$VENV/.edgenn-setup"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Runs a command quietly; on failure shows the end of its output and stops.
quiet() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        printf 'setup: error: command failed: %s\n' "$*" >&2
        tail -n 30 "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

installed() {  # installed PACKAGE: true if dpkg has it fully installed
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# ---- 1. Debian packages ----
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${APT_PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
else
    # Not Debian: accept the tools if they are on PATH, or tell what to install.
    for t in arm-none-eabi-gcc qemu-system-arm qemu-aarch64 aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc; do
        command -v "$t" >/dev/null 2>&1 || die "$t not found and this is not a Debian system: install ${APT_PACKAGES[*]} (or equivalents) yourself"
    done
fi
command -v make >/dev/null 2>&1 || missing+=(make)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if [ ! -x "$VENV/bin/python" ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        [ "$PYTHON" = python3 ] || die "$PYTHON not found"
        missing+=(python3 python3-venv)
    elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)  # Debian splits venv's ensurepip into this package
    fi
fi

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
fi

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get here: install them yourself"
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        die "missing ${missing[*]}: run this as root (or install sudo)"
    fi
    say "installing ${missing[*]} (apt-get; about a minute)"
    # A failing update (e.g. one unreachable extra source) is not fatal: the install may still work.
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/tmp/edgenn-apt-update.log 2>&1; then
        say "warning: apt-get update failed (trying the install anyway):"
        tail -n 5 /tmp/edgenn-apt-update.log >&2
    fi
    quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    for t in arm-none-eabi-gcc qemu-system-arm qemu-aarch64 aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc make gcc; do
        command -v "$t" >/dev/null 2>&1 || die "$t is still missing after apt-get install"
    done
fi

# ---- 2. qemu-plugin.h (from Debian's qemu source package) ----
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/edgenn"
HEADER="$CACHE/qemu-plugin/qemu-plugin.h"
SRC_LIST=/etc/apt/sources.list.d/edgenn-src.sources
if [ -n "${EDGENN_QEMU_PLUGIN_H:-}" ] || [ -s "$HEADER" ] || [ -f /usr/include/qemu/qemu-plugin.h ]; then
    :  # already there
elif ! command -v apt-get >/dev/null 2>&1 || ! grep -qs '^ID=debian' /etc/os-release; then
    say "warning: not Debian: instruction counts need qemu-plugin.h of your QEMU's version; set EDGENN_QEMU_PLUGIN_H"
elif [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
    say "warning: cannot add a deb-src entry without root: instruction counts (--profile) will be unavailable"
else
    mkdir -p "$CACHE/qemu-src" "$CACHE/qemu-plugin"
    orig=$(ls -t "$CACHE"/qemu-src/qemu_*.orig.tar.* 2>/dev/null | head -n 1 || true)
    if [ -z "$orig" ]; then
        codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
        if [ ! -f "$SRC_LIST" ]; then
            say "adding Debian's source packages ($SRC_LIST) for qemu-plugin.h"
            printf '%s\n' \
                "# Added by edgenn's scripts/setup.sh: Debian source packages, for qemu-plugin.h" \
                "# (apt-get source --download-only qemu). Safe to remove." \
                "Types: deb-src" \
                "URIs: http://deb.debian.org/debian" \
                "Suites: $codename $codename-updates" \
                "Components: main" \
                "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" \
                | "${SUDO[@]}" tee "$SRC_LIST" >/dev/null
        fi
        say "fetching Debian's qemu source package (about 24 MB) for qemu-plugin.h"
        quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        # Downloads the .dsc, the orig tarball and the Debian diff; nothing is unpacked or built.
        (cd "$CACHE/qemu-src" && quiet apt-get source -q --download-only qemu)
        orig=$(ls -t "$CACHE"/qemu-src/qemu_*.orig.tar.* 2>/dev/null | head -n 1 || true)
        [ -n "$orig" ] || die "apt-get source qemu gave no orig tarball in $CACHE/qemu-src"
    fi
    tmpd=$(mktemp -d)
    tar -xf "$orig" -C "$tmpd" --no-same-owner --no-same-permissions --wildcards '*/include/qemu/qemu-plugin.h' \
        || die "no include/qemu/qemu-plugin.h in $orig"
    mv "$(find "$tmpd" -name qemu-plugin.h | head -n 1)" "$HEADER"
    rm -rf "$tmpd"
    say "qemu-plugin.h: $HEADER (from $(basename "$orig"))"
fi

# ---- 3. Raspberry Pi Python: Debian's arm64 and armhf python3.11 + numpy, unpacked, not installed ----
# tests/test_pi_python.py runs the deploy package's Python binding under qemu-aarch64 / qemu-arm
# with these (qemu -L <sysroot> <sysroot>/usr/bin/python3.11). The packages come from the same
# Debian mirror, through a private apt state in the cache (nothing on the system changes: no
# foreign architecture is added), and are unpacked with dpkg -x; documentation and locales are
# dropped. Done once per architecture: about 15 MB downloaded and 65 MB unpacked for each.
PI_PACKAGES=(libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 libffi8 libbz2-1.0 liblzma5 libcrypt1 libuuid1 libssl3
    python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3-numpy libblas3 liblapack3 libgfortran5)
pi_sysroot() {  # pi_sysroot ARCH TRIPLET: $CACHE/pi-python/ARCH, unless it is there already
    local arch=$1 triplet=$2
    local root="$CACHE/pi-python/$arch" state="$CACHE/pi-python/apt-$arch"
    local stamp="$root/.edgenn-sysroot" want="${PI_PACKAGES[*]}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "fetching Debian's $arch python3.11 and numpy for the Raspberry Pi tests (about 15 MB)"
    rm -rf "$root" "$state"
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc" "$state/debs" "$root"
    : >"$state/status"
    local suites; suites=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" "Suites: $suites $suites-updates" \
        "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" "" \
        "Types: deb" "URIs: http://deb.debian.org/debian-security" "Suites: $suites-security" \
        "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" >"$state/etc/debian.sources"
    local opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
        -o "Dir::Cache=$state/cache" -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$state/etc"
        -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o Debug::NoLocking=1
        -o Acquire::Languages=none)
    [ "$(id -u)" -eq 0 ] && opts+=(-o APT::Sandbox::User=root)
    quiet apt-get "${opts[@]}" -q update
    (cd "$state/debs" && quiet apt-get "${opts[@]}" -q download "${PI_PACKAGES[@]}")
    for deb in "$state"/debs/*.deb; do
        dpkg -x "$deb" "$root"
    done
    rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/share/locale" \
        "$root/usr/lib/$triplet/gconv" "$state"
    # Debian selects the BLAS and LAPACK libraries with update-alternatives, which dpkg -x does not run.
    ln -sf blas/libblas.so.3 "$root/usr/lib/$triplet/libblas.so.3"
    ln -sf lapack/liblapack.so.3 "$root/usr/lib/$triplet/liblapack.so.3"
    [ -x "$root/usr/bin/python3.11" ] || die "no usr/bin/python3.11 in $root after unpacking"
    printf '%s\n' "$want" >"$stamp"
    say "Raspberry Pi Python ($arch): $root ($(du -sh "$root" | cut -f1))"
}
if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 && grep -qs '^ID=debian' /etc/os-release; then
    pi_sysroot arm64 aarch64-linux-gnu
    pi_sysroot armhf arm-linux-gnueabihf
else
    say "warning: not Debian: the Raspberry Pi Python tests need Debian's arm64/armhf python3.11 (they will be skipped)"
fi

# ---- 4. Python environment ----
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
        && "$VENV/bin/python" -c 'import edgenn' >/dev/null 2>&1; then
    exit 0  # up to date
fi
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    quiet "$PYTHON" -m venv "$VENV"
fi
say "installing edgenn and its test dependencies into $VENV (pip)"
export PIP_DISABLE_PIP_VERSION_CHECK=1
quiet "$VENV/bin/python" -m pip install -q -e '.[test]'
"$VENV/bin/python" -c 'import edgenn' || die "edgenn does not import from $VENV after installing"
printf '%s\n' "$want" >"$STAMP"
say "done: $VENV is ready"
