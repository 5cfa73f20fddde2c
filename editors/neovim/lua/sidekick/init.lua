-- Sidekick for Neovim: the same sidecar as the VS Code extension (`sidekick-server`), driven by
-- Neovim's built-in LSP client over the protocol in docs/protocol.md. Select a provider and a
-- model, chat into a markdown buffer (sidekick://chat) as the answer streams, stop it, pick up
-- a conversation the sidecar kept (from this editor or any other), disconnect, read the
-- request log. Keys are typed with inputsecret (never echoed, never in
-- :messages or history) and kept out of Neovim's LSP log (vim.lsp.log) at every level.

local guidance = require('sidekick.guidance')

local M = {}

M.config = {
  --- How to start the sidecar.
  cmd = { 'sidekick-server' },
  --- Sent as initializationOptions (docs/protocol.md: retry, timeouts, budget…).
  init_options = {},
  --- Instructions for every question (the system message). nil: the workspace's
  --- `.sidekick/instructions.md`, as VS Code reads it, when there is one.
  instructions = nil,
}

local state = {
  client_id = nil,
  --- The sidecar's conversation the questions go to (created at the first question).
  conversation = nil,
  --- How many messages it holds.
  history = 0,
  --- The answer streaming now: id, request id, buffer, first line, deltas by seq.
  chat = nil,
  count = 0,
  --- The last question sent, for the window guard's Drop oldest messages.
  last_question = nil,
}

local CANCELLED = -32800

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
end

-- ---- running a flow as a coroutine -------------------------------------------------------------

--- Runs `fn` as a coroutine: requests and prompts inside it read as straight-line code.
local function run(fn)
  local co = coroutine.create(function()
    local ok, e = xpcall(fn, debug.traceback)
    if not ok then
      vim.notify('Sidekick: ' .. tostring(e), vim.log.levels.ERROR)
    end
  end)
  local ok, e = coroutine.resume(co)
  if not ok then
    vim.notify('Sidekick: ' .. tostring(e), vim.log.levels.ERROR)
  end
end

--- Waits inside a flow for `start(callback)` to call back, even if it does so at once.
local function await(start)
  local co = coroutine.running()
  local now, values = false, nil
  start(function(...)
    if coroutine.status(co) == 'dead' then
      return -- answered twice (a reply racing a stop): the first one counted
    elseif coroutine.status(co) == 'running' then
      now, values = true, { n = select('#', ...), ... }
    else
      local ok, e = coroutine.resume(co, ...)
      if not ok then
        vim.notify('Sidekick: ' .. tostring(e), vim.log.levels.ERROR)
      end
    end
  end)
  if now then
    return unpack(values, 1, values.n)
  end
  return coroutine.yield()
end

local function select_from(items, prompt, format)
  return await(function(cb)
    vim.ui.select(items, { prompt = prompt, format_item = format }, cb)
  end)
end

local function input(prompt, default)
  return await(function(cb)
    vim.ui.input({ prompt = prompt, default = default }, cb)
  end)
end

-- ---- the client ----------------------------------------------------------------------------------

local on_delta, on_status, show_ending

local function client()
  if state.client_id then
    local c = vim.lsp.get_client_by_id(state.client_id)
    if c and not c:is_stopped() then
      return c
    end
  end
  local id = vim.lsp.start({
    name = 'sidekick',
    cmd = M.config.cmd,
    root_dir = vim.fn.getcwd(),
    init_options = M.config.init_options,
    handlers = {
      ['sidekick/chatDelta'] = function(_, p)
        on_delta(p)
      end,
      ['sidekick/chatStatus'] = function(_, p)
        on_status(p)
      end,
      ['sidekick/stateChanged'] = function() end,
      ['sidekick/requestLogged'] = function() end,
      ['sidekick/orgSync'] = function() end,
    },
  }, { attach = false })
  assert(id, 'the sidecar did not start: check require("sidekick").setup({ cmd = … })')
  state.client_id = id
  local c = assert(vim.lsp.get_client_by_id(id))
  vim.wait(10000, function()
    return c.initialized == true
  end, 10)
  return c
end

--- A request from inside a flow: returns err, result.
local function request(c, method, params, on_id)
  return await(function(cb)
    local ok, id = c:request(method, params, function(err, result)
      cb(err, result)
    end)
    if not ok then
      cb({ message = 'the sidecar is not running' }, nil)
    elseif on_id then
      on_id(id, cb)
    end
  end)
end

--- A request whose params carry a key: Neovim's LSP log writes every request's params at
--- DEBUG (`client.request`, `rpc.send`), so the level is raised for the one synchronous send.
local function request_secret(c, method, params)
  local log = vim.lsp.log
  local level = log.get_level()
  return await(function(cb)
    if level < vim.log.levels.WARN then
      log.set_level(vim.log.levels.WARN)
    end
    local ok, sent = pcall(c.request, c, method, params, function(err, result)
      cb(err, result)
    end)
    log.set_level(level)
    if not ok or not sent then
      cb({ message = 'the sidecar is not running' }, nil)
    end
  end)
end

local function fail(err)
  local g = guidance.of(err)
  if g then
    guidance.show(g, M.run_command)
  else
    vim.notify('Sidekick: ' .. guidance.message(err), vim.log.levels.ERROR)
  end
end

-- ---- select, disconnect ------------------------------------------------------------------------

local function pick_model(c, provider, models)
  local chat = vim.tbl_filter(function(m)
    return m.chat ~= false
  end, models or {})
  local m = select_from(chat, ('Sidekick: %s model'):format(provider.name), function(x)
    return x.id .. (x.recommended and '  (recommended)' or '')
  end)
  if not m then
    return
  end
  local err = request(c, 'sidekick/selectModel', { provider = provider.id, model = m.id })
  if err then
    return fail(err)
  end
  vim.notify(('Sidekick: %s · %s'):format(provider.name, m.id), vim.log.levels.INFO)
end

--- Connects `p` (asking for what it needs), then a model.
local function connect(c, p)
  local params = { provider = p.id }
  if p.baseUrlEditable then
    local url = input(('%s base URL: '):format(p.name), p.baseUrl ~= '' and p.baseUrl or p.baseUrlPlaceholder)
    if not url then
      return
    end
    params.baseUrl = url
  end
  if p.requiresKey and p.keySource ~= 'env' then
    -- inputsecret: not echoed, not in the input history, not in :messages.
    local key = vim.fn.inputsecret(('%s API key%s: '):format(p.name, p.keyPlaceholder and (' (' .. p.keyPlaceholder .. ')') or ''))
    if not key or vim.trim(key) == '' then
      vim.notify('Sidekick: no key given; nothing changed.', vim.log.levels.INFO)
      return
    end
    params.apiKey = key
  end
  if p.supportsOrganization then
    local org = input('Organization ID (optional): ', p.organization or '')
    if org and vim.trim(org) ~= '' then
      params.organization = vim.trim(org)
    end
  end
  local err, res = request_secret(c, 'sidekick/connect', params)
  params = nil
  if err then
    return fail(err)
  end
  pick_model(c, p, res.models)
end

local function providers(c)
  local err, st = request(c, 'sidekick/listProviders', {})
  if err then
    fail(err)
    return nil
  end
  return st
end

--- :SidekickSelect — a provider, its key (and what else it needs), a model. With `id`, that
--- provider's prompts at once (a guidance's "Re-enter key").
function M.select(id)
  run(function()
    local c = client()
    local st = providers(c)
    if not st then
      return
    end
    local p
    if id then
      p = vim.iter(st.providers):find(function(x)
        return x.id == id
      end)
    end
    p = p
      or select_from(st.providers, 'Sidekick: Select Your AI', function(x)
        return x.name .. (x.connected and ('  (connected' .. (x.keyHint and (', ' .. x.keyHint) or '') .. ')') or '')
      end)
    if p then
      connect(c, p)
    end
  end)
