# Dataflow ships the project to workers with `--setup_file ./setup.py`; everything else lives in pyproject.toml.
from setuptools import setup

setup()
