"""The durable reference: the least a durable, private SMS webhook must do, on either engine, and nothing more.

Beside the bare ceiling (``ceiling.py``), which only reads the form, this one does what no helpline that keeps
its promises can skip: it checks Twilio's signature (the server's own ``SignedForms``), makes the sender's
keyed pseudonym (``Pseudonyms.route``), seals the sender and the text with AES-256-GCM under a data key
(``DataKeys.seal``), commits one row, and answers TwiML only once that row is durable. It has no idempotency
key, no conversation, no routing, no risk scan, no events, no log line: what the server does beyond this is
what its ratio to this reference measures.

- SQLite: WAL, ``synchronous = FULL``; one writer thread commits every row queued while the previous group was
  committing in one ``BEGIN IMMEDIATE`` transaction (group commit, as the server's store does).
- PostgreSQL: one transaction per request (an ``INSERT`` in autocommit) over a pool, in a schema of its own
  that is dropped when the process stops.

Run as its own process: ``python -m helpline.bench.durable sqlite FILE PORT`` or
``python -m helpline.bench.durable postgresql URL PORT POOL_SIZE``; the public base URL and the auth token the
signatures are checked against come from ``HELPLINE_SMS__PUBLIC_BASE_URL`` and ``HELPLINE_SMS__AUTH_TOKEN``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import asyncpg
from aiohttp import web

from helpline.channels.sms.signature import SignedForms, single
from helpline.crypto.datakeys import DataKeys
from helpline.crypto.keyring import Keyring
from helpline.crypto.pseudonyms import Pseudonyms
from helpline.errors import Forbidden, InvalidInput
from helpline.loops import new_event_loop

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
PATH = "/webhooks/twilio/sms"
SCHEMA = "helpline_bench_reference"
COLUMNS = "id, sender, sealed_sender, sealed_body, received_at"
Row = tuple[str, bytes, bytes, bytes, str]


class Rows(Protocol):
    """Where a row goes: ``commit`` returns once it is durable."""

    def commit(self, row: Row) -> Awaitable[None]: ...


class GroupCommit:
    """SQLite: rows queued while a group commits go together in the next one, on one writer thread."""

    def __init__(self, path: Path) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reference-writer")
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, sender BLOB NOT NULL, "
            "sealed_sender BLOB NOT NULL, sealed_body BLOB NOT NULL, received_at TEXT NOT NULL)"
        )
        self._pending: list[tuple[Row, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._write_loop())
        self.groups = 0

    async def commit(self, row: Row) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        self._wake.set()
        await done

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            group, self._pending = self._pending, []
            if not group:
                continue
            try:
                await loop.run_in_executor(self._thread, self._write, [row for row, _ in group])
            except sqlite3.Error as exc:
                for _, done in group:
                    done.set_exception(exc)
            else:
                self.groups += 1
                for _, done in group:
                    done.set_result(None)

    def _write(self, rows: list[Row]) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(f"INSERT INTO messages ({COLUMNS}) VALUES (?, ?, ?, ?, ?)", rows)  # noqa: S608 - constants
        except sqlite3.Error:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._thread, self._conn.close)
        self._thread.shutdown(wait=True)


class PooledInserts:
    """PostgreSQL: each row an ``INSERT`` in a transaction of its own, on a connection from the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, size: int) -> PooledInserts:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.messages (id TEXT PRIMARY KEY, sender BYTEA NOT NULL, "
                "sealed_sender BYTEA NOT NULL, sealed_body BYTEA NOT NULL, received_at TEXT NOT NULL)"
            )
        finally:
            await conn.close()
        return cls(await asyncpg.create_pool(url, min_size=size, max_size=size))

    async def commit(self, row: Row) -> None:
        await self._pool.execute(f"INSERT INTO {SCHEMA}.messages ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)", *row)  # noqa: S608 - constants

    async def close(self) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await self._pool.close()


class Reference:
    """The webhook handler: signature, pseudonym, two seals, one durable row, TwiML."""

    def __init__(self, forms: SignedForms, rows: Rows) -> None:
        keyring = Keyring.generate()
        self._forms = forms
        self._rows = rows
        self._pseudonyms = Pseudonyms(keyring)
        self._keys = DataKeys(keyring)
        self._key = self._keys.new_key("conversations", "bench-reference")

    async def answer(self, request: web.Request) -> web.Response:
        try:
            params = await self._forms.read(request)
            sender, body = single(params, "From"), single(params, "Body")
        except Forbidden:
            raise web.HTTPForbidden from None
        except InvalidInput:
            raise web.HTTPBadRequest from None
        if not sender or body is None:
            raise web.HTTPBadRequest
        row_id = uuid.uuid4().hex
        await self._rows.commit(
            (
                row_id,
                self._pseudonyms.route("sms", sender),
                self._keys.seal(self._key, "messages", row_id, "sender", sender),
                self._keys.seal(self._key, "messages", row_id, "body", body),
                datetime.now(UTC).isoformat(),
            )
        )
        return web.Response(text=TWIML, content_type="text/xml")


ROWS = web.AppKey("rows", Reference)


def application(forms: SignedForms, open_rows: Callable[[], Awaitable[GroupCommit | PooledInserts]]) -> web.Application:
    app = web.Application()

    async def rows_while_serving(app: web.Application) -> AsyncIterator[None]:
        rows = await open_rows()
        app[ROWS] = Reference(forms, rows)
        yield
        await rows.close()

    async def answer(request: web.Request) -> web.Response:
        return await request.app[ROWS].answer(request)

    app.cleanup_ctx.append(rows_while_serving)
    app.router.add_post(PATH, answer)
    app.router.add_get("/healthz", ok)
    return app


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    engine, where, port = args[0], args[1], int(args[2])
    forms = SignedForms(os.environ["HELPLINE_SMS__AUTH_TOKEN"], os.environ["HELPLINE_SMS__PUBLIC_BASE_URL"])

    async def open_rows() -> GroupCommit | PooledInserts:
        if engine == "sqlite":
            return GroupCommit(Path(where))
        return await PooledInserts.open(where, int(args[3]))

    web.run_app(
        application(forms, open_rows), host="127.0.0.1", port=port, access_log=None, print=None, loop=new_event_loop()
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
