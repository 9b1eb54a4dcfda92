"""A stand-in for the part of XSOAR's ``CommonServerPython`` the bridge
uses: ``return_error``, which returns an error entry and ends the script.
"""

import sys

import demistomock as demisto

__all__ = ["return_error"]


def return_error(message, error="", outputs=None):
    """Hands XSOAR an error entry with ``message``, records the message, and
    stops the script as the real helper does."""
    demisto.ERRORS.append(str(message))
    demisto.results({"Type": 4, "ContentsFormat": "text", "Contents": str(message)})
    sys.exit(0)
