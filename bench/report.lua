-- wrk script of bench/run: prints one machine-readable "BENCH ..." line at
-- the end (latencies in microseconds), and optionally checks every body.
--
--   BENCH_CHECK_OK=N   every response body must contain exactly N times
--                      "status":"ok" and the status must be 200; bad ones are
--                      counted (bad=) and the first is printed (BADBODY ...).
--                      Unset: no response() callback (no per-response Lua).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local expect = tonumber(os.getenv("BENCH_CHECK_OK") or "")

if expect then
   checked = 0
   bad = 0
   first_bad = ""

   response = function(status, headers, body)
      checked = checked + 1
      local n = 0
      if body then
         for _ in string.gmatch(body, '"status":"ok"') do n = n + 1 end
      end
      if status ~= 200 or n ~= expect then
         bad = bad + 1
         if first_bad == "" then
            first_bad = "status=" .. tostring(status) .. " body="
                        .. string.sub(body or "", 1, 600)
         end
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local checked_all, bad_all, sample = -1, -1, ""
   if expect then
      checked_all, bad_all = 0, 0
      for _, t in ipairs(threads) do
         checked_all = checked_all + (t:get("checked") or 0)
         bad_all = bad_all + (t:get("bad") or 0)
         local s = t:get("first_bad") or ""
         if sample == "" then sample = s end
      end
   end
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d duration_us=%d rps=%.1f bytes=%d"
      .. " err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d"
      .. " lat_min=%d lat_mean=%.1f lat_max=%d lat_stdev=%.1f"
      .. " p50=%d p75=%d p90=%d p99=%d p99_9=%d p79_37=%d p99_666=%d"
      .. " checked=%d bad=%d\n",
      summary.requests, summary.duration, summary.requests / secs,
      summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max, latency.stdev,
      latency:percentile(50), latency:percentile(75),
      latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9),
      latency:percentile(79.37), latency:percentile(99.666),
      checked_all, bad_all))
   if sample ~= "" then
      io.write("BADBODY " .. string.gsub(sample, "\n", " ") .. "\n")
   end
end
