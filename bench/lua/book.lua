-- Booking load: every line of the plan file ("<access token>\t<json body>") is sent once, as
-- POST /api/v1/bookings; wrk thread i takes lines i, i+n, i+2n, ... Each thread records (wall clock,
-- through LuaJIT's FFI) when it sent its first request and when its last booking request was answered, and
-- touches "<done_dir>/<id>.sent" and "<id>.done" so the driver knows when to stop wrk.
-- A connection that finds the plan exhausted sends GET /healthz while the last answers come in; those
-- 200s are not bookings and are not counted. A request lost to a socket error is never answered, so a
-- thread also stops after a bounded number of such fillers; wrk reports the loss as socket errors.
-- Arguments (after --): plan file, thread count, done directory.

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
  sent, answered, fillers = 0, 0, 0
  first_sent_us, last_answer_us = 0, 0
  marker = done_dir .. "/" .. id
  statuses = {}
  filler = wrk.format("GET", "/healthz")
end

function request()
  if sent >= #lines then
    return filler
  end
  if sent == 0 then
    first_sent_us = now_us()
  end
  sent = sent + 1
  if sent == #lines then
    touch(marker .. ".sent")
  end
  local token, body = lines[sent]:match("^([^\t]+)\t(.+)$")
  return wrk.format("POST", "/api/v1/bookings", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  if status == 200 then
    fillers = fillers + 1
    if fillers > 2000 then
      touch(marker .. ".done")
      wrk.thread:stop()
    end
    return
  end
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  answered = answered + 1
  last_answer_us = now_us()
  if answered == #lines then
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
