"""Transforms and helpers every subset pipeline shares: splits, shards, dead letters, staging, reports."""
