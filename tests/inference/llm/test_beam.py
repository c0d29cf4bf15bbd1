"""LLMModelHandler inside a real Beam pipeline (in-process DirectRunner) with the real SmolLM2."""

import apache_beam as beam
from apache_beam.ml.inference.base import RunInference
from apache_beam.testing.util import assert_that

from inference.llm import ChatMessage, GenerationParams, LLMConfig, LLMModelHandler, LLMRequest
from inference.llm.models import EMBEDDED_GGUF
from pipelines.common.options import in_process_pipeline


def test_run_inference_pipeline(local_llm):
    short = GenerationParams(max_new_tokens=6)
    requests = [
        LLMRequest(messages=[ChatMessage("user", "Name a planet.")], params=short, key="a"),
        LLMRequest(messages=[ChatMessage("user", "Say hi.")], params=short, key="b"),
        # A truncation the caller refuses: it comes out as a result with an error, the bundle goes on.
        LLMRequest(prompt="Once upon", params=GenerationParams(max_new_tokens=2, require_complete=True), key="c"),
    ]
    expected = {r.key: r.text for r in local_llm.generate(requests[:2])}  # greedy: same text as outside Beam
    handler = LLMModelHandler(LLMConfig(batch_size=2, cpu_threads=1))

    def check(results):
        by_key = {r.key: r for r in results}
        assert sorted(by_key) == ["a", "b", "c"]
        for key in ("a", "b"):
            assert by_key[key].ok and by_key[key].text == expected[key]
            assert by_key[key].model_id == EMBEDDED_GGUF
        assert by_key["c"].finish_reason == "length" and by_key["c"].error.startswith("truncated")

    with in_process_pipeline() as pipeline:
        results = pipeline | beam.Create(requests) | RunInference(handler)
        assert_that(results, check)


def test_run_inference_through_the_openai_backend(served_url):
    requests = [
        LLMRequest(prompt=f"{n} plus {n} is", params=GenerationParams(max_new_tokens=3), key=str(n)) for n in (1, 2, 3)
    ]
    handler = LLMModelHandler(LLMConfig(backend="openai", url=served_url, max_concurrency=3))

    def check(results):
        assert sorted(r.key for r in results) == ["1", "2", "3"]
        assert all(r.ok and r.completion_tokens == 3 and r.model_id == EMBEDDED_GGUF for r in results)

    with in_process_pipeline() as pipeline:
        assert_that(pipeline | beam.Create(requests) | RunInference(handler), check)
