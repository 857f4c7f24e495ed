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

-- done(): the result line shared by every bench script, from report.lua beside this one.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")
