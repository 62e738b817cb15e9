#!/bin/sh
# Regenerates runtime_py/schema/fb/ from runtime_py/schema/edgenn.fbs (needs flatc).
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flatc --python --gen-object-api -o "$tmp" runtime_py/schema/edgenn.fbs
rm -rf runtime_py/schema/fb
cp -r "$tmp/edgenn/runtime_py/schema/fb" runtime_py/schema/fb
echo "regenerated runtime_py/schema/fb with $(flatc --version)"