end

function M.select_model()
  run(function()
    local c = client()
    local st = providers(c)
    local active = st and st.active
    if not active then
      return vim.notify('Sidekick: choose an AI first (:SidekickSelect).', vim.log.levels.INFO)
    end
    local p = vim.iter(st.providers):find(function(x)
      return x.id == active.provider
    end)
    local err, res = request(c, 'sidekick/listModels', { provider = p.id })
    if err then
      return fail(err)
    end
    pick_model(c, p, res.models)
  end)
end

--- :SidekickDisconnect — the active provider (or the one chosen), its key deleted.
function M.disconnect()
  run(function()
    local c = client()
    local st = providers(c)
    if not st then
      return
    end
    local connected = vim.tbl_filter(function(x)
      return x.connected
    end, st.providers)
    local p
    if st.active then
      p = vim.iter(connected):find(function(x)
        return x.id == st.active.provider
      end)
    end
    if not p and #connected > 0 then
      p = select_from(connected, 'Sidekick: disconnect which provider?', function(x)
        return x.name
      end)
    end
    if not p then
      return vim.notify('Sidekick: nothing is connected.', vim.log.levels.INFO)
    end
    M.stop()
    local err = request(c, 'sidekick/disconnect', { provider = p.id })
    if err then
      return fail(err)
    end
    vim.notify(('Sidekick: %s disconnected; its key is deleted.'):format(p.name), vim.log.levels.INFO)
  end)
