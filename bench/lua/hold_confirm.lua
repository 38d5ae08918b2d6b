-- Checkout load: every line of the plan file ("<access token>\t<json body>") is one buyer who holds
-- tickets (POST /api/v1/holds) and, if the hold is granted, confirms it at once
-- (POST /api/v1/holds/{id}/confirm). Run with one connection per thread (-t N -c N), so a thread's
-- responses come back in the order it sent its requests and the thread knows which hold to confirm.
-- wrk thread i takes lines i, i+n, i+2n, ... Each thread records (wall clock, through LuaJIT's FFI)
-- when it sent its first request and when its last checkout request was answered, and touches
-- "<done_dir>/<id>.sent" and "<id>.done" so the driver knows when to stop wrk. Statuses are counted
-- per step ("hold 201", "confirm 201", "hold 409", ...). Arguments (after --): plan file, thread
-- count, done directory.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } boxoffice_timespec;
  int clock_gettime(int clock_id, boxoffice_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_buffer = ffi.new("boxoffice_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
  return tonumber(now_buffer.tv_sec) * 1000000 + math.floor(tonumber(now_buffer.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function touch(path)
  local file = io.open(path, "w")
  file:write("x")
  file:close()
end

function init(args)
  local plan, nthreads, done_dir = args[1], tonumber(args[2]), args[3]
  lines = {}
  local index = 0
  for line in io.lines(plan) do
    if index % nthreads == id then
      table.insert(lines, line)
    end
    index = index + 1
  end
  buyer = 0            -- the plan line being served
  step = "idle"        -- what the request in flight is: "hold", "confirm" or "filler"
  to_confirm = nil     -- the hold id granted to the current buyer, not yet confirmed
  first_sent_us, last_answer_us = 0, 0
  marker = done_dir .. "/" .. id
  statuses = {}
  finished = false
  filler = wrk.format("GET", "/healthz")
end

local function headers_of(token)
  return {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

function request()
  if to_confirm ~= nil then
    step = "confirm"
    local token = lines[buyer]:match("^([^\t]+)\t")
    local path = "/api/v1/holds/" .. to_confirm .. "/confirm"
    to_confirm = nil
    return wrk.format("POST", path, headers_of(token), "{}")
  end
  if buyer >= #lines then
    step = "filler"
    return filler
  end
  if buyer == 0 then
    first_sent_us = now_us()
  end
  buyer = buyer + 1
  if buyer == #lines then
    touch(marker .. ".sent")
  end
  step = "hold"
  local token, body = lines[buyer]:match("^([^\t]+)\t(.+)$")
  return wrk.format("POST", "/api/v1/holds", headers_of(token), body)
end

function response(status, headers, body)
  if step == "filler" then
    if not finished then
      finished = true
      touch(marker .. ".done")
    end
    wrk.thread:stop()
    return
  end
  local key = step .. " " .. tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  last_answer_us = now_us()
  if step == "hold" and status == 201 then
    to_confirm = body:match('"id":"([0-9a-f-]+)"')
  end
  if buyer >= #lines and to_confirm == nil and not finished then
    finished = true
    touch(marker .. ".done")
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local totals, first, last = {}, nil, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
    local started = thread:get("first_sent_us")
    if started > 0 and (first == nil or started < first) then
      first = started
    end
    last = math.max(last, thread:get("last_answer_us"))
  end
  local parts = {}
  for status, count in pairs(totals) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  io.write(string.format(
    'BENCH_RESULT {"statuses": {%s}, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"requests": %d, "elapsed_us": %d, "socket_errors": %d}\n',
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.requests, last - (first or last),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  ))
end
