"""Hybrid search: identifier-split BM25 fused with the embedding ranking (analysis/search_rank.py), and
`manyskills.search` through a real server using it."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import pytest_lsp
from lsprotocol import types as lsp
from manyskills.analysis.search_rank import (
    Fusion,
    TokenCache,
    bm25_scores,
    hybrid_order,
    lexical_order,
    tokens,
)
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FUNCTIONS = {
    "parse_http_header": "def parse_http_header(line):\n    name, _, value = line.partition(':')\n"
                         "    return name.strip().lower(), value.strip()\n",
    "retryWithBackoff": "def retryWithBackoff(call, attempts):\n    for attempt in range(attempts):\n"
                        "        try:\n            return call()\n        except OSError:\n"
                        "            time.sleep(2 ** attempt)\n",
    "mean_of": "def mean_of(values):\n    # average of the numbers\n    return sum(values) / len(values)\n",
    "load_config": "def load_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
    "render_table": "def render_table(rows):\n    width = max(len(r) for r in rows)\n"
                    "    return '\\n'.join(r.ljust(width) for r in rows)\n",
    "escape_html": "def escape_html(text):\n    return text.replace('&', '&amp;').replace('<', '&lt;')\n",
}
QUERIES = {"parse an HTTP header line": "parse_http_header", "retry a call with exponential backoff":
           "retryWithBackoff", "average of numbers": "mean_of", "escape text for HTML": "escape_html"}


def test_identifiers_are_split_lowercased_and_stemmed():
    assert tokens("parseHTTPHeader(snake_case_name, base64, x)") == ["pars", "http", "header", "snak", "cas",
                                                                      "nam", "bas", "64"]
    assert tokens("Returns the parsed headers") == ["pars", "header"]  # stopwords out, inflections folded
    assert tokens("parse parses parsing") == ["pars"] * 3 and tokens("entries entry") == ["entry"] * 2
    assert tokens("def f(self): return None") == []


def test_bm25_prefers_the_rarer_matching_word():
    texts = ["def a(header):\n    return header\n", "def b(line):\n    return line\n",
             "def c(line, header):\n    return line\n"]
    scores = bm25_scores("header line", TokenCache().get(texts))
    assert scores.shape == (3,) and scores[2] > scores[0] > 0 and scores[2] > scores[1] > 0
    assert list(lexical_order("header", texts))[-1] == 1  # no match: last
    assert not bm25_scores("zzz", TokenCache().get(texts)).any()


def test_fusion_needs_both_rankings():
    texts = list(FUNCTIONS.values())
    names = list(FUNCTIONS)
    rng = np.random.default_rng(0)
    for fusion in (Fusion(), Fusion("rrf")):
        for query, wanted in QUERIES.items():
            # An embedding that puts the target in the middle: the lexical side lifts it to the top...
            sims = rng.permutation(np.linspace(-1.0, 1.0, len(texts)))
            middle = int(np.argsort(sims)[len(texts) // 2])
            sims[[middle, names.index(wanted)]] = sims[[names.index(wanted), middle]]
            order, scores = hybrid_order(query, texts, sims, fusion)
            assert names[order[0]] == wanted, (fusion, query)
            assert list(scores) == sorted(scores, reverse=True)
            assert names[int(np.argmax(sims))] != wanted and names[int(np.argmax(
                bm25_scores(query, TokenCache().get(texts))))] == wanted
        # ...and with no query word in any function, the embedding order stands.
        sims = rng.normal(size=len(texts))
        order, _ = hybrid_order("qqq www", texts, sims, fusion)
        assert list(order) == list(np.argsort(-sims, kind="stable"))
    # the weights set the balance: all on the embedding is the embedding ranking, none is BM25's
    sims = rng.normal(size=len(texts))
    order, _ = hybrid_order("parse an HTTP header line", texts, sims, Fusion(embedding_share=1.0))
    assert list(order) == list(np.argsort(-sims, kind="stable"))
    order, _ = hybrid_order("parse an HTTP header line", texts, sims, Fusion(embedding_share=0.0))
    assert names[order[0]] == "parse_http_header"


def test_token_cache_is_bounded():
    cache = TokenCache()
    for i in range(3):
        cache.get([f"def f{i}_{j}(): pass" for j in range(2000)])
    assert len(cache._counts) <= 4 * 2000 + 1000 + 2000


URI = "file:///tmp/manyskills-search/functions.py"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"]))
async def client(lsp_client: LanguageClient, tiny_model_dir):
    options = {"model": str(tiny_model_dir), "device": "cpu", "debounceMs": 0}
    lsp_client.set_configuration(options, section="manyskills")
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options))
    yield
    await lsp_client.shutdown_session()


async def test_search_command_ranks_by_the_hybrid(client: LanguageClient):
    """The result order is the hybrid's (scores and order recomputed from the similarities returned)."""
    import asyncio
    import time

    text = "import json\nimport time\n\n\n" + "\n\n".join(FUNCTIONS.values())
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=URI, language_id="python", version=1, text=text)))
    deadline = time.monotonic() + 120
    while True:
        stats = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="manyskills.stats"))
        if stats["cacheEntries"] >= len(FUNCTIONS) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    moved = 0
    for query, wanted in QUERIES.items():
        results = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="manyskills.search", arguments=[query, 10]))
        assert len(results) == len(FUNCTIONS) and all(r["uri"] == URI for r in results)
        names = [r["name"] for r in results]
        sims = np.array([r["similarity"] for r in results])
        # The order is the hybrid's for the embedding similarities the server computed...
        order, scores = hybrid_order(query, [FUNCTIONS[n] for n in names], sims)
        assert [names[i] for i in order] == names, query
        assert [r["score"] for r in results] == pytest.approx([float(s) for s in scores], abs=1e-4)
        assert results[names.index(wanted)]["range"]["start"]["line"] >= 4
        # ...which lifts the one function sharing the query's words above the embedding's order.
        moved += names.index(wanted) < int(np.sum(sims > sims[names.index(wanted)]))
    assert moved >= 2  # the tiny model's embeddings are random: the lexical side must matter
