-- wrk script: signed GitHub pushes, each with its own delivery id (the
-- gateway would answer repeated ids as duplicates without publishing).
local body_file = os.getenv("BENCH_BODY")
local signature = os.getenv("BENCH_SIG")
local path = os.getenv("BENCH_PATH") or "/gate/GitHub/bench"
local f = assert(io.open(body_file, "rb"))
local body = f:read("*a")
f:close()

-- `thread_id` is a global set in each thread's state by setup(); it must
-- not be shadowed by a local, or every thread would send the same ids.
local counter = 0
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

request = function()
  counter = counter + 1
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Delivery"] = string.format("bench-%d-%d-%d", os.time(), thread_id, counter),
    ["X-Hub-Signature-256"] = signature,
  }, body)
end
