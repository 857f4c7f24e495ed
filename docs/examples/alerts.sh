#!/usr/bin/env bash
# Every alert and silence call of docs/alerts.md, in the page's order, with the status each
# must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... HOOK=http://127.0.0.1:9000/hook docs/examples/alerts.sh
#
# Run it against a fresh server (the page's ids are the first ones): KEY needs the read, write
# and admin scopes, HOOK is a webhook receiver. tests/test_alerts_docs.py runs it against a
# real server and checks that each alert and silence `curl -s …` of docs/alerts.md appears here
# as `call <status> …`.
#
# Needs bash, curl and python3 (for reading JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read, write and admin scopes}"
: "${HOOK:?set HOOK to the URL of a webhook receiver}"
PYTHON=${PYTHON:-python3}
AUTH="Authorization: Bearer $KEY"

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"

# -- what the page's examples assume: the stat 1, the channel 1, the process "backup" --------

call 202 -X POST "$BASE/v1/ingest" -H "$AUTH" -d '{"stat": "queue.length", "value": 130, "type": "value"}'
call 200 "$BASE/v1/stats" -H "$AUTH"
[[ $(json 'd["stats"][0]["id"]') == 1 ]]
call 201 -X POST "$BASE/api/v1/channels" -H "$AUTH" -d "{\"name\": \"hook\", \"url\": \"$HOOK\"}"
[[ $(json 'd["id"]') == 1 ]]
call 201 -X POST "$BASE/v1/start" -H "x-hawkflow-api-key: $KEY" -d '{"process": "backup"}'

# -- the page ---------------------------------------------------------------------------------

call 201 -X POST "$BASE/api/v1/alerts" -H "Authorization: Bearer $KEY" \
  -d '{"name": "queue too long", "kind": "threshold", "stat_id": 1, "window": "5m",
       "operator": ">", "value": 100, "channel_ids": [1]}'
[[ $(json 'd["id"], d["state"]') == "(1, 'ok')" ]]

call 201 -X POST "$BASE/api/v1/alerts" -H "Authorization: Bearer $KEY" \
  -d '{"name": "backup missing", "kind": "run", "process": "backup", "condition": "missing",
       "schedule": "30 2 * * *", "grace": 600, "channel_ids": [1]}'

call 201 -X POST "$BASE/api/v1/alerts" -H "Authorization: Bearer $KEY" \
  -d '{"name": "big spender", "kind": "spend", "measure": "cost", "per": "user_id",
       "window": "1d", "value": 5, "channel_ids": [1]}'

# The server evaluates every second here (ROOST_ALERT_INTERVAL=1): wait for the first alert.
for _ in $(seq 50); do
  call 200 "$BASE/api/v1/alerts?state=firing" -H "Authorization: Bearer $KEY"
  [[ $(json 'len(d["items"])') == 1 ]] && break
  sleep 0.2
done
[[ $(json 'd["items"][0]["name"]') == "queue too long" ]]

call 200 "$BASE/api/v1/alerts/1" -H "Authorization: Bearer $KEY"
[[ $(json 'd["last_value"]') == 130.0 ]]

call 200 -X PATCH "$BASE/api/v1/alerts/1" -H "Authorization: Bearer $KEY" \
  -d '{"value": 250, "for": 120}'
[[ $(json 'd["value"], d["window"]') == "(250.0, '5m')" ]]

call 200 "$BASE/api/v1/alerts/1/events" -H "Authorization: Bearer $KEY"
[[ $(json 'd["items"][-1]["to"]') == firing ]]

call 201 -X POST "$BASE/api/v1/silences" -H "Authorization: Bearer $KEY" \
  -d '{"alert_id": 1, "until": "2030-01-01T00:00:00Z", "reason": "deploy"}'
call 200 "$BASE/api/v1/silences" -H "Authorization: Bearer $KEY"
call 204 -X DELETE "$BASE/api/v1/silences/1" -H "Authorization: Bearer $KEY"

call 204 -X DELETE "$BASE/api/v1/alerts/1" -H "Authorization: Bearer $KEY"

echo "all alert examples answered as documented"
