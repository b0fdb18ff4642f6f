"""GraphQL object types of the foundation's slice.

Hand-written for the one class the slice serves; the API issue generates types from the ontology
and its shapes instead.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry

from kg_service.api.compiler import ClassQuery, FieldSource
from kg_service.namespaces import CITY


@strawberry.type(description="A registered business (企业), from the market regulation bureau's register.")
class Enterprise:
    id: strawberry.ID = strawberry.field(description="The enterprise's IRI.")
    name: str | None = strawberry.field(description="Registered name (企业名称), in Chinese.")
    credit_code: str | None = strawberry.field(description="Unified social credit code (统一社会信用代码).")
    industry_code: str | None = strawberry.field(description="Industry category, GB/T 4754 (行业代码).")
    registered_capital: Decimal | None = strawberry.field(description="Registered capital in 万元.")
    employees: int | None = strawberry.field(description="Number of employees (从业人数).")
    established_on: datetime.date | None = strawberry.field(description="Date of registration (成立日期).")
    district: strawberry.ID | None = strawberry.field(description="IRI of the district it is located in.")
    classes: list[str] = strawberry.field(description="Every class it belongs to, asserted or inferred.")


ENTERPRISE_QUERY = ClassQuery(
    class_iri=str(CITY.Enterprise),
    fields={
        "name": FieldSource(str(CITY.name), language="zh"),
        "creditCode": FieldSource(str(CITY.creditCode)),
        "industryCode": FieldSource(str(CITY.industryCode)),
        "registeredCapital": FieldSource(str(CITY.registeredCapital)),
        "employees": FieldSource(str(CITY.employees)),
        "establishedOn": FieldSource(str(CITY.establishedOn)),
        "district": FieldSource(str(CITY.locatedIn), value_class=str(CITY.District)),
    },
)


@strawberry.type(description="A named graph of the store and how many triples it holds.")
class NamedGraph:
    iri: strawberry.ID
    triples: int
