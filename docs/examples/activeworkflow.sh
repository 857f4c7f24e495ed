#!/usr/bin/env bash
# Every ActiveWorkflow call of docs/activeworkflow.md, in the page's order, with the status
# each must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... TOKEN=eyJ... docs/examples/activeworkflow.sh
#
# KEY is a project API key with the read and write scopes (it sends a HawkFlow run, so there
# is an agent to read); TOKEN is a user token (`roost users token --email …`) of an owner or
# member of the same project. tests/test_activeworkflow_docs.py runs this script against a
# real server and checks that each `curl -s …` of docs/activeworkflow.md appears here as
# `call <status> …`, so the page's examples are exactly what is tested.
#
# Needs bash, curl and python3 (for picking ids out of JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read and write scopes}"
: "${TOKEN:?set TOKEN to a user token (roost users token --email ...)}"
PYTHON=${PYTHON:-python3}
HF="x-hawkflow-api-key: $KEY"
AUTH="Authorization: Bearer $TOKEN"
EXPORT=$(mktemp)

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"
trap 'rm -f "$out" "$EXPORT"' EXIT

# -- something to read: one HawkFlow run ---------------------------------------------------------

call 201 -X POST "$BASE/v1/start" -H "$HF" -d '{"process": "nightly-etl", "uid": "run-1"}'
call 201 -X POST "$BASE/v1/end" -H "$HF" -d '{"process": "nightly-etl", "uid": "run-1"}'

# -- agents and messages -------------------------------------------------------------------------

call 200 "$BASE/api/v1/agents" -H "$AUTH"
AGENT=$(json 'd[0]["id"]')
[[ $(json 'd[0]["type"]') == Agents::Process ]]
[[ $(json 'd[0]["messages_count"]') == 2 ]]

call 200 "$BASE/api/v1/agents/$AGENT" -H "$AUTH"

call 200 "$BASE/api/v1/agents/$AGENT/messages?limit=1" -H "$AUTH"
MESSAGE=$(json 'd[0]["id"]')

call 200 "$BASE/api/v1/agents/$AGENT/messages?after=2020-01-01T00:00:00.000Z" -H "$AUTH"
[[ $(json 'len(d)') == 2 ]]

call 200 "$BASE/api/v1/messages/$MESSAGE" -H "$AUTH"
[[ $(json 'd["payload"]["kind"]') == run_ended ]]

call 200 -X PATCH "$BASE/api/v1/agents/$AGENT" -H "$AUTH" -d '{"disabled": true}'
[[ $(json 'd["disabled"]') == True ]]

# -- workflows -----------------------------------------------------------------------------------

call 201 -X POST "$BASE/api/v1/workflows" -H "$AUTH" \
  -d "{\"name\": \"Bob's nightly jobs\", \"description\": \"ETL and friends\", \"agent_ids\": [$AGENT]}"
WORKFLOW=$(json 'd["id"]')

call 200 "$BASE/api/v1/workflows" -H "$AUTH"

call 200 "$BASE/api/v1/workflows/$WORKFLOW" -H "$AUTH"
[[ $(json 'd["agents"][0]["id"]') == "$AGENT" ]]

call 200 "$BASE/api/v1/workflows/$WORKFLOW/export" -H "$AUTH"
cp "$out" "$EXPORT"
[[ $(json 'd["agents"][0]["type"]') == Agents::Process ]]

call 200 -X POST "$BASE/api/v1/workflows/import" -H "$AUTH" --data-binary "@$EXPORT"
[[ $(json 'd["id"]') == "$WORKFLOW" ]]

call 200 -X PATCH "$BASE/api/v1/workflows/$WORKFLOW" -H "$AUTH" -d '{"name": "Nightly jobs"}'

call 204 -X DELETE "$BASE/api/v1/workflows/$WORKFLOW" -H "$AUTH"

# -- errors --------------------------------------------------------------------------------------

call 401 "$BASE/api/v1/agents"
[[ $(json 'd["error"]') == "401 Unauthorized" ]]

call 404 "$BASE/api/v1/agents/999999999" -H "$AUTH"
[[ $(json 'd["error"]') == "404 Record not found" ]]

call 500 "$BASE/api/v1/agents/$AGENT/messages?limit=ten" -H "$AUTH"

call 422 -X POST "$BASE/api/v1/workflows/import" -H "$AUTH" -d '{"name": "no guid", "agents": []}'
[[ $(json 'd["field"]') == guid ]]

echo "all ActiveWorkflow examples answered as documented"
