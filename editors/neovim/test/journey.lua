-- The Neovim client's journey, headless, against the fake OpenAI server (test/run.sh starts
-- it and the sidecar's keychain): a wrong key gets its guidance, the right key connects, a
-- streamed answer equals the fake's text, Stop keeps the partial answer, a 429 quota card,
-- disconnect; and no key in Neovim's LSP log, which runs at DEBUG the whole time.

local env = function(name)
  return assert(os.getenv(name), name .. ' is not set')
end
local SERVER, BASE_URL, SERVICE = env('SIDEKICK_SERVER'), env('SIDEKICK_OPENAI_BASE_URL'), env('SIDEKICK_KEYRING_SERVICE')
local VALID_KEY, WRONG_KEY = 'sk-fake-valid-0000WXYZ', 'sk-wrong-key-1111ABCD'

vim.lsp.log.set_level('debug')
local sk = require('sidekick')
sk.setup({ cmd = { SERVER }, init_options = { retry = { maxAttempts = 1 } } })

-- Scripted UI: each prompt takes the next answer of its kind.
local selects, inputs, secrets, notes, shown = {}, {}, {}, {}, {}
vim.ui.select = function(items, opts, on_choice)
  local f = table.remove(selects, 1)
  assert(f, 'an unexpected choice: ' .. tostring(opts.prompt))
  on_choice(f(items, opts))
end
vim.ui.input = function(opts, on_confirm)
  local v = table.remove(inputs, 1)
  assert(v ~= nil, 'an unexpected input: ' .. tostring(opts.prompt))
  on_confirm(v ~= false and v or nil)
end
vim.fn.inputsecret = function(prompt)
  return assert(table.remove(secrets, 1), 'an unexpected key prompt: ' .. prompt)
end
vim.notify = function(msg, level)
  table.insert(notes, { msg = msg, level = level })
end
local g = require('sidekick.guidance')
local show = g.show
g.show = function(guidance, run)
  table.insert(shown, guidance)
  show(guidance, run)
end

local function wait(what, cond, ms)
  assert(vim.wait(ms or 15000, cond, 20), 'timed out waiting for ' .. what .. '\nnotes: ' .. vim.inspect(notes))
end
local function pick(pred)
  return function(items)
    for _, it in ipairs(items) do
      if pred(it) then
        return it
      end
    end
    error('nothing to pick among ' .. vim.inspect(items))
  end
end
local function dismiss()
  return nil
end
local function noted(pattern)
  return function()
    for _, n in ipairs(notes) do
      if n.msg:find(pattern) then
        return true
      end
    end
  end
end
local function answer()
  local buf = vim.fn.bufnr('sidekick://chat')
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end
local function idle()
  return not sk.status().streaming
end
local openai = pick(function(p)
  return p.id == 'openai'
end)

local steps = {}

