# Helpers the example scripts share: `call` runs one documented curl and checks its status,
# `json` reads a field of the last answer. Sourced, not run; needs PYTHON set.

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# call STATUS CURL-ARGS...: run `curl -s CURL-ARGS`, print the body, and stop the script
# unless the HTTP status is STATUS.
call() {
  local expected=$1 status
  shift
  status=$(curl -s --max-time 10 -o "$out" -w '%{http_code}' "$@")
  printf '%s %s\n' "$status" "$(cat "$out")"
  if [[ $status != "$expected" ]]; then
    echo "FAILED: expected HTTP $expected, got $status from: curl $*" >&2
    exit 1
  fi
}

# json EXPR: evaluate a Python expression over the last response body, parsed as `d`.
json() {
  "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$out" "$1"
}
