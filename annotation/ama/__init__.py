"""PixMo-AskModelAnything: draft answers to annotators' questions from OCR text + a caption with a text-only LLM."""
