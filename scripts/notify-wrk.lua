-- wrk script for `alishop-load wrk`: POST /alipay/notify with the signed
-- notifications of a file (one form body a line), each sent once, in the
-- file's order; one wrk thread (-t1). It counts the answers that are not
-- exactly "success" and prints one line for alishop-load:
--   wrk-notify: success=N failed=N sent=N requests=N duration_us=N p50_us=N p99_us=N ran_out=BOOL
-- sent counts every body handed to wrk (also the one wrk takes to check the
-- script and those in flight when the time is up), so the next run starts
-- after them. When the file runs out the run is void (ran_out=true).
--
--   wrk -t1 -c64 -d3s -s scripts/notify-wrk.lua http://127.0.0.1:PORT -- notifications.txt

local reqs, n = {}, 0
sent, success, failed, ran_out = 0, 0, 0, false
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  if #threads > 1 then
    error("notify-wrk.lua takes one thread (-t1): several would send the same notifications")
  end
end

function init(args)
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8" }
  for line in io.lines(args[1]) do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format("POST", "/alipay/notify", headers, line)
    end
  end
end

function request()
  if sent >= n then
    ran_out = true
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  return reqs[sent]
end

function response(status, headers, body)
  if status == 200 and body == "success" then
    success = success + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local t = threads[1]
  io.write(string.format("wrk-notify: success=%d failed=%d sent=%d requests=%d duration_us=%d p50_us=%d p99_us=%d ran_out=%s\n",
    t:get("success"), t:get("failed"), t:get("sent"), summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), tostring(t:get("ran_out"))))
end
