"""Sequential IP enrichment, the way a SOC script usually does it.

What it models: the hand-written loop found in many security teams. For
each address in the input file (one per line) it asks VirusTotal
(GET /api/v3/ip_addresses/{ip}, key in `x-apikey`) and then AbuseIPDB
(GET /api/v2/check?ipAddress=..., key in `Key`), one request after the
other with urllib from the standard library, and sleeps a fixed pause
after every request to stay clear of the providers' rate limits. An
error answer (a 429 included) is written into the address's line and the
loop goes on.

It prints one NDJSON line per address to standard output (VirusTotal's
count of malicious engines, AbuseIPDB's confidence score) and a summary to
standard error.

Usage:
    sequential.py INPUT --virustotal URL --abuseipdb URL [--pause SECONDS] [--limit N]

Keys come from FERRET_VIRUSTOTAL_API_KEY and FERRET_ABUSEIPDB_API_KEY.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fetch(url, headers):
    """GETs `url` and returns (status, parsed JSON body or None)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--virustotal", required=True, help="VirusTotal base URL")
    parser.add_argument("--abuseipdb", required=True, help="AbuseIPDB base URL")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds after each request")
    parser.add_argument("--limit", type=int, help="only the first N addresses")
    args = parser.parse_args()

    with open(args.input, encoding="utf-8") as file:
        addresses = [line.strip() for line in file if line.strip()]
    if args.limit is not None:
        addresses = addresses[: args.limit]

    vt_headers = {"x-apikey": os.environ["FERRET_VIRUSTOTAL_API_KEY"]}
    abuse_headers = {
        "Key": os.environ["FERRET_ABUSEIPDB_API_KEY"],
        "Accept": "application/json",
    }

    answered = errors = 0
    for address in addresses:
        line = {"indicator": address}

        status, body = fetch(f"{args.virustotal}/api/v3/ip_addresses/{address}", vt_headers)
        if status == 200:
            stats = body["data"]["attributes"]["last_analysis_stats"]
            line["virustotal_malicious"] = stats["malicious"]
            answered += 1
        else:
            line["virustotal_error"] = status
            errors += 1
        time.sleep(args.pause)

        query = urllib.parse.urlencode({"ipAddress": address, "maxAgeInDays": 90})
        status, body = fetch(f"{args.abuseipdb}/api/v2/check?{query}", abuse_headers)
        if status == 200:
            line["abuseipdb_score"] = body["data"]["abuseConfidenceScore"]
            answered += 1
        else:
            line["abuseipdb_error"] = status
            errors += 1
        time.sleep(args.pause)

        print(json.dumps(line), flush=True)

    print(f"answered {answered}, errors {errors}", file=sys.stderr)


if __name__ == "__main__":
    main()
