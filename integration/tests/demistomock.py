"""A stand-in for XSOAR's ``demistomock`` module, for running the bridge
outside XSOAR.

A test sets the command, arguments and parameters with ``setup``; the
bridge reads them through ``command()``, ``args()`` and ``params()`` as it
would in XSOAR; everything it hands to ``results()`` is recorded in
``RESULTS`` and every ``return_error`` message in ``ERRORS``.
"""

_STATE = {"command": "", "args": {}, "params": {}}

RESULTS = []
ERRORS = []

# XSOAR's description of the running integration; only the brand is kept.
callingContext = {}


def setup(command, args=None, params=None, brand=None):
    """Sets what the next run sees, and forgets what earlier runs did.
    ``brand`` is the integration's brand; none means ``Ferret``."""
    _STATE["command"] = command
    _STATE["args"] = dict(args or {})
    _STATE["params"] = dict(params or {})
    callingContext.clear()
    callingContext["context"] = {"IntegrationBrand": brand or "Ferret"}
    del RESULTS[:]
    del ERRORS[:]


def command():
    return _STATE["command"]


def args():
    return dict(_STATE["args"])


def params():
    return dict(_STATE["params"])


def results(value):
    RESULTS.append(value)


def error(message):
    """XSOAR's log call for errors; the stand-in keeps nothing."""


def debug(message):
    """XSOAR's debug log call; the stand-in keeps nothing."""
