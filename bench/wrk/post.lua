-- POST $WRK_BODY (a file: the body, where {n} becomes a number unique to this request) to
-- $WRK_PATH with content type $WRK_TYPE, and $WRK_AUTH / $WRK_COOKIE / $WRK_REFERER when set.
package.path = os.getenv("WRK_DIR") .. "/?.lua;" .. package.path
local c = require("common")
setup, done = c.setup, c.done
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
local template = f:read("*a")
f:close()
local path = os.getenv("WRK_PATH")
local counter = 0

init = function(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = c.env("WRK_TYPE", "application/x-www-form-urlencoded")
  wrk.headers["Accept-Language"] = "pt-BR"
  local auth = c.env("WRK_AUTH", nil)
  if auth then wrk.headers["Authorization"] = auth end
  local cookie = c.env("WRK_COOKIE", nil)
  if cookie then wrk.headers["Cookie"] = cookie end
  local referer = c.env("WRK_REFERER", nil)
  if referer then wrk.headers["Referer"] = referer end
end

request = function()
  counter = counter + 1
  local n = tostring((thread_id or 0) * 10000000 + counter) .. tostring(os.time())
  local body = template:gsub("{n}", n)
  return wrk.format(nil, path, nil, body)
end
