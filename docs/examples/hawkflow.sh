#!/usr/bin/env bash
# Every HawkFlow call of docs/hawkflow.md, in the page's order, with the status each must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... docs/examples/hawkflow.sh
#
# KEY needs the read and write scopes. tests/test_hawkflow_docs.py runs this script against a
# real server and checks that each `curl -s …` of docs/hawkflow.md appears here as
# `call <status> …`, so the page's examples are exactly what is tested.
#
# Needs bash, curl and python3 (for picking ids out of JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read and write scopes}"
PYTHON=${PYTHON:-python3}
HF="x-hawkflow-api-key: $KEY"
AUTH="Authorization: Bearer $KEY"

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"

# -- send data --------------------------------------------------------------------------------

call 201 -X POST "$BASE/v1/start" -H "$HF" \
  -d '{"process": "nightly-etl", "meta": "eu-west", "uid": "run-42"}'

call 201 -X POST "$BASE/v1/metrics" -H "$HF" \
  -d '{"process": "nightly-etl", "meta": "eu-west",
       "items": {"rows_loaded": 15664, "model_accuracy": 0.85}}'

call 201 -X POST "$BASE/v1/exception" -H "$HF" \
  -d '{"process": "nightly-etl", "meta": "eu-west",
       "exception": "Traceback (most recent call last):\n  File \"etl.py\", line 7, in load\nKeyError: customer_id"}'

call 201 -X POST "$BASE/v1/end" -H "$HF" \
  -d '{"process": "nightly-etl", "meta": "eu-west", "uid": "run-42", "info": "3 files"}'
[[ $(json 'd["status"]') == 201 ]]

# -- errors -----------------------------------------------------------------------------------

call 422 -X POST "$BASE/v1/start" -H "$HF" -d '{"process": "etl", "uid": "no/slashes"}'
[[ $(json 'd["error"]') == "uid: may only contain letters, digits, '_', '-' and spaces" ]]

call 401 -X POST "$BASE/v1/start" -H "x-hawkflow-api-key: wrong" -d '{"process": "etl"}'

# -- read it back -----------------------------------------------------------------------------

call 200 "$BASE/api/v1/processes" -H "$AUTH"
PROCESS_ID=$(json 'next(p["id"] for p in d["items"] if p["name"] == "nightly-etl")')
[[ $(json 'd["items"][0]["last_run"]["status"]') == failed ]]

call 200 "$BASE/api/v1/processes/$PROCESS_ID/runs?status=ok,failed&limit=20" -H "$AUTH"
RUN_ID=$(json 'd["items"][0]["id"]')

call 200 "$BASE/api/v1/runs/$RUN_ID" -H "$AUTH"
[[ $(json 'len(d["metrics"]), len(d["exceptions"])') == "(2, 1)" ]]

call 200 "$BASE/api/v1/processes/$PROCESS_ID/series" -H "$AUTH"
SERIES_ID=$(json 'next(s["id"] for s in d["items"] if s["name"] == "rows_loaded")')

call 200 "$BASE/v1/stats/$SERIES_ID/data?resolution=1h" -H "$AUTH"

call 200 "$BASE/api/v1/exceptions?status=open" -H "$AUTH"
GROUP_ID=$(json 'd["items"][0]["id"]')
[[ $(json 'd["items"][0]["type"]') == KeyError ]]

call 200 "$BASE/api/v1/exceptions/$GROUP_ID/occurrences" -H "$AUTH"

call 200 -X PATCH "$BASE/api/v1/exceptions/$GROUP_ID" -H "$AUTH" -d '{"status": "resolved"}'

echo "all HawkFlow examples answered as documented"
