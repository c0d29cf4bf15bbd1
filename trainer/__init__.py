"""A small Molmo-style VLM trainer that reads the PixMo Parquet shards (see trainer/README.md)."""
