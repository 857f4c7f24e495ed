-- POST a fixed body read from a file, with a Bearer key.
-- Usage: wrk ... -s bench/lua/post.lua <url> -- <path> <key> <body-file>
-- Builds one static request per thread (no request() callback, no response() callback:
-- both would slow wrk down). done() prints one parseable result line.

function init(args)
   local path, key, body_file = args[1], args[2], args[3]
   local f = assert(io.open(body_file, "rb"))
   local body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.path = path
   wrk.body = body
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. key
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "ROOST_WRK requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f"
         .. " max_us=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
      latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
