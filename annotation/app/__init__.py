"""The annotation web app: people record Cap descriptions, point at things, ask AMA questions and verify Count rows;
the admin exports what they made as files the pipelines read (annotation/exports.py). `python -m annotation.app`."""
