"""Runs the bridge once outside XSOAR.

Reads ``{"command": ..., "args": {...}, "params": {...}, "brand": ...}``
on standard input (``brand`` optional: the integration's brand), runs ``ferret.main()`` with the stand-in ``demistomock``, and prints
``{"results": [...], "errors": [...]}``: every value the bridge handed to
``demisto.results`` and every ``return_error`` message.

    python3 integration/tests/run_bridge.py < request.json
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import demistomock  # noqa: E402

import ferret  # noqa: E402


def run():
    request = json.load(sys.stdin)
    demistomock.setup(
        request["command"], request.get("args"), request.get("params"), request.get("brand")
    )
    try:
        ferret.main()
    except SystemExit:
        pass
    json.dump({"results": demistomock.RESULTS, "errors": demistomock.ERRORS}, sys.stdout)


if __name__ == "__main__":
    run()
