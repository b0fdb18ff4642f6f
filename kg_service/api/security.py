"""Who may ask the GraphQL API, and how much one request may ask.

Authentication: an API key in the ``X-API-Key`` header, or the same kind of secret as a bearer
token (``Authorization: Bearer <token>``, RFC 6750), looked up by its SHA-256 in the ``api_keys``
setting, which maps each hash to roles: ``reader`` (read everything), ``writer:<department>``
(read, and write that department's datasets), ``admin`` (everything). Only hashes are configured,
so a leaked configuration file gives away no key. Without credentials a request is refused (401)
unless ``anonymous = "read"``; a credential that is given but unknown is always refused.

Limits, each a setting and each refused with a GraphQL error naming it and its value: query depth,
tokens and aliases (strawberry's validators), page size (``first`` of a root field) and a
per-request timeout (``request_timeout``; the transport stops waiting, and :class:`GuardedStore`
stops the abandoned request at its next store round trip).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO, Self

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast,
)
from graphql.utilities import get_operation_ast
from rdflib.term import Identifier
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

from kg_service.config import SCHEMA_MAX_PAGE, Settings
from kg_service.store import GraphStore, GraphWrites, QueryResult, RdfFormat, RdfInput, TermRows

API_KEY_HEADER = "x-api-key"
REALM = "citykg"


def hash_key(key: str) -> str:
    """What the ``api_keys`` setting holds for a key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# ---- who is asking ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    """Who a request speaks for: the roles of its key, or anonymous (read only)."""

    roles: frozenset[str]
    anonymous: bool = False

    @property
    def role(self) -> str:
        """The roles as one label, for logs ("anonymous" without credentials)."""
        return "anonymous" if self.anonymous else ",".join(sorted(self.roles))

    def may_write(self, department: str) -> bool:
        return "admin" in self.roles or f"writer:{department}" in self.roles


ANONYMOUS_READER = Principal(frozenset({"reader"}), anonymous=True)


class Unauthenticated(Exception):
    """A request without usable credentials: answered 401 with a ``WWW-Authenticate`` challenge.

    ``invalid`` says credentials were given but not accepted (RFC 6750 ``error="invalid_token"``).
    The message never repeats what was sent."""

    def __init__(self, message: str, *, invalid: bool) -> None:
        super().__init__(message)
        self.message, self.invalid = message, invalid

    @property
    def challenge(self) -> str:
        return f'Bearer realm="{REALM}"' + (', error="invalid_token"' if self.invalid else "")

    def body(self) -> dict[str, Any]:
        """A GraphQL-shaped response, so clients read it as they read every other error."""
        return {"errors": [{"message": self.message, "extensions": {"code": "UNAUTHENTICATED"}}]}


class Authenticator:
    """Maps a request's credentials to a :class:`Principal`, from the settings' hashed keys."""

    def __init__(self, settings: Settings) -> None:
        self._roles = {digest: frozenset(roles) for digest, roles in settings.api_keys.items()}
        self._anonymous = ANONYMOUS_READER if settings.anonymous == "read" else None

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """Raises :class:`Unauthenticated` when the request may not go on."""
        key = headers.get(API_KEY_HEADER)
        token = None
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() != "bearer":
                raise Unauthenticated("unsupported Authorization scheme: send 'Authorization: Bearer <token>' "
                                      "or the key in the X-API-Key header", invalid=True)
            token = token.strip()
        if key is not None and token is not None and key.strip() != token:
            raise Unauthenticated("the X-API-Key header and the bearer token differ: send one credential",
                                  invalid=True)
        secret = key.strip() if key is not None else token
        if secret is None:
            if self._anonymous is not None:
                return self._anonymous
            raise Unauthenticated("authentication required: send an API key in the X-API-Key header, or "
                                  "'Authorization: Bearer <token>'", invalid=False)
        roles = self._roles.get(hash_key(secret)) if secret else None
        if roles is None:
            raise Unauthenticated("the API key or bearer token is not valid", invalid=True)
        return Principal(roles)


# ---- what they may do ---------------------------------------------------------------------------

class AccessDenied(GraphQLError):
    """A request its roles do not allow (``extensions.code`` FORBIDDEN)."""


def require_writer(context: object, department: str) -> Principal:
    """The request's principal, if it may write ``department``'s datasets (``writer:<department>``
    or ``admin``); otherwise raises :class:`AccessDenied`, a GraphQL error naming what is needed.

    ``context`` is the resolvers' context; the server sets its ``principal``. A context without one
    was not authenticated by the server: refused here (in-process callers simply do not set a
    ``write_check`` on their context)."""
    principal = getattr(context, "principal", None)
    needed = f"'writer:{department}' or 'admin'"
    if not isinstance(principal, Principal):
        raise AccessDenied(f"writing the datasets of {department} needs a key with the role {needed}; this "
                           "request carries no authenticated credentials",
                           extensions={"code": "FORBIDDEN", "department": department, "roles": []})
    if not principal.may_write(department):
        raise AccessDenied(f"the role {principal.role!r} may not write the datasets of {department}: that needs "
                           f"a key with the role {needed}",
                           extensions={"code": "FORBIDDEN", "department": department,
                                       "roles": sorted(principal.roles)})
    return principal


