"""README command 1, for real: `citykg demo` ingests the sample city and serves GraphQL over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from kg_service.cli.demo import SAMPLE_QUERY
from tests.live_server import citykg_server


def test_demo_serves_the_sample_city_over_http(tmp_path: Path) -> None:
    """Without an API key: the demo serves with anonymous read-only access on, and says so."""
    with citykg_server("demo", tmp_path / "data") as url:
        typename = httpx.post(f"{url}/graphql", json={"query": "{__typename}"}, timeout=10)
        assert typename.json() == {"data": {"__typename": "Query"}}
        sample = httpx.post(f"{url}/graphql", json={"query": SAMPLE_QUERY}, timeout=10).json()
        enterprises = sample["data"]["enterprises"]["nodes"]
        assert len(enterprises) == 5 and sample["data"]["enterprises"]["totalCount"] == 8
        assert all(e["creditCode"] and len(e["creditCode"]) == 18 for e in enterprises)
        assert all(e["assertedBy"] == ["market-regulation/enterprise-register"] for e in enterprises)
        assert "清河市江岸精密机械有限公司" in {name for e in enterprises for name in e["name"]}
    assert (tmp_path / "data" / "store").is_dir()
    output = (tmp_path / "server.log").read_text()
    assert "anonymous read-only access on" in output and "anonymous requests may read" in output
