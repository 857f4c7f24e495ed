"""StatHat-compatible ingest (EZ and classic) and export API (API.md §2)."""
