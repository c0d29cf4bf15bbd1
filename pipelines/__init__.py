"""One Apache Beam pipeline per PixMo subset, and the shared transforms in `common`."""
