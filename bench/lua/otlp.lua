-- POST an OTLP/JSON batch whose trace and session ids are new on every request, so each
-- request persists new spans (a re-delivered span would only overwrite its event).
-- Usage: wrk ... -s bench/lua/otlp.lua <url> -- <path> <key> <template-file> <run-nonce> <start-ms>
-- <run-nonce> is 8 hex digits, or "random" for 8 drawn from /dev/urandom by each thread (a run
-- against a server that already holds this run's ids would only overwrite their events).
-- The template holds @@TRACE@@ (32 hex digits) and @@SESSION@@ (a UUID) wherever the ids go,
-- and @@MS@@ where a span's start and end times begin: a millisecond count that grows with
-- every request (from <start-ms>), as real time would.
-- done() prints one parseable result line, like post.lua.

local threads = {}

function setup(thread)
   thread:set("tag", #threads + 1)
   table.insert(threads, thread)
end

-- The request is spliced, not substituted: init() cuts the template at its placeholders once,
-- and request() joins the pieces with this request's values in one concatenation. (gsub over
-- the whole body three times, then wrk.format's copy, cost wrk about 1.5 ms of CPU a request:
-- some 40% of a core taken from the servers under test on a two-core machine.) The values
-- have fixed widths, so every body has the template's length and the head is built once.

local pieces, slots, nonce, start_ms, counter

local function split(template)
   local parts, where, at = {}, {}, 1
   while true do
      local first, last, name = template:find("@@(%u+)@@", at)
      if first == nil then break end
      table.insert(parts, template:sub(at, first - 1))
      table.insert(parts, "")
      where[#parts] = name
      at = last + 1
   end
   table.insert(parts, template:sub(at))
   return parts, where
end

local function values()
   counter = counter + 1
   return {
      TRACE = string.format("%s%08x%016x", nonce, tag, counter), -- 32 hex digits
      SESSION = string.format("%s-%04x-4000-8000-%012x", nonce, tag, counter), -- a UUID
      MS = string.format("%013.0f", start_ms + counter * 4 + tag), -- 13 digits until 2286
   }
end

local function fill(current)
   for index, name in pairs(slots) do
      pieces[index] = current[name]
   end
end

local function random_nonce()
   local f = assert(io.open("/dev/urandom", "rb"))
   local bytes = f:read(4)
   f:close()
   return string.format("%02x%02x%02x%02x", bytes:byte(1, 4))
end

function init(args)
   local path, key, template_file = args[1], args[2], args[3]
   nonce = args[4] == "random" and random_nonce() or args[4]
   start_ms = tonumber(args[5])
   local f = assert(io.open(template_file, "rb"))
   local template = f:read("*a")
   f:close()
   counter = 0
   wrk.method = "POST"
   wrk.path = path
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. key
   pieces, slots = split(template)
   -- pieces[1] becomes the request head (with Content-Length), built once for a body of the
   -- right length; request() fills the slots and joins everything.
   fill({TRACE = string.rep("0", 32), SESSION = string.rep("0", 36), MS = string.rep("0", 13)})
   local body = table.concat(pieces)
   local whole = wrk.format(nil, nil, nil, body)
   pieces[1] = whole:sub(1, #whole - #body) .. pieces[1]
end

function request()
   fill(values())
   return table.concat(pieces)
end

-- done(): the result line shared by every bench script, from report.lua beside this one.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")