end

-- ---- chat --------------------------------------------------------------------------------------

local function chat_buffer()
  local buf = vim.fn.bufnr('sidekick://chat')
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(buf, 'sidekick://chat')
    vim.bo[buf].filetype = 'markdown'
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].swapfile = false
  end
  if vim.fn.bufwinid(buf) == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
  end
  return buf
end

local function append(buf, lines)
  local n = vim.api.nvim_buf_line_count(buf)
  local empty = n == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ''
  vim.api.nvim_buf_set_lines(buf, empty and 0 or n, -1, false, lines)
end

--- The answer's lines, from its first line to the end of the buffer.
local function show_answer(ch, text)
  if not vim.api.nvim_buf_is_valid(ch.buf) then
    return
  end
  vim.api.nvim_buf_set_lines(ch.buf, ch.first_line, -1, false, vim.split(text, '\n', { plain = true }))
end

on_delta = function(p)
  local ch = state.chat
  if not ch or ch.done or p.chatId ~= ch.id then
    return -- a finished or stopped chat's late delta
  end
  ch.pending[p.seq] = p.text
  local grew = false
  while ch.pending[ch.next_seq] do
    ch.text = ch.text .. ch.pending[ch.next_seq]
    ch.pending[ch.next_seq] = nil
    ch.next_seq = ch.next_seq + 1
    grew = true
  end
  if grew then
    show_answer(ch, ch.text)
  end
end

on_status = function(p)
  if state.chat and p.chatId == state.chat.id then
    vim.notify('Sidekick: ' .. p.message, vim.log.levels.WARN)
  end
end

--- The instructions every question carries: setup's, else the workspace's file.
local function instructions()
  if type(M.config.instructions) == 'string' then
    return M.config.instructions
  end
  local path = vim.fs.joinpath(vim.fn.getcwd(), '.sidekick', 'instructions.md')
  if vim.fn.filereadable(path) == 1 then
    return table.concat(vim.fn.readfile(path), '\n')
  end
  return nil
end

