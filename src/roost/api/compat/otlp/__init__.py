"""OpenTelemetry trace ingest over OTLP/HTTP, protobuf or JSON (API.md §5.9)."""
