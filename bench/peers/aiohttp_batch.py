#!/usr/bin/env python3
"""Peer of the BatchRequest benchmark: GETs every URL of a file with asyncio and aiohttp, at most T at a time.

    python3 aiohttp_batch.py URL_FILE T

At most T requests are in flight (asyncio.Semaphore(T)) on at most T connections (TCPConnector(limit=T)).
Prints one JSON line: {"count": N, "ok": 2xx answers, "failed": N - ok, "elapsedSeconds": time of the batch alone}.
Runs with Debian's python3 and python3-aiohttp (/usr/bin/python3, not a python3 earlier on PATH).
"""
import asyncio
import json
import sys
import time

import aiohttp


async def run(urls, limit):
    semaphore = asyncio.Semaphore(limit)
    ok = 0
    failed = 0

    async def fetch(session, url):
        nonlocal ok, failed
        async with semaphore:
            try:
                async with session.get(url) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        ok += 1
                    else:
                        failed += 1
            except (aiohttp.ClientError, asyncio.TimeoutError):
                failed += 1

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(fetch(session, url) for url in urls))
        elapsed = time.perf_counter() - start
    return ok, failed, elapsed


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: aiohttp_batch.py URL_FILE T")
    with open(sys.argv[1], encoding="utf-8") as url_file:
        urls = [line.strip() for line in url_file if line.strip()]
    ok, failed, elapsed = asyncio.run(run(urls, int(sys.argv[2])))
    print(json.dumps({"count": len(urls), "ok": ok, "failed": failed, "elapsedSeconds": elapsed}))


if __name__ == "__main__":
    main()
