-- The result line every bench script prints from done(), loaded by each with dofile.
-- Percentiles are read from the recorded latencies themselves: wrk's own percentile() ranks
-- against the request count, which a pipelined script (two answers per latency recorded)
-- leaves larger than the recorded total, so it answered 0 for p99.

local function percentiles(latency, wanted)
   local total = 0
   for i = 1, #latency do
      local _, count = latency(i)
      total = total + count
   end
   local found, seen, next_want = {}, 0, 1
   for i = 1, #latency do
      local value, count = latency(i)
      seen = seen + count
      while next_want <= #wanted and seen >= math.ceil(wanted[next_want] / 100 * total) do
         found[next_want] = value
         next_want = next_want + 1
      end
   end
   for index = next_want, #wanted do
      found[index] = latency.max
   end
   return found
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = percentiles(latency, {50, 90, 99})
   io.write(string.format(
      "ROOST_WRK requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f"
         .. " max_us=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d\n",
      summary.requests, summary.duration, summary.bytes, p[1], p[2], p[3], latency.mean,
      latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