# ---- how much they may ask ----------------------------------------------------------------------

def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions enforcing the request limits (a fresh instance per request)."""
    depth, tokens, aliases, page = (settings.max_query_depth, settings.max_query_tokens, settings.max_aliases,
                                    settings.max_page_size)
    return [lambda: MaxTokensLimiter(max_token_count=tokens),
            lambda: QueryDepthLimiter(max_depth=depth),
            lambda: MaxAliasesLimiter(max_alias_count=aliases),
            lambda: PageSizeLimiter(page)]


class PageSizeLimiter(SchemaExtension):
    """Refuses a root field whose ``first`` is above ``max_page_size``, before anything runs.

    Only root fields take ``first``; its value is read from the document or the variables. The
    schema itself refuses more than 1,000 whatever the setting."""

    def __init__(self, max_page: int) -> None:
        self.max_page = max_page

    def on_execute(self) -> Iterator[None]:
        if self.max_page < SCHEMA_MAX_PAGE:
            context = self.execution_context
            if context.graphql_document is not None:
                operation = get_operation_ast(context.graphql_document, context.operation_name)
                if operation is not None:
                    self._check(operation, context.graphql_document.definitions, context.variables or {})
        yield

    def _check(self, operation: OperationDefinitionNode, definitions: Sequence[Any],
               variables: dict[str, Any]) -> None:
        fragments = {d.name.value: d.selection_set for d in definitions if isinstance(d, FragmentDefinitionNode)}
        defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
                    if d.default_value is not None}
        for field in _root_fields(operation.selection_set, fragments, set()):
            for argument in field.arguments or ():
                if argument.name.value != "first":
                    continue
                node = argument.value
                if isinstance(node, VariableNode) and node.name.value not in variables:
                    node = defaults.get(node.name.value, node)
                value = value_from_ast(node, GraphQLInt, variables)
                if isinstance(value, int) and value > self.max_page:
                    raise GraphQLError(
                        f"'first' must be between 0 and {self.max_page} (the max_page_size limit); "
                        f"{field.name.value} asked for {value}: ask for the next page with "
                        "'after: pageInfo.endCursor'",
                        nodes=[field], extensions={"code": "LIMIT", "limit": "max_page_size", "value": self.max_page})


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode],
                 seen: set[str]) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            if selection.name.value in fragments:
                yield from _root_fields(fragments[selection.name.value], fragments, seen)


class RequestTimeout(GraphQLError):
    """A request that ran past ``request_timeout``: the answer the transport gives when it stops
    waiting, and what the request's worker thread raises at its next store round trip."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"the request took longer than the request_timeout limit of {timeout:g} s and was "
                         "stopped: ask for less (a smaller page, fewer nested fields, a narrower filter)",
                         extensions={"code": "TIMEOUT", "limit": "request_timeout", "value": timeout})


class GuardedStore:
    """The served store as one request sees it: every read or write first checks the request's
    deadline, so a request the transport has stopped waiting for ends at its next round trip.

    A store query already running is not interrupted (the embedded store cannot be): it runs to
    its end in the request's worker thread. ``close`` (and leaving a ``with``) does nothing: the app
    owns the store."""

    def __init__(self, inner: GraphStore, deadline: float, timeout: float) -> None:
        self.inner, self.deadline, self.timeout = inner, deadline, timeout
        self.backend_name = inner.backend_name

    @property
    def data_version(self) -> Hashable | None:
        return self.inner.data_version

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise RequestTimeout(self.timeout)

    def named_graphs(self) -> list[str]:
        return self.inner.named_graphs()

    def count(self, graph: str | None = None) -> int:
        self.check()
        return self.inner.count(graph)

    def load(self, data: RdfInput, format: RdfFormat, *, graph: str | None = None,
             base_iri: str | None = None) -> None:
        self.check()
        self.inner.load(data, format, graph=graph, base_iri=base_iri)

    def replace_graph(self, graph: str, data: RdfInput, format: RdfFormat, *, base_iri: str | None = None) -> None:
        self.check()
        self.inner.replace_graph(graph, data, format, base_iri=base_iri)

    def commit(self, writes: GraphWrites, format: RdfFormat = RdfFormat.N_TRIPLES) -> None:
        self.check()
        self.inner.commit(writes, format)

    def delete_graph(self, graph: str) -> None:
        self.check()
        self.inner.delete_graph(graph)

    def query(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None,
              union_default_graph: bool = True) -> QueryResult:
        self.check()
        return self.inner.query(sparql, bindings=bindings, union_default_graph=union_default_graph)

    def select_terms(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None) -> TermRows:
        self.check()
        return self.inner.select_terms(sparql, bindings=bindings)

    def select_text(self, sparql: str) -> list[tuple[str | None, ...]]:
        self.check()
        return self.inner.select_text(sparql)

    def export(self, out: BinaryIO, format: RdfFormat, *, graphs: Sequence[str] | None = None) -> None:
        self.check()
        self.inner.export(out, format, graphs=graphs)

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        pass
