"""Config, flags, request checks and the pieces that need no model."""

import argparse
import email.utils
import json
import sys
import time

import pytest

from inference.llm import (
    ChatMessage,
    GenerationParams,
    LLMConfig,
    LLMModelHandler,
    LLMRequest,
    LLMResult,
    add_llm_arguments,
    llm_config_from_args,
    make_llm,
)
from inference.llm.openai_backend import base_url, retry_delay
from inference.llm.types import check_result
from inference.llm.vllm_backend import inference_args


def parse(argv: list[str]) -> LLMConfig:
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    return llm_config_from_args(parser.parse_args(argv))


def test_flags_build_the_config():
    assert parse([]) == LLMConfig()
    cfg = parse(
        ["--llm-backend", "openai", "--llm-url", "http://h:8000/v1", "--llm-model", "m", "--llm-batch-size", "16",
         "--llm-concurrency", "4", "--llm-timeout", "30", "--llm-max-retries", "2", "--llm-api-key-env", "KEY"]
    )  # fmt: skip
    assert (cfg.backend, cfg.url, cfg.model, cfg.batch_size) == ("openai", "http://h:8000/v1", "m", 16)
    assert (cfg.max_concurrency, cfg.timeout_s, cfg.max_retries, cfg.api_key_env) == (4, 30.0, 2, "KEY")
    assert cfg.validate() == []


def test_validate_names_every_problem():
    assert any("--llm-url" in p for p in LLMConfig(backend="openai").validate())
    assert any("--llm-model" in p for p in LLMConfig(backend="vllm").validate())
    problems = LLMConfig(batch_size=0, max_retries=-1, model="/nowhere/x.gguf", url="ftp://x").validate()
    assert len(problems) == 4, problems
    with pytest.raises(ValueError, match="--llm-url"):
        make_llm(LLMConfig(backend="openai"))


def test_vllm_backend_is_built_lazily():
    # Building the backend and its Beam handler must not import vllm (or openai, which Beam's module needs).
    llm = make_llm(LLMConfig(backend="vllm", model="Qwen/Qwen2.5-7B-Instruct"))
    handler = LLMModelHandler(LLMConfig(backend="vllm", model="Qwen/Qwen2.5-7B-Instruct", batch_size=4))
    assert llm.model_id == "Qwen/Qwen2.5-7B-Instruct"
    assert handler.share_model_across_processes()
    assert "vllm" not in sys.modules


def test_handler_batching_and_sharing():
    local = LLMModelHandler(LLMConfig(batch_size=4, device="cpu"))
    assert local.batch_elements_kwargs() == {"min_batch_size": 1, "max_batch_size": 4}
    assert not local.share_model_across_processes()  # CPU: one copy per process
    remote = LLMModelHandler(LLMConfig(backend="openai", url="http://h/v1", batch_size=4, max_concurrency=16))
    assert remote.batch_elements_kwargs()["max_batch_size"] == 16  # enough to keep every connection busy
    assert not remote.share_model_across_processes()
    assert remote.get_metrics_namespace() == "LLM-openai"


def test_request_problems():
    assert LLMRequest(prompt="x").problem() is None
    assert "exactly one" in LLMRequest().problem()
    assert "exactly one" in LLMRequest(prompt="x", messages=[ChatMessage("user", "y")]).problem()
    assert "top_p" in LLMRequest(prompt="x", params=GenerationParams(top_p=0)).problem()
    assert LLMRequest(messages=[ChatMessage("user", "y")]).messages == (ChatMessage("user", "y"),)
    assert GenerationParams(stop="###").stop == ("###",) and GenerationParams(stop=["a", "b"]).stop == ("a", "b")


def test_vllm_inference_args():
    params = GenerationParams(max_new_tokens=64, temperature=0.7, top_p=0.9, seed=3, stop=["\n\n"])
    assert inference_args(params) == {"max_tokens": 64, "temperature": 0.7, "top_p": 0.9, "seed": 3, "stop": ["\n\n"]}
    assert "seed" not in inference_args(GenerationParams()) and "stop" not in inference_args(GenerationParams())
    # A schema is vLLM's guided decoding: response_format on chat, structured_outputs on completions.
    schema = '{"type": "object", "properties": {"n": {"type": "integer"}}}'
    chat = inference_args(GenerationParams(json_schema=schema))["response_format"]
    assert chat["type"] == "json_schema" and chat["json_schema"]["schema"]["properties"]["n"] == {"type": "integer"}
    completion = inference_args(GenerationParams(json_schema=schema), chat=False)
    assert completion["extra_body"] == {"structured_outputs": {"json": json.loads(schema)}}
    assert "json_schema" in LLMRequest(prompt="x", params=GenerationParams(json_schema="[1]")).problem()


def test_check_result_flags_truncation_only_when_asked():
    cut = LLMResult(key="k", text="half an answ", finish_reason="length")
    assert check_result(cut, GenerationParams()).error is None
    assert "truncated" in check_result(cut, GenerationParams(require_complete=True)).error
    assert "empty" in check_result(LLMResult(key="k", text=" ", finish_reason="stop"), GenerationParams()).error


def test_retry_delay():
    assert retry_delay(1, "3600", backoff_s=1, max_backoff_s=5) == 5  # a huge Retry-After is capped
    assert retry_delay(3, "2", backoff_s=1, max_backoff_s=5) == 2  # the server's wish wins over backoff
    in_a_while = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 0 <= retry_delay(1, in_a_while, backoff_s=1, max_backoff_s=10) <= 3
    for attempt in (1, 2, 3, 4, 5):
        delay = retry_delay(attempt, None, backoff_s=1, max_backoff_s=8)
        expected = min(2 ** (attempt - 1), 8)
        assert expected / 2 <= delay <= expected  # exponential, jittered into its upper half
    assert retry_delay(1, "soon", backoff_s=1, max_backoff_s=8) <= 1  # an unreadable header falls back


def test_base_url():
    assert base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert base_url("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1"
    assert base_url("https://api.example.com/openai/v1") == "https://api.example.com/openai/v1"


def test_flags_show_in_help_when_added_to_a_subsets_group():
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser.add_argument_group("docs"))
    help_text = parser.format_help()
    assert "docs:\n  --llm-backend {transformers,openai,vllm}\n" in help_text  # listed with its help, not only in usage
