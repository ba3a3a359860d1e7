-- wrk script for bench/run.ts.
--
-- BENCH_TARGET (optional) is sent as the request target: an absolute URI such
-- as http://127.0.0.1:PORT/ makes wrk talk to a forward proxy (RFC 9112 §3.2.2,
-- absolute-form); without it wrk sends the origin-form path of its URL.
-- At the end one JSON line is printed for the runner to parse.

local target = os.getenv("BENCH_TARGET")
if target and target ~= "" then
  wrk.path = target
  wrk.headers["Host"] = target:match("^%a+://([^/]+)")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
