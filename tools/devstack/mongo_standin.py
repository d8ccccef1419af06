"""The development MongoDB stand-in: mongoeco's wire server, spoken to by the real pymongo driver.

    python -m tools.devstack.mongo_standin --port 27017 --path var/mongo/clinic.sqlite  # durable (SQLite)
    python -m tools.devstack.mongo_standin --port 0 --memory                          # in memory (tests)

Prints `listening <uri>` once it accepts connections. For development and demos only: it is
slow and has no change streams; production runs MongoDB 7 as a replica set (docker-compose.yml).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire import AsyncMongoEcoProxyServer


async def serve(host: str, port: int, path: str | None) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = SQLiteEngine(path) if path else MemoryEngine()
    server = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    address = await server.start()
    print(f"listening {address.uri}", flush=True)
    await stop.wait()
    await server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27017)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--path", help="SQLite file for durable storage")
    group.add_argument("--memory", action="store_true", help="keep data in memory only")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port, None if args.memory else args.path))
    except OSError as error:
        print(f"mongo stand-in: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