steps[#steps + 1] = function()
  -- A wrong key: invalid_key, its notification, its buttons offered (dismissed here).
  table.insert(selects, openai)
  table.insert(secrets, WRONG_KEY)
  table.insert(inputs, '')
  table.insert(selects, dismiss)
  vim.cmd('SidekickSelect')
  wait('the wrong key refused', function()
    return #shown == 1
  end)
  assert(shown[1].kind == 'invalid_key', vim.inspect(shown[1]))
  assert(noted('rejected the API key')(), 'the guidance was notified')
  for _, n in ipairs(notes) do
    assert(not n.msg:find(WRONG_KEY, 1, true), 'a notification shows the key')
  end
end

steps[#steps + 1] = function()
  -- The right key, then a model.
  table.insert(selects, openai)
  table.insert(secrets, VALID_KEY)
  table.insert(inputs, '')
  table.insert(selects, pick(function(m)
    return m.id == 'gpt-4o-mini'
  end))
  vim.cmd('SidekickSelect')
  wait('connected with a model', noted('OpenAI · gpt%-4o%-mini'))
end

steps[#steps + 1] = function()
  -- A streamed answer, equal to the fake's text.
  vim.cmd('SidekickChat Hello from Neovim')
  wait('the answer', function()
    return idle() and sk.status().history == 2
  end)
  local text = answer()
  assert(text:find('## You\n\nHello from Neovim\n\n## Sidekick\n\nHello! I am the fake OpenAI server. You said: Hello from Neovim', 1, true), text)
  assert(vim.bo[vim.fn.bufnr('sidekick://chat')].filetype == 'markdown')
end

steps[#steps + 1] = function()
  -- The workspace's instructions go with the question, as VS Code sends them.
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/.sidekick', 'p')
  vim.fn.writefile({ 'Answer like a ship captain.' }, dir .. '/.sidekick/instructions.md')
  local cwd = vim.fn.getcwd()
  vim.fn.chdir(dir)
  vim.cmd('SidekickChat With instructions')
  wait('the answer', function()
    return idle() and sk.status().history == 4
  end)
  vim.fn.chdir(cwd)
  local f = assert(io.open(vim.lsp.get_log_path(), 'r'))
  local log = f:read('*a')
  f:close()
  assert(log:find('Answer like a ship captain.', 1, true), 'the instructions were sent')
end

steps[#steps + 1] = function()
  -- Stop during a slow answer: the words that came stay, marked stopped.
  vim.cmd('SidekickChat [fake:slow] Tell me a long story')
  wait('a few words of the slow answer', function()
    local last = answer():match('## Sidekick\n\n([^#]*)$') or ''
    return #vim.split(vim.trim(last), '%s+') >= 3
  end)
  vim.cmd('SidekickStop')
  wait('the stop', idle)
  local last = answer():match('## Sidekick\n\n([^#]*)$')
  assert(last and last:find('%*%(stopped%)%*'), answer())
  assert(#vim.trim(last:gsub('%*%(stopped%)%*', '')) > 0, 'the partial answer stays')
end

steps[#steps + 1] = function()
  -- A 429 quota card: its guidance, notified, its billing page offered.
  table.insert(selects, function(actions)
    assert(vim.iter(actions):any(function(a)
      return a.url and a.url:find('billing')
    end), vim.inspect(actions))
    return nil
  end)
  vim.cmd('SidekickChat [fake:quota] One more?')
  wait('the quota card', function()
    return #shown == 2 and idle()
  end)
  assert(shown[2].kind == 'quota_exceeded', vim.inspect(shown[2]))
  assert(answer():find('> %*%*' .. vim.pesc(shown[2].title)), answer())
end

steps[#steps + 1] = function()
  -- The request log.
  vim.cmd('SidekickLog')
  wait('the log buffer', function()
    local buf = vim.fn.bufnr('sidekick://log')
    return buf ~= -1 and table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find('chat') ~= nil
  end)
end

steps[#steps + 1] = function()
  -- Conversations live in the sidecar: a new one, then the first picked back from the list,
  -- every turn kept (the stopped one marked, the quota failure recorded).
  vim.cmd('SidekickNew')
  vim.cmd('SidekickChat Second conversation')
  wait('the second conversation answered', function()
    return idle() and sk.status().history == 2
  end)
  local second = sk.status().conversation
  table.insert(selects, function(items)
    assert(items[1].id == second, 'newest first: ' .. vim.inspect(items))
    return pick(function(cv)
      return cv.title == 'Hello from Neovim'
    end)(items)
  end)
  vim.cmd('SidekickConversations')
  wait('the first conversation loaded', function()
    return sk.status().conversation ~= second and sk.status().history == 8
  end)
  local text = answer()
  assert(text:find('## You\n\nHello from Neovim\n\n## Sidekick\n\nHello! I am the fake OpenAI server.', 1, true), text)
  assert(text:find('*(stopped)*', 1, true), text)
  assert(text:find('> failed: quota_exceeded', 1, true), text)
  assert(not text:find('Second conversation', 1, true), text)
  -- It goes on where it was.
  vim.cmd('SidekickChat And one more')
  wait('the answer in the first conversation', function()
    return idle() and sk.status().history == 10
  end)
end

steps[#steps + 1] = function()
  -- Disconnect: the key leaves the keychain.
  local account = 'openai@' .. BASE_URL
  local stored = vim.trim(vim.fn.system({ 'secret-tool', 'lookup', 'service', SERVICE, 'username', account }))
  assert(stored == VALID_KEY, 'the key was in the keychain: ' .. stored)
  vim.cmd('SidekickDisconnect')
  wait('disconnected', noted('OpenAI disconnected'))
  stored = vim.trim(vim.fn.system({ 'secret-tool', 'lookup', 'service', SERVICE, 'username', account }))
  assert(stored == '', 'the key is gone from the keychain')
end

steps[#steps + 1] = function()
  -- Neovim's LSP log, at DEBUG all along: the traffic is there, the keys are not.
  local path = vim.lsp.get_log_path()
  local f = assert(io.open(path, 'r'), path)
  local log = f:read('*a')
  f:close()
  assert(log:find('sidekick/listProviders', 1, true), 'the LSP log recorded the traffic (level DEBUG)')
  assert(log:find('sidekick/chatDelta', 1, true), 'the deltas streamed in')
  for _, key in ipairs({ VALID_KEY, WRONG_KEY }) do
    assert(not log:find(key, 1, true), 'a key is in the LSP log')
  end
end

local failed = nil
for i, step in ipairs(steps) do
  local ok, e = xpcall(step, debug.traceback)
  if not ok then
    failed = ('step %d failed: %s'):format(i, e)
    break
  end
  io.stdout:write(('ok %d\n'):format(i))
end
local c = vim.lsp.get_client_by_id(sk.status().client_id or -1)
if c then
  c:stop()
  vim.wait(3000, function()
    return c:is_stopped()
  end)
end
if failed then
  io.stderr:write(failed .. '\n')
  os.exit(1)
end
io.stdout:write(('all %d steps passed\n'):format(#steps))
os.exit(0)
