#!/usr/bin/env bash
# Every StatHat call of docs/stathat.md, in the page's order, with the status each must return.
#
#   BASE=http://127.0.0.1:8000 KEY=rk_... ALIAS=ops@example.com \
#   STATHAT_URL=http://127.0.0.1:8000 STATHAT_TOKEN=rk_... docs/examples/stathat.sh
#
# KEY needs the read and write scopes; ALIAS is an ezkey alias of a key of the same project
# (roost keys create --project P --alias ALIAS). STATHAT_TOKEN is the access token of a
# StatHat-compatible export API at STATHAT_URL to import from: tests/test_stathat_docs.py uses
# a key of another project on the same server, fills it here, and checks that each `curl -s …`
# of docs/stathat.md appears below as `call <status> …`.
#
# Needs bash, curl and python3 (for picking ids out of JSON; set PYTHON to use another).
set -euo pipefail

: "${BASE:?set BASE, e.g. http://127.0.0.1:8000}"
: "${KEY:?set KEY to an API key with the read and write scopes}"
: "${ALIAS:?set ALIAS to an ezkey alias of a key in the project of KEY}"
: "${STATHAT_URL:?set STATHAT_URL to a StatHat-compatible export API to import from}"
: "${STATHAT_TOKEN:?set STATHAT_TOKEN to its access token}"
PYTHON=${PYTHON:-python3}
AUTH="Authorization: Bearer $KEY"
HOUR=$(( $(date +%s) / 3600 * 3600 - 3600 ))

# shellcheck source=docs/examples/call.sh
source "$(dirname "$0")/call.sh"

# -- EZ API -----------------------------------------------------------------------------------

call 200 "$BASE/ez?ezkey=$KEY&stat=page+views&count=1"
[[ $(json 'd') == "{'status': 200, 'msg': 'ok'}" ]]

call 200 -X POST "$BASE/ez" -d "ezkey=$KEY&stat=request time (ms)&value=23.094"

call 200 -X POST "$BASE/ez" -d "ezkey=$KEY&stat=messages sent~total,europe&count=2&t=$HOUR"

call 200 -X POST "$BASE/ez" -H "Content-Type: application/json" \
  -d '{"ezkey": "'"$KEY"'",
       "data": [{"stat": "page views", "count": 2},
                {"stat": "messages sent~total,female", "count": 1},
                {"stat": "ws0: load average", "value": "0.732000", "t": '"$HOUR"'}]}'
[[ $(json 'd["count"]') == 3 ]]

call 200 -X POST "$BASE/ez" -d "ezkey=$ALIAS&stat=signups&count=1"
[[ $(json 'd["status"]') == 200 ]]

# -- classic API ------------------------------------------------------------------------------

call 200 -X POST "$BASE/c" -d "key=orders&ukey=$KEY&count=3"
call 200 -X POST "$BASE/v" -d "key=queue depth&ukey=$KEY&value=17"
[[ $(json 'd["status"]') == 200 ]]

# -- export API -------------------------------------------------------------------------------

call 200 "$BASE/x/$KEY/statlist"
[[ $(json 'len(d)') == 9 ]]
ORDERS_KEY=$(json 'next(s["classic_key"] for s in d if s["name"] == "orders")')
[[ $ORDERS_KEY == orders ]]

call 200 "$BASE/x/$KEY/stat?name=messages+sent+total"
TOTAL=$(json 'd["id"]')
call 200 "$BASE/x/$KEY/stat?name=page+views"
VIEWS=$(json 'd["id"]')

call 200 "$BASE/x/$KEY/data/$VIEWS/$TOTAL?t=1w3h"
[[ $(json '[x["name"] for x in d]') == "['page views', 'messages sent total']" ]]
[[ $(json 'sum(p["value"] for p in d[0]["points"])') == 3 ]]

call 200 "$BASE/x/$KEY/data/$TOTAL?t=1%20day%20@%201%20hour&start=$HOUR"
[[ $(json 'd[0]["points"][0]') == "{'time': $HOUR, 'value': 2}" ]]

call 200 "$BASE/x/$KEY/data/$VIEWS?summary=1d1d"
[[ $(json 'd["points"][0]["value"]') == 3 ]]

call 200 -X DELETE "$BASE/x/$KEY/stats/$TOTAL"
[[ $(json 'd["msg"]') == "stat deleted." ]]

# -- alerts -----------------------------------------------------------------------------------

call 200 -X POST "$BASE/x/$KEY/alerts" \
  -d "stat_id=$VIEWS&kind=value&time_window=1h&operator=greater than&threshold=1000"
ALERT=$(json 'd["id"]')
[[ $(json 'd["kind"], d["operator"], d["threshold"]') == "('value', 'greater than', 1000.0)" ]]

call 200 -X POST "$BASE/x/$KEY/alerts" \
  -d "stat_id=$VIEWS&kind=delta&time_window=1d&operator=less than&percentage=50&time_delta=1w"

call 200 -X POST "$BASE/x/$KEY/alerts" -d "stat_id=$VIEWS&kind=data&time_window=3h"

call 200 "$BASE/x/$KEY/alerts"
[[ $(json 'len(d)') == 3 ]]

call 200 "$BASE/x/$KEY/alerts/$ALERT"
[[ $(json 'd["state"]') == ok ]]

call 200 -X DELETE "$BASE/x/$KEY/alerts/$ALERT"
[[ $(json 'd["msg"]') == "alert deleted." ]]

# -- import -----------------------------------------------------------------------------------

# The source's data (a plain curl: this is what the StatHat account holds before the import).
curl -s --max-time 10 -o /dev/null "$STATHAT_URL/ez?ezkey=$STATHAT_TOKEN&stat=imported&count=5"

call 202 -X POST "$BASE/v1/import/stathat" -H "Authorization: Bearer $KEY" \
  -d '{"access_token": "'"$STATHAT_TOKEN"'", "base_url": "'"$STATHAT_URL"'"}'
for _ in $(seq 100); do  # at most 10 seconds
  curl -s --max-time 10 -o "$out" "$BASE/v1/import/stathat/status" -H "$AUTH"
  [[ $(json 'd["state"]') == done ]] && break
  sleep 0.1
done

call 200 "$BASE/v1/import/stathat/status" -H "Authorization: Bearer $KEY"
[[ $(json 'd["state"], d["stats_total"], d["stats_done"]') == "('done', 1, 1)" ]]

# -- errors -----------------------------------------------------------------------------------

call 200 "$BASE/ez?ezkey=nobody@example.com&stat=page+views&count=1"
[[ $(json 'd') == "{'status': 401, 'msg': 'invalid ezkey'}" ]]

call 200 "$BASE/ez?ezkey=$KEY&stat=page+views&value=1"
[[ $(json 'd["status"]') == 400 ]]

call 400 "$BASE/x/$KEY/data/$VIEWS?t=1h1d"
call 401 "$BASE/x/not-a-token/statlist"

echo "all StatHat examples answered as documented"
