"""Scripts copied into the sandbox and run there around LLM code; the worker never imports them."""