--- :SidekickChat [question] — asks (with vim.ui.input when no question is given) and streams
--- the answer into sidekick://chat. `opts.drop_oldest`: leave out the oldest turns that do
--- not fit the model's window (the window guard's action).
function M.chat(question, opts)
  run(function()
    if state.chat then
      return vim.notify('Sidekick: an answer is still coming (:SidekickStop).', vim.log.levels.INFO)
    end
    question = question or input('Ask Sidekick: ')
    if not question or vim.trim(question) == '' then
      return
    end
    local c = client()
    local buf = chat_buffer()
    append(buf, vim.list_extend({ '## You', '' }, vim.split(question, '\n', { plain = true })))
    append(buf, { '', '## Sidekick', '' })
    state.count = state.count + 1
    local ch = {
      id = ('nvim-%d-%d'):format(vim.fn.getpid(), state.count),
      buf = buf,
      first_line = vim.api.nvim_buf_line_count(buf),
      pending = {},
      next_seq = 1,
      text = '',
    }
    state.chat = ch
    if not state.conversation then
      local cerr, created = request(c, 'sidekick/conversations/create', {})
      if cerr then
        state.chat = nil
        return fail(cerr)
      end
      state.conversation = created.id
    end
    -- The sidecar holds the conversation: only the new question goes, and the turn is kept
    -- whatever its ending.
    local text = instructions()
    local params = {
      chatId = ch.id,
      conversationId = state.conversation,
      messages = { { role = 'user', content = question } },
      instructions = (text and vim.trim(text) ~= '') and text or nil,
      dropOldest = (opts and opts.drop_oldest) or nil,
    }
    state.last_question = question
    local err, res = request(c, 'sidekick/chat', params, function(id, cb)
      ch.request_id = id
      ch.finish = cb
    end)
    ch.done = true
    show_ending(ch, err, res)
    -- How many messages the sidecar now keeps (the turn is stored whatever its ending).
    local gerr, kept = request(c, 'sidekick/conversations/get', { id = params.conversationId })
    if not gerr then
      state.history = #kept.messages
    end
    state.chat = nil
  end)
end

--- The end of an answer in the buffer: its text, or what came with the stop or the failure.
show_ending = function(ch, err, res)
  if not err then
    show_answer(ch, res.text)
    append(ch.buf, { '' })
    if res.droppedMessages then
      vim.notify(
        ('Sidekick: the %d oldest messages were left out to fit the model.'):format(res.droppedMessages),
        vim.log.levels.INFO
      )
    end
    return
  end
  local g = guidance.of(err)
  local partial = (g and g.partialText) or ch.text
  if err.code == CANCELLED then
    show_answer(ch, partial .. (partial ~= '' and '\n\n' or '') .. '*(stopped)*')
  elseif g then
    show_answer(ch, partial .. (partial ~= '' and '\n\n' or '') .. ('> **%s**: %s'):format(g.title, g.detail))
    guidance.show(g, M.run_command)
  else
    show_answer(ch, partial .. '\n\n> ' .. guidance.message(err))
  end
  append(ch.buf, { '' })
end

--- :SidekickStop — cancels the answer ($/cancelRequest); what arrived stays.
function M.stop()
  local ch = state.chat
  if not ch or not ch.request_id then
    return
  end
  local c = vim.lsp.get_client_by_id(state.client_id)
  if c then
    c:cancel_request(ch.request_id)
  end
  -- Neovim drops the server's cancellation reply: end the chat here.
  if ch.finish and not ch.done then
    ch.finish({ code = CANCELLED, message = 'stopped' }, nil)
  end
end

-- ---- conversations ---------------------------------------------------------------------------------

--- :SidekickNew — the next question starts a new conversation.
function M.new_chat()
  state.conversation = nil
  state.history = 0
  local buf = vim.fn.bufnr('sidekick://chat')
  if buf ~= -1 and vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  end
  vim.notify('Sidekick: new chat.', vim.log.levels.INFO)
end

local ENDINGS = { stopped = '*(stopped)*', interrupted = '*(interrupted)*', streaming = '*(still being written)*' }

