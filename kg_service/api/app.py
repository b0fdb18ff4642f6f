"""The ASGI application: GraphQL (with GraphiQL in the browser) at /graphql, health at /healthz.

/graphql authenticates every request but the GraphiQL page itself (``security``), runs each
operation in a worker thread with the request limits and a timeout, and serialises mutations (one
writer at a time, as the store has). Every request, on any path, leaves one JSON line on the
``citykg.access`` logger once its response is sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue
from typing import TYPE_CHECKING, TextIO

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from kg_service.api.schema import Context, context_for, schema_for
from kg_service.api.security import (
    Authenticator,
    GuardedStore,
    Principal,
    RequestTimeout,
    Unauthenticated,
    limit_extensions,
    require_writer,
)
from kg_service.config import Settings
from kg_service.errors import CityKGError, OntologyError
from kg_service.ontology import content_hash
from kg_service.store import GraphStore

if TYPE_CHECKING:
    from kg_service.ontology.changes import Outcome

ACCESS_LOGGER = "citykg.access"
SCHEMA_CHECK_SECONDS = 2.0  # how often, at most, a request checks whether the ontology changed
_RECORD = "citykg.request"  # the scope key of a request's RequestRecord


@dataclasses.dataclass
class RequestRecord:
    """What the access log says of a request beyond its HTTP status: filled in as it is served."""

    role: str | None = None
    operation: str | None = None
    errors: int = 0


@dataclasses.dataclass
class ServedContext(Context):
    """The resolvers' context for one HTTP request: who asks, and until when it may run."""

    deadline: float = math.inf  # time.monotonic() after which the request is abandoned
    record: RequestRecord = dataclasses.field(default_factory=RequestRecord)


def _record(scope: Scope) -> RequestRecord:
    found = scope.get(_RECORD)
    if not isinstance(found, RequestRecord):
        found = scope[_RECORD] = RequestRecord()
    return found


class _Bookkeeping(SchemaExtension):
    """Notes the operation's name for the access log, and lets one mutation run at a time (waiting
    for the lock counts against the request's timeout)."""

    def __init__(self, writer: threading.Lock, timeout: float) -> None:
        self.writer, self.timeout = writer, timeout

    def on_operation(self) -> Iterator[None]:
        yield
        record = getattr(self.execution_context.context, "record", None)
        if isinstance(record, RequestRecord):
            name = self.execution_context.operation_name
            record.operation = name[:200] if name else None

    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is not OperationType.MUTATION:
            yield
            return
        deadline = getattr(self.execution_context.context, "deadline", math.inf)
        if not self.writer.acquire(timeout=max(deadline - time.monotonic(), 0) if deadline < math.inf else -1):
            raise RequestTimeout(self.timeout)
        try:
            yield
        finally:
            self.writer.release()


class _GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings, store: GraphStore) -> None:
        self._settings, self._store = settings, store
        self._writer = threading.Lock()
        self._served_hash = content_hash(settings.ontology_dir)
        super().__init__(self._build_schema(), graphql_ide="graphiql")
        self._authenticator = Authenticator(settings)
        self._checked_at = time.monotonic()
        self._rebuilding = threading.Lock()

    def _build_schema(self) -> strawberry.Schema:
        schema = schema_for(self._settings)
        # The limits are extensions of the schema the app serves; `citykg query` runs without them.
        # They come first: a request they refuse is not answered directly (``direct``) either.
        schema.extensions = (*limit_extensions(self._settings),
                             lambda: _Bookkeeping(self._writer, self._settings.request_timeout), *schema.extensions)
        return schema

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._writer:
            yield

    def refresh_now(self) -> None:
        """Serve the schema of the ontology as it is now, without waiting for the next check."""
        self._checked_at = -math.inf
        self._refresh_schema()

    def _refresh_schema(self) -> None:
        """Serve the schema of the ontology and shapes as they are now, without a restart: every few
        seconds at most, their content hash is compared with the served schema's, and on a change the
        schema is built again. An ontology that cannot be read keeps the last good schema served."""
        now = time.monotonic()
        if now - self._checked_at < SCHEMA_CHECK_SECONDS or not self._rebuilding.acquire(blocking=False):
            return
        try:
            self._checked_at = now
            current = content_hash(self._settings.ontology_dir)
            if current == self._served_hash:
                return
            self._served_hash = current  # a broken ontology is tried again only once it changes
            try:
                self.schema = self._build_schema()
            except CityKGError as error:
                logging.getLogger(__name__).warning("the ontology changed but its schema cannot be built, the "
                                                    "previous one is still served: %s", error)
                return
            logging.getLogger(__name__).info("the ontology changed: serving its new GraphQL schema")
        finally:
            self._rebuilding.release()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            # The GraphiQL page is static and holds no data: it loads without credentials, and the
            # queries it sends carry the key given in its Headers tab.
            if not self.should_render_graphql_ide(self.request_adapter_class(request)):
                try:
                    principal = self._authenticator.authenticate(request.headers)
                except Unauthenticated as refused:
                    response = JSONResponse(refused.body(), status_code=401,
                                            headers={"WWW-Authenticate": refused.challenge})
                    await response(scope, receive, send)
                    return
                scope["citykg.principal"] = principal
                _record(scope).role = principal.role
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        principal = request.scope.get("citykg.principal")
        timeout = self._settings.request_timeout
        deadline = time.monotonic() + timeout
        base = context_for(self._settings, GuardedStore(self._store, deadline, timeout))
        context = ServedContext(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)},
                                deadline=deadline, record=_record(request.scope))
        context.principal = principal if isinstance(principal, Principal) else None

        def check_write(department: str) -> None:
            require_writer(context, department)

        context.write_check = check_write
        return context

    async def execute_single(self, request: Request, request_adapter: AsyncHTTPRequestAdapter,
                             sub_response: Response, context: Context, root_value: None,
                             request_data: GraphQLRequestData) -> ExecutionResult:
        """As strawberry's, but the (synchronous) resolvers run in a worker thread, so the event loop
        keeps serving other requests and can stop waiting at the deadline."""
        await asyncio.get_running_loop().run_in_executor(None, self._refresh_schema)
        allowed = OperationType.from_http(request_adapter.method)
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed = allowed - {OperationType.QUERY}
        run = partial(self.schema.execute_sync, request_data.query, root_value=root_value,
                      variable_values=request_data.variables, context_value=context,
                      operation_name=request_data.operation_name, allowed_operation_types=allowed,
                      operation_extensions=request_data.extensions)
        deadline = getattr(context, "deadline", math.inf)
        loop = asyncio.get_running_loop()
        try:
            result = await asyncio.wait_for(loop.run_in_executor(None, run),
                                            timeout=max(deadline - time.monotonic(), 0))
        except TimeoutError:
            # The worker thread is not interrupted: its store query runs to its end, and the guarded
            # store refuses the next one.
            result = ExecutionResult(data=None, errors=[RequestTimeout(self._settings.request_timeout)])
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from e
        except InvalidOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason(request_adapter.method)) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e
        _record(request.scope).errors += len(result.errors or ())
        return result


