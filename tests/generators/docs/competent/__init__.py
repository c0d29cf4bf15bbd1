"""Competent-output fixtures: replies written the way strong instruction-tuned models answer the Docs prompts
(fenced code with a sentence before or after, chatty preambles, numbered and bold QA, thousands separators,
booktabs LaTeX, ggplot-style matplotlib, dark themes, full HTML documents of 2k+ tokens), served by a scripted
OpenAI-compatible server (server.py) so the real pipeline can be judged on them.

scenarios.py holds the topics and data, code.py the programs per renderer, replies.py wraps them the way such
models do and writes QA from the data."""
