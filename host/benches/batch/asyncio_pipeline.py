"""Concurrent IP enrichment with asyncio and aiohttp, the usual fast script.

What it models: the script a team writes once the sequential loop is too
slow. Every address in the input file (one per line) becomes a task that
asks VirusTotal (GET /api/v3/ip_addresses/{ip}, key in `x-apikey`) and
AbuseIPDB (GET /api/v2/check?ipAddress=..., key in `Key`) at the same time
through one aiohttp session; a semaphore caps the requests in flight at
`--concurrency`. There is no rate limiting and no retry: an error answer
(a 429 included) is written into the address's line, as such scripts do.

It prints one NDJSON line per address to standard output (VirusTotal's
count of malicious engines, AbuseIPDB's confidence score) and a summary to
standard error.

Usage:
    asyncio_pipeline.py INPUT --virustotal URL --abuseipdb URL --concurrency N

Keys come from FERRET_VIRUSTOTAL_API_KEY and FERRET_ABUSEIPDB_API_KEY.
Needs aiohttp (see requirements.txt).
"""

import argparse
import asyncio
import json
import os
import sys

import aiohttp


async def fetch(session, semaphore, url, headers, params=None):
    """GETs `url` under the semaphore; returns (status, parsed body or None)."""
    async with semaphore:
        async with session.get(url, headers=headers, params=params) as response:
            if response.status != 200:
                await response.read()
                return response.status, None
            return response.status, await response.json()


async def enrich(session, semaphore, args, address, vt_headers, abuse_headers):
    """Both lookups for one address, at once; returns its NDJSON object."""
    virustotal, abuseipdb = await asyncio.gather(
        fetch(session, semaphore, f"{args.virustotal}/api/v3/ip_addresses/{address}", vt_headers),
        fetch(
            session,
            semaphore,
            f"{args.abuseipdb}/api/v2/check",
            abuse_headers,
            params={"ipAddress": address, "maxAgeInDays": "90"},
        ),
    )
    line = {"indicator": address}
    status, body = virustotal
    if status == 200:
        line["virustotal_malicious"] = body["data"]["attributes"]["last_analysis_stats"]["malicious"]
    else:
        line["virustotal_error"] = status
    status, body = abuseipdb
    if status == 200:
        line["abuseipdb_score"] = body["data"]["abuseConfidenceScore"]
    else:
        line["abuseipdb_error"] = status
    return line


async def run(args):
    with open(args.input, encoding="utf-8") as file:
        addresses = [line.strip() for line in file if line.strip()]

    vt_headers = {"x-apikey": os.environ["FERRET_VIRUSTOTAL_API_KEY"]}
    abuse_headers = {
        "Key": os.environ["FERRET_ABUSEIPDB_API_KEY"],
        "Accept": "application/json",
    }
    semaphore = asyncio.Semaphore(args.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        lines = await asyncio.gather(
            *(enrich(session, semaphore, args, a, vt_headers, abuse_headers) for a in addresses)
        )

    errors = 0
    for line in lines:
        errors += ("virustotal_error" in line) + ("abuseipdb_error" in line)
        print(json.dumps(line))
    print(f"answered {2 * len(lines) - errors}, errors {errors}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--virustotal", required=True, help="VirusTotal base URL")
    parser.add_argument("--abuseipdb", required=True, help="AbuseIPDB base URL")
    parser.add_argument("--concurrency", type=int, required=True, help="requests in flight")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
