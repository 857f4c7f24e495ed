-- POST an OTLP/JSON batch whose trace and session ids are new on every request, so each
-- request persists new spans (a re-delivered span would only overwrite its event).
-- Usage: wrk ... -s bench/lua/otlp.lua <url> -- <path> <key> <template-file> <run-nonce> <start-ms>
-- The template holds @@TRACE@@ (32 hex digits) and @@SESSION@@ (a UUID) wherever the ids go,
-- and @@MS@@ where a span's start and end times begin: a millisecond count that grows with
-- every request (from <start-ms>), as real time would.
-- done() prints one parseable result line, like post.lua.

local threads = {}

function setup(thread)
   thread:set("tag", #threads + 1)
   table.insert(threads, thread)
end

local template, nonce, start_ms, counter

function init(args)
   local path, key, template_file = args[1], args[2], args[3]
   nonce = args[4]
   start_ms = tonumber(args[5])
   local f = assert(io.open(template_file, "rb"))
   template = f:read("*a")
   f:close()
   counter = 0
   wrk.method = "POST"
   wrk.path = path
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
   counter = counter + 1
   local trace = string.format("%s%08x%016x", nonce, tag, counter)
   local session = string.format("%s-%04x-4000-8000-%012x", nonce, tag, counter)
   local ms = string.format("%.0f", start_ms + counter * 4 + tag)
   local body = template:gsub("@@TRACE@@", trace):gsub("@@SESSION@@", session):gsub("@@MS@@", ms)
   return wrk.format(nil, nil, nil, body)
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
