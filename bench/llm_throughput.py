"""LLM throughput: one prompt at a time vs left-padded batches (transformers backend), and the same model behind
inference.llm.serve through the openai backend, all in this one process on this machine, one after another, so
the ratios compare like with like. Tokens are completion tokens actually generated (early EOS counts less). Not a
test: nothing here asserts a time.

    .venv/bin/python bench/llm_throughput.py [--model PATH] [--prompts 32] [--single 8] [--batch-size 16]
        [--max-new-tokens 32] [--threads 0] [--no-server]
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inference.llm import ChatMessage, GenerationParams, LLMConfig, LLMRequest, LLMResult, make_llm  # noqa: E402
from inference.llm.serve import make_server  # noqa: E402
from inference.llm.transformers_backend import TransformersBackend  # noqa: E402

TOPICS = [
    "a lighthouse", "a bicycle", "the moon", "a kitchen clock", "a mountain lake", "a city bus", "a violin",
    "a desert", "an old library", "a thunderstorm", "a chess game", "a bakery", "a train station", "a garden",
    "a museum", "a snowy street",
]  # fmt: skip
TASKS = ["Describe {} in detail.", "Write three questions a child might ask about {}.", "Tell a short story about {}."]


def make_requests(count: int, max_new_tokens: int) -> list[LLMRequest]:
    params = GenerationParams(max_new_tokens=max_new_tokens)
    return [
        LLMRequest(
            messages=[ChatMessage("user", TASKS[i % len(TASKS)].format(TOPICS[i % len(TOPICS)]))], params=params,
            key=f"p{i}",
        )
        for i in range(count)
    ]  # fmt: skip


def timed(run, requests: list[LLMRequest]) -> tuple[list[LLMResult], float]:
    start = time.perf_counter()
    results = run(requests)
    return results, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="HF dir, .gguf or hub name (default: embedded SmolLM2).")
    parser.add_argument("--prompts", type=int, default=32, help="Prompts for the batched runs.")
    parser.add_argument("--single", type=int, default=8, help="Prompts for the one-at-a-time baseline.")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default).")
    parser.add_argument("--no-server", action="store_true", help="Skip the openai-over-HTTP run.")
    args = parser.parse_args()

    config = LLMConfig(model=args.model, device=args.device, batch_size=args.batch_size, cpu_threads=args.threads)
    backend = TransformersBackend(config)
    start = time.perf_counter()
    backend.load()
    print(f"model {backend.model_id} on {backend.device}, loaded in {time.perf_counter() - start:.1f}s")
    requests = make_requests(args.prompts, args.max_new_tokens)
    backend.generate(requests[:2])  # warm-up: first-call allocations out of the timings

    rows = []
    results, seconds = timed(lambda rs: [backend.generate([r])[0] for r in rs], requests[: args.single])
    rows.append(("one at a time", len(results), 1, results, seconds))
    results, seconds = timed(backend.generate, requests)
    rows.append(("batched", len(results), args.batch_size, results, seconds))
    if not args.no_server:
        # Our OpenAI-compatible server on a free port, sharing this process's model; the client keeps a batch's
        # worth of requests in flight and the server gathers them into batches.
        server = make_server(backend, "127.0.0.1", 0, args.batch_size)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        client = make_llm(LLMConfig(backend="openai", url=url, max_concurrency=args.batch_size, timeout_s=600))
        results, seconds = timed(client.generate, requests)
        rows.append(("openai -> serve", len(results), args.batch_size, results, seconds))
        server.shutdown()

    line = "{:<16} {:>7} {:>5} {:>7} {:>8} {:>7} {:>9} {:>6}"
    print("\n" + line.format("mode", "prompts", "batch", "tokens", "seconds", "tok/s", "vs single", "errors"))
    baseline = None
    for name, count, batch, results, seconds in rows:
        tokens = sum(r.completion_tokens for r in results)
        rate = tokens / seconds
        baseline = baseline or rate
        errors = sum(r.error is not None for r in results)
        speedup = f"{rate / baseline:.1f}x"
        print(line.format(name, count, batch, tokens, f"{seconds:.1f}", f"{rate:.1f}", speedup, errors))


if __name__ == "__main__":
    main()
