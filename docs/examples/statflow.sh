#!/usr/bin/env bash
# Every StatFlow call of the README, in the README's order, with the status each must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... docs/examples/statflow.sh
#
# KEY needs the read, write and admin scopes (the demo key of `make serve` has them, or:
# roost keys create --project docs --scopes read,write,admin). tests/test_docs.py runs this
# script against a real server and checks that each `curl -s …` of the README appears here as
# `call <status> …`, so the README's examples are exactly what is tested.
#
# Needs bash, curl and python3 (for picking ids out of JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read, write and admin scopes}"
PYTHON=${PYTHON:-python3}
AUTH="Authorization: Bearer $KEY"

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"

# -- send data --------------------------------------------------------------------------------

call 202 -X POST "$BASE/v1/ingest" -H "$AUTH" \
  -d '{"stat": "jobs.processed", "value": 3}'

call 202 -X POST "$BASE/v1/ingest" -H "$AUTH" \
  -d '{"stat": "queue.wait_ms", "value": 41.5, "type": "value"}'

call 202 -X POST "$BASE/v1/stat" -H "$AUTH" \
  -d '{"stat": "emails.sent", "count": 12}'

call 202 -X POST "$BASE/v1/ingest/batch" -H "$AUTH" \
  -d '{"items": [{"stat": "jobs.processed", "value": 2},
                 {"stat": "cpu.load", "value": 0.42, "type": "value"},
                 {"stat": "cpu.load", "value": "high", "type": "value"}]}'
[[ $(json 'd["accepted"], d["rejected"][0]["index"]') == "(2, 2)" ]]

# -- read it back -----------------------------------------------------------------------------

call 200 "$BASE/v1/stats" -H "$AUTH"
STAT_ID=$(json 'next(s["id"] for s in d["stats"] if s["name"] == "jobs.processed")')

call 200 "$BASE/v1/stats/$STAT_ID" -H "$AUTH"
[[ $(json 'd["type"]') == counter ]]

NOW=$(date +%s)
call 200 "$BASE/v1/stats/$STAT_ID/data?from=$((NOW - 3600))&to=$((NOW + 60))&resolution=5m" \
  -H "$AUTH"
# Counters sum per bucket: 3 from the first ingest plus 2 from the batch.
[[ $(json 'sum(p["value"] for p in d["points"])') == 5.0 ]]

call 200 "$BASE/v1/stats/$STAT_ID/export?format=csv&from=$((NOW - 3600))&resolution=1h" \
  -H "$AUTH"
[[ $(head -n 1 "$out") == "time,value" ]]

# -- API keys ---------------------------------------------------------------------------------

call 201 -X POST "$BASE/v1/auth/api-keys" -H "$AUTH" \
  -d '{"name": "dashboard", "scopes": ["read"]}'
KEY_ID=$(json 'd["id"]')
READ_KEY=$(json 'd["key"]')

call 200 "$BASE/v1/auth/api-keys" -H "$AUTH"

call 403 -X POST "$BASE/v1/ingest" -H "Authorization: Bearer $READ_KEY" \
  -d '{"stat": "jobs.processed", "value": 1}'

call 204 -X DELETE "$BASE/v1/auth/api-keys/$KEY_ID" -H "$AUTH"

call 401 "$BASE/v1/stats" -H "Authorization: Bearer $READ_KEY"

# -- annotations ------------------------------------------------------------------------------

call 201 -X POST "$BASE/v1/annotations" -H "$AUTH" \
  -d "{\"text\": \"Deployed v2.0\", \"stat_ids\": [$STAT_ID]}"
NOTE_ID=$(json 'd["id"]')

call 200 "$BASE/v1/annotations" -H "$AUTH"

call 204 -X DELETE "$BASE/v1/annotations/$NOTE_ID" -H "$AUTH"

# -- errors -----------------------------------------------------------------------------------

call 422 -X POST "$BASE/v1/ingest" -H "$AUTH" -d '{"stat": "jobs.processed"}'
[[ $(json 'd["field"]') == value ]]

call 422 -X POST "$BASE/v1/ingest" -H "$AUTH" \
  -d '{"stat": "jobs.processed", "value": 1, "type": "value"}'

call 404 "$BASE/v1/stats/999999" -H "$AUTH"

echo "all StatFlow examples answered as documented"
