"""Ferret: IOC enrichment with sandboxed threat-intel providers.

The integration is a thin bridge. Every command, with its arguments, goes
to Ferret, which answers with the XSOAR entries to return:

- over HTTP to a running ``ferret serve`` (the ``url`` parameter, the
  bearer token in the ``token`` credentials parameter), or
- to a local ``ferret exec`` process when ``ferret_path`` names the binary
  (a custom image that ships it).

All enrichment logic lives in Ferret; this file only carries requests and
answers. It uses the standard library alone.
"""

import json
import ssl
import subprocess
import urllib.error
import urllib.request

import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401,F403

# Time allowed for one answer, in seconds. Ferret bounds each request
# itself (``[serve] request_timeout_seconds``, 120 by default); this only
# keeps the bridge from waiting forever on a lost connection.
TIMEOUT_SECONDS = 300

DBOT_PREFIX = "DBotScore("

RELIABILITIES = (
    "A+ - 3rd party enrichment",
    "A - Completely reliable",
    "B - Usually reliable",
    "C - Fairly reliable",
    "D - Not usually reliable",
    "E - Unreliable",
    "F - Reliability cannot be judged",
)


class FerretError(Exception):
    """Ferret refused the request, or could not be reached."""


def is_true(value):
    """A checkbox parameter's value as XSOAR hands it: a bool or text."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("true", "yes", "1")


def token_of(params):
    """The bearer token from the credentials parameter, or None."""
    credentials = params.get("token") or {}
    if isinstance(credentials, dict):
        token = credentials.get("password") or ""
    else:
        token = str(credentials)
    return token.strip() or None


def error_text(body):
    """The message of Ferret's ``{"error": {...}}`` body, or None."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return "Ferret refused the command ({}): {}".format(
            error.get("kind", "error"), error.get("message", "")
        )
    return None


def over_http(params, request):
    """POSTs ``request`` to ``<url>/v1/execute`` and returns the decoded
    answer body."""
    url = (params.get("url") or "").strip().rstrip("/")
    if not url:
        raise FerretError("Set either the Ferret server URL or the path of the ferret binary.")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    token = token_of(params)
    if token:
        headers["Authorization"] = "Bearer " + token
    handlers = []
    # Without "Use system proxy settings" the bridge ignores the proxy
    # variables of the container, as XSOAR integrations do.
    if not is_true(params.get("proxy")):
        handlers.append(urllib.request.ProxyHandler({}))
    if url.startswith("https://"):
        context = ssl.create_default_context()
        if is_true(params.get("insecure")):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    data = json.dumps(request).encode("utf-8")
    post = urllib.request.Request(url + "/v1/execute", data=data, headers=headers, method="POST")
    try:
        with opener.open(post, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            message = error_text(json.loads(text))
        except ValueError:
            message = None
        raise FerretError(message or "Ferret at {} answered HTTP {}".format(url, error.code))
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FerretError("Cannot reach Ferret at {}: {}".format(url, reason))
    except ValueError:
        raise FerretError("Ferret at {} answered something that is not JSON".format(url))


def over_exec(params, request):
    """Runs ``<ferret_path> exec`` with ``request`` on its standard input and
    returns the decoded answer body."""
    path = params["ferret_path"].strip()
    try:
        process = subprocess.run(
            [path, "exec"],
            input=json.dumps(request).encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise FerretError("Cannot run {} exec: {}".format(path, error))
    try:
        return json.loads(process.stdout.decode("utf-8"))
    except ValueError:
        stderr = process.stderr.decode("utf-8", "replace").strip()
        raise FerretError(
            "{} exec failed (exit status {}): {}".format(path, process.returncode, stderr)
        )


def call_ferret(params, command, args):
    """Sends one command to Ferret and returns its entries."""
    request = {"command": command, "args": args or {}}
    if (params.get("ferret_path") or "").strip():
        body = over_exec(params, request)
    else:
        body = over_http(params, request)
    message = error_text(body)
    if message:
        raise FerretError(message)
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        raise FerretError("Ferret answered without entries")
    return body["entries"]


def with_reliability(entries, reliability):
    """Sets the instance's source reliability on every DBotScore, as XSOAR
    does for an integration's own scores. Without one, Ferret's per-provider
    reliability stays."""
    if not reliability:
        return entries
    if reliability not in RELIABILITIES:
        raise FerretError(
            "Source reliability must be one of: {}".format(", ".join(RELIABILITIES))
        )
    for entry in entries:
        context = entry.get("EntryContext") if isinstance(entry, dict) else None
        for key, scores in (context or {}).items():
            if key.startswith(DBOT_PREFIX):
                for score in scores if isinstance(scores, list) else [scores]:
                    score["Reliability"] = reliability
    return entries


def integration_brand():
    """The brand of the integration this script runs as: ``Ferret``, or a
    vendor's brand (``AbuseIPDB``, ``VirusTotal``...) for an instance made
    from one of the single-provider YAMLs."""
    context = getattr(demisto, "callingContext", None) or {}
    return (context.get("context") or {}).get("IntegrationBrand") or ""


def pinned(args):
    """The arguments, with ``using-brand`` set to this integration's brand
    when it is a single provider's: a playbook task pinned to that brand
    then reaches that provider alone, as it would the vendor's own
    integration. An explicit ``using-brand`` is left as given."""
    args = dict(args or {})
    brand = integration_brand()
    if brand and brand != "Ferret" and "using-brand" not in args:
        args["using-brand"] = brand
    return args


def test_module(params):
    """``ok`` when Ferret answers and every enabled provider's check passes;
    otherwise raises with what each failing provider said, one per line."""
    entries = call_ferret(params, "test-module", pinned({}))
    if not entries:
        raise FerretError("Ferret has no providers enabled.")
    failures = [
        str(entry.get("Contents"))
        for entry in entries
        if entry.get("Type") != 1 or entry.get("Contents") != "ok"
    ]
    if failures:
        raise FerretError("\n".join(failures))
    return "ok"


def main():
    params = demisto.params()
    command = demisto.command()
    try:
        if command == "test-module":
            demisto.results(test_module(params))
        else:
            entries = call_ferret(params, command, pinned(demisto.args()))
            demisto.results(with_reliability(entries, params.get("reliability")))
    except FerretError as error:
        return_error(str(error))  # noqa: F405
    except Exception as error:  # the bridge's own fault: say so in the war room
        return_error("Failed to execute {}: {}".format(command, error))  # noqa: F405


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
