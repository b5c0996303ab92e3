-- GET one of the paths in $WRK_PATHS (a file, one path a line), at random, with $WRK_COOKIE.
package.path = os.getenv("WRK_DIR") .. "/?.lua;" .. package.path
local c = require("common")
setup, done = c.setup, c.done
local paths = c.lines(os.getenv("WRK_PATHS"))
local cookie = c.env("WRK_COOKIE", nil)

init = function(args)
  math.randomseed(11 + (thread_id or 0))
  if cookie then wrk.headers["Cookie"] = cookie end
  wrk.headers["Accept-Language"] = "pt-BR"
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
