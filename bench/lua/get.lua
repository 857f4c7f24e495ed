-- GET a path (with its query string) with a Bearer key.
-- Usage: wrk ... -s bench/lua/get.lua <url> -- <path?query> <key>
-- Same result line as post.lua, printed by done().

function init(args)
   local path, key = args[1], args[2]
   wrk.method = "GET"
   wrk.path = path
   wrk.headers["Authorization"] = "Bearer " .. key
end

-- done(): the result line shared by every bench script, from report.lua beside this one.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")
