"""The transformers backend with the real embedded SmolLM2-135M-Instruct (CPU)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from inference.llm import ChatMessage, GenerationParams, LLMRequest
from inference.llm.models import EMBEDDED_GGUF

REPO = Path(__file__).resolve().parents[3]

QUESTIONS = [
    "What is the capital of France?",
    "Write one sentence about a clock tower at night, with many details.",
    "Name a color.",
    "Explain in two sentences why the sky is blue.",
]


def chat(question: str, key: str, **params) -> LLMRequest:
    messages = [ChatMessage("system", "You answer briefly."), ChatMessage("user", question)]
    return LLMRequest(messages=messages, params=GenerationParams(**params), key=key)


def test_greedy_batch_matches_one_at_a_time(local_llm):
    # Prompts of different lengths, so the batch is left-padded; greedy text must not depend on the padding.
    requests = [chat(q, f"q{i}", max_new_tokens=10) for i, q in enumerate(QUESTIONS)]
    batched = local_llm.generate(requests)
    single = [local_llm.generate([request])[0] for request in requests]
    assert [r.key for r in batched] == ["q0", "q1", "q2", "q3"]
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(r.ok and r.text and r.model_id == EMBEDDED_GGUF for r in batched)
    assert all(r.prompt_tokens > 10 and 1 <= r.completion_tokens <= 10 for r in batched)


def test_seeded_sampling_is_reproducible_whatever_the_batch(local_llm):
    params = dict(max_new_tokens=8, temperature=1.0, top_p=0.95)
    requests = [chat(QUESTIONS[1], f"s{seed}", seed=seed, **params) for seed in (1, 2, 3)]
    batched = local_llm.generate(requests)
    alone = local_llm.generate([requests[2]])[0]  # same seed, different batch
    again = local_llm.generate([chat(QUESTIONS[3], "other", max_new_tokens=4)] + requests[:2])
    assert alone.text == batched[2].text
    assert [r.text for r in again[1:]] == [r.text for r in batched[:2]]
    assert len({r.text for r in batched}) > 1  # different seeds sample differently


def test_length_stop_and_bad_requests_end_as_results(local_llm):
    results = local_llm.generate(
        [
            chat(QUESTIONS[1], "cut", max_new_tokens=3, require_complete=True),
            chat(QUESTIONS[1], "cut-ok", max_new_tokens=3),
            chat("Count from 1 to 10, separated by commas.", "stop", max_new_tokens=12, stop=["4"]),
            LLMRequest(key="neither"),
            LLMRequest(prompt="The three primary colors are", params=GenerationParams(max_new_tokens=5), key="raw"),
        ]
    )
    cut, cut_ok, stop, neither, raw = results
    assert cut.finish_reason == "length" and "truncated" in cut.error and cut.completion_tokens == 3
    assert cut_ok.finish_reason == "length" and cut_ok.ok and cut_ok.text
    assert stop.finish_reason == "stop" and "4" not in stop.text and stop.text.startswith("1")
    assert neither.finish_reason == "error" and "exactly one" in neither.error
    assert raw.ok and raw.completion_tokens == 5


def test_repetition_penalty_is_off_by_default_and_lowers_repeated_tokens(local_llm):
    import torch

    from inference.llm.transformers_backend import penalise_repeats

    assert GenerationParams().repetition_penalty == 1.0
    bad = LLMRequest(prompt="x", params=GenerationParams(repetition_penalty=0.0))
    assert "repetition_penalty" in bad.problem()
    logits = torch.tensor([2.0, -1.0, 3.0, 0.5])
    assert penalise_repeats(logits, [0, 1, 1], 2.0).tolist() == [1.0, -2.0, 3.0, 0.5]
    assert logits.tolist() == [2.0, -1.0, 3.0, 0.5]  # the caller's logits are left alone

    # Greedy with a penalty stays independent of the batch, and the default gives the unpenalised text.
    ask = "List the days of the week, one per line."
    requests = [chat(ask, "p", max_new_tokens=24, repetition_penalty=1.3), chat(QUESTIONS[0], "q", max_new_tokens=8)]
    batched = local_llm.generate(requests)
    assert batched[0].text == local_llm.generate(requests[:1])[0].text
    plain = local_llm.generate([chat(ask, "plain", max_new_tokens=24)])[0]
    assert plain.text == local_llm.generate([chat(ask, "one", max_new_tokens=24, repetition_penalty=1.0)])[0].text


PRICES = {
    "type": "object",
    "properties": {
        "columns": {"type": "array", "items": {"type": "string", "maxLength": 20}, "minItems": 2, "maxItems": 2},
        "rows": {
            "type": "array",
            "minItems": 2,
            "maxItems": 3,
            "items": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 2, "maxItems": 2},
        },
    },
    "required": ["columns", "rows"],
    "additionalProperties": False,
}


def test_json_schema_constrains_the_reply_and_leaves_other_rows_alone(local_llm):
    schema = json.dumps(PRICES)
    ask = "Give a table of three fruits and their prices."
    constrained = chat(ask, "json", max_new_tokens=160, json_schema=schema)
    free = chat(QUESTIONS[0], "free", max_new_tokens=8)
    batched = local_llm.generate([constrained, free])
    value = json.loads(batched[0].text)  # the 135M model, left alone, answers this in prose
    assert set(value) == {"columns", "rows"} and len(value["columns"]) == 2 and 2 <= len(value["rows"]) <= 3
    assert batched[0].structured and batched[0].finish_reason == "stop"
    assert not batched[1].structured
    # A constrained row does not change its neighbour, and is itself the same whatever the batch.
    assert batched[1].text == local_llm.generate([free])[0].text
    assert batched[0].text == local_llm.generate([constrained])[0].text
    sampled = local_llm.generate([chat(ask, "s", max_new_tokens=160, json_schema=schema, temperature=1.0, seed=4)])
    assert json.loads(sampled[0].text)["rows"]


def test_loading_the_embedded_model_prints_no_progress_bars_or_deprecation_warnings(tmp_path):
    """A fresh cache, so the first-ever load (de-quantise, save, load) and a cached load both run."""
    script = (
        "from inference.llm import ChatMessage, GenerationParams, LLMConfig, LLMRequest, make_llm\n"
        "from inference.llm.models import load_weights\n"
        "import torch\n"
        "load_weights(None, 'cpu', torch.float32)\n"  # first load: converts the GGUF and caches it
        "llm = make_llm(LLMConfig(cpu_threads=1))\n"  # second load: from the cache
        "hi = LLMRequest(messages=[ChatMessage('user', 'hi')], params=GenerationParams(max_new_tokens=3))\n"
        "r = llm.generate([hi])\n"
        "print('TEXT', r[0].ok)\n"
    )
    env = {**os.environ, "PIXMO_LLM_CACHE": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "TEXT True"
    assert any(tmp_path.iterdir())  # it did convert and cache
    assert done.stderr == "", done.stderr[-2000:]  # no bars, no "past_key_values is deprecated"
