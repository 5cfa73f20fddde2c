-- A guidance (the sidecar's error.data for a failure a person must act on) shown the Neovim
-- way: vim.notify at the kind's level, then its buttons offered through vim.ui.select.

local M = {}

local WARN_KINDS = {
  rate_limited = true, overloaded = true, server_error = true, network = true, timeout = true,
  stream_interrupted = true, request_too_large = true, context_length_exceeded = true,
  budget_exceeded = true, admin_key_required = true,
}

--- The guidance in a JSON-RPC error, if it carries one (code -32001).
function M.of(err)
  if type(err) == 'table' and err.code == -32001 and type(err.data) == 'table' and err.data.kind then
    return err.data
  end
end

function M.level(g)
  if g.kind == 'not_connected' then
    return vim.log.levels.INFO
  end
  return WARN_KINDS[g.kind] and vim.log.levels.WARN or vim.log.levels.ERROR
end

--- Shows `g`; `on_command(command, arguments)` runs a chosen Sidekick command.
function M.show(g, on_command)
  vim.notify(('Sidekick: %s\n%s'):format(g.title, g.detail), M.level(g))
  local actions = g.actions or {}
  if #actions == 0 then
    return
  end
  vim.ui.select(actions, {
    prompt = 'Sidekick: ' .. g.title,
    format_item = function(a)
      return a.title
    end,
  }, function(a)
    if not a then
      return
    end
    if a.url then
      if vim.ui.open then
        vim.ui.open(a.url)
      else
        vim.notify('Sidekick: open ' .. a.url, vim.log.levels.INFO)
      end
    elseif a.command and on_command then
      on_command(a.command, a.arguments or {})
    end
  end)
end

--- One line for any error: the guidance's title, or the JSON-RPC message.
function M.message(err)
  local g = M.of(err)
  if g then
    return g.title
  end
  return type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
end

return M