--- :SidekickConversations — pick one of the sidecar's conversations (newest first, any
--- editor's) and go on with it in sidekick://chat.
function M.conversations()
  run(function()
    if state.chat then
      return vim.notify('Sidekick: an answer is still coming (:SidekickStop).', vim.log.levels.INFO)
    end
    local c = client()
    local err, res = request(c, 'sidekick/conversations/list', { limit = 100 })
    if err then
      return fail(err)
    end
    local choice = select_from(res.conversations, 'Conversations', function(cv)
      local title = cv.title ~= '' and cv.title or '(untitled)'
      return ('%s  · %s · %d messages'):format(title, cv.model or '—', cv.messageCount)
    end)
    if not choice then
      return
    end
    local gerr, cv = request(c, 'sidekick/conversations/get', { id = choice.id })
    if gerr then
      return fail(gerr)
    end
    local lines = {}
    for _, m in ipairs(cv.messages) do
      vim.list_extend(lines, { m.role == 'user' and '## You' or '## Sidekick', '' })
      local text = m.content
      if ENDINGS[m.status] then
        text = text .. (text ~= '' and '\n\n' or '') .. ENDINGS[m.status]
      elseif m.status == 'failed' then
        text = text .. (text ~= '' and '\n\n' or '') .. ('> failed: %s'):format(m.guidanceKind or 'error')
      end
      vim.list_extend(lines, vim.split(text, '\n', { plain = true }))
      table.insert(lines, '')
    end
    local buf = chat_buffer()
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    state.conversation = cv.id
    state.history = #cv.messages
  end)
end

--- Runs a command a guidance action names.
function M.run_command(command, args)
  if command == 'sidekick.selectYourAI' then
    M.select(args and args[1])
  elseif command == 'sidekick.selectModel' then
    M.select_model()
  elseif command == 'sidekick.newChat' then
    M.new_chat()
  elseif command == 'sidekick.showLogs' then
    vim.cmd('LspLog')
  elseif command == 'sidekick.showSpend' then
    M.log()
  elseif command == 'sidekick.dropOldest' and state.last_question then
    -- The guard refused before anything was sent: the same question again, oldest turns out.
    M.chat(state.last_question, { drop_oldest = true })
  elseif command == 'sidekick.openSettings' then
    vim.notify(
      "Sidekick: settings are setup()'s init_options (docs/protocol.md, Settings).",
      vim.log.levels.INFO
    )
  else
    vim.notify(('Sidekick: %s is a VS Code command; see docs/protocol.md.'):format(command), vim.log.levels.INFO)
  end
end

-- ---- the request log ---------------------------------------------------------------------------

--- :SidekickLog — the newest provider calls from the sidecar's ledger, in sidekick://log.
function M.log()
  run(function()
    local c = client()
    local err, res = request(c, 'sidekick/requestLog', { limit = 100 })
    if err then
      return fail(err)
    end
    local lines = { '# Sidekick request log', '' }
    for _, e in ipairs(res.entries or {}) do
      local cost = type(e.costUsd) == 'number' and ('$%.4f'):format(e.costUsd) or '—'
      table.insert(
        lines,
        ('%s  %-10s %-8s %-28s %-9s %s %s'):format(
          os.date('%Y-%m-%d %H:%M:%S', math.floor(e.startedAt / 1000)),
          e.provider,
          e.operation,
          e.model or '',
          e.outcome,
          e.guidanceKind or (e.httpStatus and tostring(e.httpStatus) or ''),
          cost
        )
      )
    end
    local buf = vim.fn.bufnr('sidekick://log')
    if buf == -1 then
      buf = vim.api.nvim_create_buf(true, true)
      vim.api.nvim_buf_set_name(buf, 'sidekick://log')
      vim.bo[buf].buftype = 'nofile'
    end
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
  end)
end

--- The state for tests and statuslines: whether an answer is streaming, the client id.
function M.status()
  return {
    streaming = state.chat ~= nil,
    client_id = state.client_id,
    conversation = state.conversation,
    history = state.history,
  }
end

return M
