-- wrk script for bench/full.ts: priced POST /v1/payment_intents, each with a fresh Idempotency-Key (as the
-- Stripe SDK sends on every POST), and either one Authorization for every request or one rotating among the
-- first N lines of a file of tokens.
--
-- wrk -s bench/wrk.lua URL -- <prefix> <static token or -> <tokens file or -> <how many tokens, 0 = all>
-- Prints one line "WRKJSON {...}" at the end (latencies in microseconds).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local headers = {}
local tokens = nil
local count = 0
local at = 0
local prefix = "bench"

function init(args)
  prefix = args[1] or "bench"
  local static = args[2] or "-"
  local file = args[3] or "-"
  local limit = tonumber(args[4] or "0") or 0
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  if static ~= "-" then
    headers["Authorization"] = "Bearer " .. static
  end
  if file ~= "-" then
    tokens = {}
    for line in io.lines(file) do
      if line ~= "" then
        count = count + 1
        tokens[count] = "Bearer " .. line
        if limit > 0 and count >= limit then
          break
        end
      end
    end
    -- Threads start at different places in the list, so they do not hit the same keys in step.
    at = ((tid or 0) * 7919) % count
  end
  wrk.method = "POST"
  wrk.path = "/v1/payment_intents"
  wrk.body = "amount=500&currency=usd&customer=cus_bench"
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = "stripe-node-retry-" .. prefix .. "-" .. (tid or 0) .. "-" .. counter
  if tokens then
    at = at % count + 1
    headers["Authorization"] = tokens[at]
  end
  return wrk.format(nil, nil, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
      .. '"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
