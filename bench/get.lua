-- wrk script for the GET stages: rotates over pre-built requests so that
-- every stage (even /healthz) pays the same Lua cost per request.
--   BENCH_PATHS   space-separated paths (default /healthz)
--   BENCH_TOKENS  optional file, one token key a line: sent as
--                 "Authorization: Token <key>", rotating
--   BENCH_COOKIE  optional Cookie header (the admin session)
-- done() prints one line: BENCH requests duration_us rps p50_ms p99_ms
-- non2xx socket_errors
local reqs = {}
local i = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function init(args)
  local paths = {}
  for p in string.gmatch(os.getenv("BENCH_PATHS") or "/healthz", "%S+") do
    paths[#paths + 1] = p
  end
  local tokens = {}
  local file = os.getenv("BENCH_TOKENS")
  if file and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  local cookie = os.getenv("BENCH_COOKIE")
  local n = math.max(#paths, #tokens)
  for k = 1, n do
    local headers = {}
    if #tokens > 0 then
      headers["Authorization"] = "Token " .. tokens[(k - 1) % #tokens + 1]
    end
    if cookie and cookie ~= "" then headers["Cookie"] = cookie end
    reqs[k] = wrk.format("GET", paths[(k - 1) % #paths + 1], headers)
  end
  -- threads start at different places in the rotation
  i = ((id or 1) * 7) % #reqs
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.1f %.3f %.3f %d %d\n",
    summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
