#!/usr/bin/env bash
# Every trace call of docs/honeyhive.md, in the page's order, with the status each must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... docs/examples/honeyhive.sh
#
# KEY needs the read and write scopes. tests/test_honeyhive_docs.py runs this script against a
# real server and checks that each `curl -s …` of docs/honeyhive.md appears here as
# `call <status> …`, so the page's examples are exactly what is tested.
#
# Needs bash, curl, gzip and python3 (for picking fields out of JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read and write scopes}"
PYTHON=${PYTHON:-python3}
AUTH="Authorization: Bearer $KEY"
# A fresh session per run, so the script can run again against the same server.
SESSION=$("$PYTHON" -c 'import uuid; print(uuid.uuid4())')

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"

# -- sessions and events ----------------------------------------------------------------------

call 200 -X POST "$BASE/session/start" -H "$AUTH" \
  -d "{\"session\": {\"session_id\": \"$SESSION\", \"session_name\": \"support-bot\",
       \"source\": \"docs\", \"user_properties\": {\"tier\": \"pro\"}}}"
[[ $(json 'd["session_id"] == d["event_id"] and "org_id" in d') == True ]]

call 200 -X POST "$BASE/session/$SESSION/event" -H "$AUTH" \
  -d '{"event_type": "chain", "event_name": "answer", "inputs": {"question": "where is my order?"},
       "children": [{"event_type": "model", "event_name": "llm", "duration": 820,
                     "config": {"model": "gpt-4o-mini"},
                     "inputs": {"messages": [{"role": "user", "content": "where is my order?"}]},
                     "outputs": {"content": "It shipped yesterday."},
                     "metadata": {"prompt_tokens": 41, "completion_tokens": 9, "cost": 0.0004}}]}'
[[ $(json 'd["success"]') == True ]]

call 200 -X POST "$BASE/events" -H "$AUTH" \
  -d "{\"event\": {\"event_type\": \"tool\", \"event_name\": \"lookup_order\",
       \"session_id\": \"$SESSION\", \"inputs\": {\"order\": 17}, \"error\": \"timeout\"}}"
EVENT_ID=$(json 'd["event_id"]')

call 200 -X PUT "$BASE/events" -H "$AUTH" \
  -d "{\"event_id\": \"$SESSION\", \"feedback\": {\"rating\": 5}, \"outputs\": {\"resolved\": true}}"

call 200 -X POST "$BASE/events/batch" -H "$AUTH" \
  -d '{"events": [{"event_type": "model", "inputs": {"q": 1}}, {"event_type": "tool", "inputs": {}}],
       "is_single_session": true, "session_properties": {"session_name": "nightly-eval"}}'
[[ $(json 'len(d["event_ids"])') == 2 ]]

# -- reading a session ------------------------------------------------------------------------

call 200 "$BASE/session/$SESSION" -H "$AUTH"
[[ $(json 'd["metadata"]["num_events"], d["metadata"]["total_tokens"]') == "(3, 50)" ]]
[[ $(json '[c["event_name"] for c in d["children"][0]["children"]]') == "['llm']" ]]

call 200 -X POST "$BASE/v1/events/export" -H "$AUTH" \
  -d '{"filters": [{"field": "event_type", "operator": "is", "value": "model"}], "limit": 10}'
[[ $(json 'd["totalEvents"] >= 2') == True ]]

# -- OpenTelemetry ----------------------------------------------------------------------------

TRACE=$("$PYTHON" -c 'import os; print(os.urandom(16).hex())')
call 200 -X POST "$BASE/v1/traces" -H "$AUTH" -H "Content-Type: application/json" \
  -d "{\"resourceSpans\": [{\"resource\": {\"attributes\": [
        {\"key\": \"service.name\", \"value\": {\"stringValue\": \"checkout\"}}]},
       \"scopeSpans\": [{\"spans\": [{\"traceId\": \"$TRACE\", \"spanId\": \"00f067aa0ba902b7\",
         \"name\": \"chat gpt-4o-mini\", \"kind\": 1,
         \"startTimeUnixNano\": \"1795000000000000000\", \"endTimeUnixNano\": \"1795000000420000000\",
         \"attributes\": [
           {\"key\": \"session.id\", \"value\": {\"stringValue\": \"checkout-$TRACE\"}},
           {\"key\": \"gen_ai.operation.name\", \"value\": {\"stringValue\": \"chat\"}},
           {\"key\": \"gen_ai.request.model\", \"value\": {\"stringValue\": \"gpt-4o-mini\"}},
           {\"key\": \"gen_ai.usage.input_tokens\", \"value\": {\"intValue\": \"12\"}},
           {\"key\": \"gen_ai.usage.output_tokens\", \"value\": {\"intValue\": \"30\"}}]}]}]}]}"
[[ $(json 'd') == "{}" ]]

call 200 "$BASE/session/checkout-$TRACE" -H "$AUTH"
[[ $(json 'd["event_name"], d["children"][0]["event_type"]') == "('checkout', 'model')" ]]

# -- Roost's read API -------------------------------------------------------------------------

call 200 "$BASE/api/v1/traces/sessions?user_property=tier:pro&limit=10" -H "$AUTH"
[[ $(json 'any(s["session_id"] == "'"$SESSION"'" for s in d["sessions"])') == True ]]

call 200 "$BASE/api/v1/traces/sessions/$SESSION" -H "$AUTH"
[[ $(json 'd["error_count"], d["total_tokens"]') == "(1, 50)" ]]

call 200 "$BASE/api/v1/traces/events?type=tool&error=true&q=17" -H "$AUTH"
[[ $(json 'd["events"][0]["event_id"]') == "$EVENT_ID" ]]

# -- errors -----------------------------------------------------------------------------------

call 400 -X POST "$BASE/events" -H "$AUTH" -d '{"event": {"event_type": "agent", "inputs": {}}}'
[[ $(json 'd["errorCode"]') == VALIDATION_ERROR ]]

call 404 "$BASE/session/3b0c8a44-96a8-4f4a-9d3e-2f1f3c2b1a00" -H "$AUTH"

call 401 -X POST "$BASE/session/start" -H "Authorization: Bearer rk_not_a_key" -d '{}'

echo "all HoneyHive and OTLP examples answered as documented"
