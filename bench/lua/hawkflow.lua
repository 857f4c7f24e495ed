-- HawkFlow ingest with the x-hawkflow-api-key header.
-- Usage: wrk ... -s bench/lua/hawkflow.lua <url> -- <mode> <key> [<body-file>]
--   mode "metrics": POST /v1/metrics with the body file, as one static request per thread.
--   mode "pairs":   POST /v1/start then POST /v1/end with a fresh uid, pipelined on one
--                   connection so the end always follows its own start; wrk counts each
--                   answer, so req/s is starts plus ends.
-- done() prints one parseable result line, like post.lua.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tag", tostring(#threads + 1))
   table.insert(threads, thread)
end

function init(args)
   local mode, key, body_file = args[1], args[2], args[3]
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["x-hawkflow-api-key"] = key
   if mode == "metrics" then
      local f = assert(io.open(body_file, "rb"))
      wrk.body = f:read("*a")
      f:close()
      wrk.path = "/v1/metrics"
      request = nil -- static: wrk builds the request once
   end
end

function request()
   counter = counter + 1
   local body = '{"process":"bench.run","meta":"","uid":"t' .. tag .. "-" .. counter .. '"}'
   return wrk.format("POST", "/v1/start", nil, body) .. wrk.format("POST", "/v1/end", nil, body)
end

-- done(): the result line shared by every bench script, from report.lua beside this one.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")
