#!/usr/bin/env bash
# Builds the `kiel` command as a static musl binary and checks it:
#   1. installs the x86_64-unknown-linux-musl target with rustup if it is missing;
#   2. cargo build --release --target x86_64-unknown-linux-musl -p kiel-cli
#      (the TLS crypto, aws-lc via rustls, is C and assembly: it is compiled with musl-gcc,
#      from Debian's musl-tools, installed here when missing and apt-get is there);
#   3. checks that the binary is statically linked (no ELF interpreter, no NEEDED libraries);
#   4. runs `kiel --version` and checks what it prints;
#   5. prints the binary's size, as built and stripped.
# Exits non-zero when any step fails. Honors CARGO_TARGET_DIR.
#
# Usage: cli/check-musl.sh            (from anywhere inside the repository)
set -euo pipefail

TARGET=x86_64-unknown-linux-musl
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

fail() {
    echo "check-musl: FAILED: $*" >&2
    exit 1
}

if ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "check-musl: installing the $TARGET target"
    rustup target add "$TARGET" || fail "rustup target add $TARGET"
fi

if ! command -v musl-gcc >/dev/null; then
    if command -v apt-get >/dev/null; then
        echo "check-musl: installing musl-tools (musl-gcc, for the C in the TLS crypto)"
        (apt-get install -y -qq musl-tools >/dev/null 2>&1 ||
            (apt-get update -qq && apt-get install -y -qq musl-tools >/dev/null)) ||
            fail "apt-get install musl-tools"
    else
        fail "musl-gcc is needed to compile the TLS crypto (aws-lc) for musl: install musl-tools"
    fi
fi
export CC_x86_64_unknown_linux_musl="${CC_x86_64_unknown_linux_musl:-musl-gcc}"

echo "check-musl: building kiel-cli for $TARGET (release)"
cargo build --release --target "$TARGET" -p kiel-cli || fail "cargo build"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/$TARGET/release/kiel"
[ -x "$BIN" ] || fail "no binary at $BIN"

# Static: no program interpreter and no shared libraries needed. `file` and `ldd` are
# consulted too when present, for a readable report.
if command -v readelf >/dev/null; then
    if readelf -l "$BIN" | grep -q "INTERP"; then
        fail "$BIN has an ELF interpreter (dynamically linked)"
    fi
    if readelf -d "$BIN" | grep -q "(NEEDED)"; then
        fail "$BIN needs shared libraries: $(readelf -d "$BIN" | grep '(NEEDED)' | tr -s ' ')"
    fi
fi
if command -v file >/dev/null; then
    description="$(file -b "$BIN")"
    echo "check-musl: file: $description"
    case "$description" in
        *"statically linked"* | *"static-pie linked"*) ;;
        *) fail "file does not report a static binary" ;;
    esac
fi
if command -v ldd >/dev/null; then
    # ldd exits non-zero for static binaries; its words are what matter.
    linkage="$(ldd "$BIN" 2>&1 || true)"
    echo "check-musl: ldd: $linkage"
    case "$linkage" in
        *"not a dynamic executable"* | *"statically linked"*) ;;
        *) fail "ldd lists shared libraries" ;;
    esac
fi
if ! command -v readelf >/dev/null && ! command -v file >/dev/null && ! command -v ldd >/dev/null; then
    fail "none of readelf, file, ldd is installed: cannot check the linkage"
fi

version="$("$BIN" --version)" || fail "$BIN --version exited with $?"
expected="kiel $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ "$version" = "$expected" ] || fail "--version printed '$version', expected '$expected'"
echo "check-musl: $version"

stripped="$(mktemp)"
trap 'rm -f "$stripped"' EXIT
cp "$BIN" "$stripped"
if command -v strip >/dev/null && strip "$stripped"; then
    echo "check-musl: size $(stat -c %s "$BIN") bytes as built, $(stat -c %s "$stripped") bytes stripped"
else
    echo "check-musl: size $(stat -c %s "$BIN") bytes as built (strip not available)"
fi
echo "check-musl: OK ($BIN)"
