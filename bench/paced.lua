-- wrk script for a paced load: each connection waits WRK_DELAY_MS after every response before it
-- sends the next request, so that a few connections offer a steady, low rate (bench/run.mjs).
local ms = tonumber(os.getenv("WRK_DELAY_MS") or "4")
function delay()
  return ms
end
