-- wrk script for the sign-in stages: POST /api-token-auth/ as a form, each
-- request signing in the next of BENCH_USERS seeded users (user000101 …),
-- all with the password BENCH_PASSWORD (URL-safe). done() prints the same
-- BENCH line as get.lua.
local reqs = {}
local i = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function init(args)
  local first = tonumber(os.getenv("BENCH_FIRST_USER") or "101")
  local count = tonumber(os.getenv("BENCH_USERS") or "16")
  local password = os.getenv("BENCH_PASSWORD") or ""
  for k = 0, count - 1 do
    local body = string.format("username=user%06d&password=%s", first + k, password)
    reqs[#reqs + 1] = wrk.format("POST", "/api-token-auth/",
      { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  end
  i = ((id or 1) * 5) % #reqs
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
