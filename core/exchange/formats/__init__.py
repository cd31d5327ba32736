"""One module per file format, each exposing FORMAT (see core.exchange.registry)."""
