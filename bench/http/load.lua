-- The load bench/http.py drives with wrk: one request per call of request(), built here so
-- that every request differs (a random seeded subject, or a new person's email).
--
--   wrk ... -s bench/http/load.lua http://127.0.0.1:PORT -- read    SUBJECTS_FILE PURPOSE
--   wrk ... -s bench/http/load.lua http://127.0.0.1:PORT -- collect BODIES_FILE POINT RUN_TAG
--
-- SUBJECTS_FILE has one subject id a line. BODIES_FILE has one JSON body a line, split by a tab
-- where the unique part of the email goes. The API key comes from PLEDGE_BENCH_KEY (not an
-- argument, so that it stays out of the process list). done() prints one line,
-- "BENCH_RESULT {json}", that bench/http.py reads; latencies are in microseconds.

local next_id = 0

function setup(thread)
   thread:set("thread_id", next_id)
   next_id = next_id + 1
end

local mode, items, suffix, point, tag
local sent = 0

function init(args)
   mode = args[1]
   items = {}
   for line in io.lines(args[2]) do
      if #line > 0 then
         if mode == "collect" then
            local head, tail = line:match("^(.-)\t(.*)$")
            items[#items + 1] = {head, tail}
         else
            items[#items + 1] = line
         end
      end
   end
   assert(#items > 0, "no lines in " .. args[2])
   local key = os.getenv("PLEDGE_BENCH_KEY")
   assert(key, "set PLEDGE_BENCH_KEY")
   wrk.headers["Authorization"] = "Bearer " .. key
   math.randomseed(os.time() + 7919 * (thread_id or 0))
   if mode == "read" then
      suffix = "/data?purpose=" .. args[3]
   elseif mode == "collect" then
      point = "/v1/collect/" .. args[3]
      tag = args[4] .. "t" .. (thread_id or 0) .. "n"
      wrk.headers["Content-Type"] = "application/json"
   else
      error("mode must be read or collect, not " .. tostring(mode))
   end
end

function request()
   sent = sent + 1
   if mode == "read" then
      return wrk.format("GET", "/v1/subjects/" .. items[math.random(#items)] .. suffix)
   end
   local body = items[(sent % #items) + 1]
   return wrk.format("POST", point, nil, body[1] .. tag .. sent .. body[2])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
      '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50": %d, "p90": %d, ' ..
      '"p99": %d, "p999": %d, "max": %d, "mean": %.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
      e.status, e.timeout, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
