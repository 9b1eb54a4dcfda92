"""Validates integration YAMLs against demisto-sdk's integration schema.

Usage: validate.py DEMISTO_SDK_WHEEL FILE.yml...

The schema is read from the wheel as shipped. Before the real files, a
copy of the first one with a language XSOAR does not run is checked, and
must be refused: a schema that accepts anything would pass every file.
"""

import copy
import logging
import sys
import tempfile
import zipfile
from pathlib import Path

from pykwalify.core import Core
from pykwalify.errors import SchemaError
from ruamel.yaml import YAML

SCHEMA_MEMBER = "demisto_sdk/commands/common/schemas/integration.yml"


def errors(document, schema_file):
    """The schema's complaints about one parsed document; empty if valid."""
    core = Core(source_data=document, schema_files=[schema_file])
    try:
        core.validate(raise_exception=True)
    except SchemaError:
        return core.validation_errors or ["invalid"]
    return []


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    wheel, files = Path(argv[1]), [Path(name) for name in argv[2:]]
    # pykwalify logs each error as well as returning it; the list is enough.
    logging.disable(logging.CRITICAL)

    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as scratch:
        schema_file = Path(scratch) / "integration.yml"
        schema_file.write_bytes(archive.read(SCHEMA_MEMBER))
        schema_file = str(schema_file)

        yaml = YAML(typ="safe")
        documents = {path: yaml.load(path.read_text(encoding="utf-8")) for path in files}

        broken = copy.deepcopy(documents[files[0]])
        broken["script"]["type"] = "rust"
        if not errors(broken, schema_file):
            print(f"error: the schema in {wheel.name} accepted a rust script", file=sys.stderr)
            return 1

        failed = 0
        for path, document in documents.items():
            problems = errors(document, schema_file)
            if problems:
                failed += 1
                print(f"INVALID {path}")
                for problem in problems:
                    print(f"    {problem}")
            else:
                print(f"valid   {path}")
    print(
        f"integration YAML: {len(files) - failed} of {len(files)} files valid against "
        f"{wheel.name}'s integration schema"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
