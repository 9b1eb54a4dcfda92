#!/usr/bin/env bash
# Validates the checked-in integration YAMLs against the integration schema
# shipped in XSOAR's demisto-sdk, with pykwalify, the validator demisto-sdk
# itself uses. Everything it installs goes into target/, so nothing outside
# the clone changes. Needs python3 with venv and pip, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMISTO_SDK_VERSION=1.39.13
venv=target/integration-venv
wheels=target/integration-schema

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r integration/requirements.txt

# Only the wheel is needed, for its schema file: none of its dependencies.
wheel="$wheels/demisto_sdk-$DEMISTO_SDK_VERSION-py3-none-any.whl"
if [ ! -f "$wheel" ]; then
    "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
        --dest "$wheels" "demisto-sdk==$DEMISTO_SDK_VERSION"
fi

"$venv/bin/python" integration/validate.py "$wheel" integration/Ferret.yml integration/brands/*.yml
