-- Sidekick's user commands. The plugin starts nothing until one of them runs.
if vim.g.loaded_sidekick then
  return
end
vim.g.loaded_sidekick = true

local function sk()
  return require('sidekick')
end

vim.api.nvim_create_user_command('SidekickSelect', function()
  sk().select()
end, { desc = 'Sidekick: choose a provider, connect it, pick a model' })
vim.api.nvim_create_user_command('SidekickChat', function(o)
  sk().chat(o.args ~= '' and o.args or nil)
end, { nargs = '?', desc = 'Sidekick: ask a question; the answer streams into sidekick://chat' })
vim.api.nvim_create_user_command('SidekickStop', function()
  sk().stop()
end, { desc = 'Sidekick: stop the answer' })
vim.api.nvim_create_user_command('SidekickNew', function()
  sk().new_chat()
end, { desc = 'Sidekick: start a new conversation' })
vim.api.nvim_create_user_command('SidekickConversations', function()
  sk().conversations()
end, { desc = "Sidekick: pick up one of the sidecar's conversations" })
vim.api.nvim_create_user_command('SidekickDisconnect', function()
  sk().disconnect()
end, { desc = 'Sidekick: disconnect the provider and delete its key' })
vim.api.nvim_create_user_command('SidekickLog', function()
  sk().log()
end, { desc = 'Sidekick: the request log' })