class AccessLog:
    """One JSON line per request on the ``citykg.access`` logger, written after the response is
    sent: method, path, status, duration, role, GraphQL operation and error count. Never a header,
    a key or a query's text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = _record(scope)
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if self.logger.isEnabledFor(logging.INFO):
                client = scope.get("client")
                self.logger.info(json.dumps({
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "method": scope["method"], "path": scope["path"], "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "role": record.role, "operation": record.operation, "errors": record.errors,
                    "client": client[0] if client else None,
                }, ensure_ascii=False))


@contextmanager
def access_log_to(stream: TextIO) -> Iterator[None]:
    """Write the access log's lines, bare, to ``stream`` from a background thread (a queue in
    between, so the event loop never waits on a terminal or a pipe), instead of the root handlers."""
    logger = logging.getLogger(ACCESS_LOGGER)
    queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
    writer = logging.StreamHandler(stream)
    writer.setFormatter(logging.Formatter("%(message)s"))
    listener = QueueListener(queue, writer)
    handler = QueueHandler(queue)
    logger.addHandler(handler)
    logger.propagate = False
    listener.start()
    try:
        yield
    finally:
        listener.stop()
        logger.removeHandler(handler)
        logger.propagate = True


def settle_start_up_objects() -> None:
    """Moves what a service builds at start (ontology, shapes, API model and schema: some 200,000
    objects) out of the cyclic garbage collector's reach. They live as long as the process, and
    otherwise each full collection (about one per large request) walks them all again: 140 ms of a
    1,000-row request at 100k entities. Objects made later (a schema rebuilt after an ontology
    edit) are collected as usual."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, store: GraphStore) -> Starlette:
    """The app serves one open store; the caller owns (and closes) it."""
    graphql = _GraphQLEndpoint(settings, store)
    authenticator = Authenticator(settings)

    async def ontology_edits(request: Request) -> JSONResponse:
        """An ontology edit (admin only), checked and assessed; applied unless ``dry_run``. Answers
        200 with the outcome, 409 when a check refused it, 400 for an edit that makes no sense."""
        from kg_service.ontology.changes import apply, propose
        from kg_service.ontology.edits import edit_from_json

        try:
            principal = authenticator.authenticate(request.headers)
        except Unauthenticated as refused:
            return JSONResponse(refused.body(), status_code=401, headers={"WWW-Authenticate": refused.challenge})
        _record(request.scope).role = principal.role
        if "admin" not in principal.roles:
            return JSONResponse({"error": "editing the ontology needs a key with the role 'admin'"}, status_code=403)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise OntologyError("the body must be a JSON object with the edit's kind and fields")
            edit = edit_from_json(body)

            def run() -> Outcome:
                if body.get("dry_run"):
                    return propose(settings, edit, store)
                with graphql.writing():  # no mutation sees half a migration
                    outcome = apply(settings, edit, store)
                graphql.refresh_now()
                return outcome

            outcome = await asyncio.get_running_loop().run_in_executor(None, run)
        except json.JSONDecodeError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        except CityKGError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(outcome.to_json(), status_code=409 if outcome.refused else 200)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "store": store.backend_name, "quads": store.count()})

    return Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/ontology/edits", ontology_edits, methods=["POST"]),
    ], middleware=[Middleware(AccessLog)])


__all__ = ["ACCESS_LOGGER", "AccessLog", "ServedContext", "access_log_to", "create_app"]
