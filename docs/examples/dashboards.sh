#!/usr/bin/env bash
# Every call of docs/dashboards.md, in the page's order, with the status each must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... docs/examples/dashboards.sh
#
# KEY needs the read, write and admin scopes (shares need admin):
#   roost keys create --project docs --scopes read,write,admin
# tests/test_dashboards_docs.py runs this script against a real server and checks that each
# `curl -s …` of docs/dashboards.md appears here as `call <status> …`, so the page's examples
# are exactly what is tested.
#
# Needs bash, curl and python3 (for picking ids out of JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read, write and admin scopes}"
PYTHON=${PYTHON:-python3}
AUTH="Authorization: Bearer $KEY"

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"

# -- two stats to chart -----------------------------------------------------------------------

call 202 -X POST "$BASE/v1/ingest" -H "$AUTH" \
  -d '{"stat": "checkout.orders", "value": 3}'

call 202 -X POST "$BASE/v1/ingest" -H "$AUTH" \
  -d '{"stat": "checkout.latency_ms", "value": 182, "type": "value"}'

call 200 "$BASE/v1/stats" -H "$AUTH"
ORDERS=$(json 'next(s["id"] for s in d["stats"] if s["name"] == "checkout.orders")')
LATENCY=$(json 'next(s["id"] for s in d["stats"] if s["name"] == "checkout.latency_ms")')

# -- dashboards -------------------------------------------------------------------------------

call 201 -X POST "$BASE/api/v1/dashboards" -H "$AUTH" \
  -d "{\"name\": \"Checkout\",
       \"panels\": [{\"stat_id\": $ORDERS}, {\"stat_id\": $LATENCY, \"title\": \"Latency (ms)\"}]}"
DASHBOARD_ID=$(json 'd["id"]')
[[ $(json '[p["position"] for p in d["panels"]]') == "[0, 1]" ]]

call 200 "$BASE/api/v1/dashboards" -H "$AUTH"
[[ $(json 'd["items"][0]["name"]') == Checkout ]]

call 200 -X PATCH "$BASE/api/v1/dashboards/$DASHBOARD_ID" -H "$AUTH" \
  -d "{\"name\": \"Checkout health\",
       \"panels\": [{\"stat_id\": $LATENCY, \"title\": \"Latency (ms)\"}, {\"stat_id\": $ORDERS}]}"

call 200 "$BASE/api/v1/dashboards/$DASHBOARD_ID" -H "$AUTH"
# The panels are in the order the PATCH gave.
[[ $(json '[p["stat_id"] for p in d["panels"]]') == "[$LATENCY, $ORDERS]" ]]

call 422 -X POST "$BASE/api/v1/dashboards" -H "$AUTH" -d '{"name": ""}'
[[ $(json 'd["field"]') == name ]]

call 404 -X POST "$BASE/api/v1/dashboards" -H "$AUTH" \
  -d '{"name": "Elsewhere", "panels": [{"stat_id": 999999999}]}'

# -- public shares ----------------------------------------------------------------------------

call 201 -X POST "$BASE/api/v1/shares" -H "$AUTH" \
  -d "{\"dashboard_id\": $DASHBOARD_ID}"
SHARE_ID=$(json 'd["id"]')
SVG_URL=$(json 'd["svg_url"]')

call 200 "$SVG_URL"
[[ $(head -c 4 "$out") == "<svg" ]]

call 200 "$SVG_URL?range=7d"

call 201 -X POST "$BASE/api/v1/shares" -H "$AUTH" \
  -d "{\"stat_id\": $ORDERS}"

call 200 "$BASE/api/v1/shares" -H "$AUTH"
[[ $(json 'len(d["items"])') == 2 ]]

call 204 -X DELETE "$BASE/api/v1/shares/$SHARE_ID" -H "$AUTH"

call 404 "$SVG_URL"

call 204 -X DELETE "$BASE/api/v1/dashboards/$DASHBOARD_ID" -H "$AUTH"

echo "all dashboard examples answered as documented"
