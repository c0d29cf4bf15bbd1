"""PixMo-Docs generation helpers: the sandbox for LLM-written code, the renderers and image checks.

Pure Python, no Beam: the Docs pipeline wraps these in DoFns.
"""
