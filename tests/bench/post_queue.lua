-- wrk script: POST /v1/queue with a fresh Idempotency-Key per request, so every
-- request is a new command (no dedup short-cut). TOKEN comes from the environment.
local counter = 0
local thread_id = 0
local token = os.getenv("TOKEN") or ""
local run = os.getenv("RUN_ID") or "bench"

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = run .. "-" .. tostring(tid) .. "-" .. tostring(counter),
  }
  local body = '{"platform": "youtube", "title": "Benchmark post ' .. counter .. '", "description": "load test"}'
  return wrk.format("POST", "/v1/queue", headers, body)
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status,
    latency:percentile(50), latency:percentile(99)))
end
