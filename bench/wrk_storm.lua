-- wrk's script for bench/wrk.py: each thread sends its share of the plan (every nth line of
-- the bodies file, n = threads, in the plan's order), then stops. The rate counts from its
-- first request to the answer that completes its share, on CLOCK_MONOTONIC (through LuaJIT's
-- ffi: wrk's own duration is from its start to its end).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } timespec_t;
int clock_gettime(int clk, timespec_t *tp);
]]

local function now()
  local t = ffi.new("timespec_t")
  ffi.C.clock_gettime(1, t)
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[2])
  bodies = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then table.insert(bodies, line) end
    i = i + 1
  end
  share = #bodies
  nexti = 1
  answered = 0
end

function request()
  -- Once its share is sent, a connection whose answer came asks again while the thread's last
  -- answers are on their way: it sends the share's last notification again (a repeat).
  local body = bodies[math.min(nexti, share)]
  nexti = nexti + 1
  if first == nil then first = now() end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  answered = answered + 1
  if answered == share then
    last = now()
    -- wrk sleeps out its whole -d before it reports: bench/wrk.py interrupts it (SIGINT, which
    -- wrk takes as its end) once every thread has said this.
    io.stdout:write("WRK-SENT\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local lo, hi, sent = math.huge, 0, 0
  for _, t in ipairs(threads) do
    lo = math.min(lo, t:get("first"))
    hi = math.max(hi, t:get("last"))
    sent = sent + t:get("share")
  end
  local errors = summary.errors
  io.write(string.format("WRK requests=%d rate=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    sent, sent / (hi - lo), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status + errors.connect + errors.read + errors.write + errors.timeout))
end
