-- GET a path (with its query string) with a Bearer key.
-- Usage: wrk ... -s bench/lua/get.lua <url> -- <path?query> <key>
-- Same result line as post.lua, printed by done().

function init(args)
   local path, key = args[1], args[2]
   wrk.method = "GET"
   wrk.path = path
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
